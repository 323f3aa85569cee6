"""SGD, as torch.optim.SGD."""
from minigan.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 weight decay.

    As torch.optim.SGD: g <- g + wd p; with momentum mu, b <- g on the first step and
    b <- mu b + (1 - dampening) g after; g <- g + mu b (Nesterov) or g <- b; then p <- p - lr g.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _update(self, param, grad, state, group):
        t = param.dtype.type
        if group["weight_decay"]:
            grad = grad + param * t(group["weight_decay"])
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.astype(param.dtype, copy=True)
            else:
                buf *= t(momentum)
                buf += grad * t(1 - group["dampening"])
            grad = grad + buf * t(momentum) if group["nesterov"] else buf
        param -= grad * t(group["lr"])
