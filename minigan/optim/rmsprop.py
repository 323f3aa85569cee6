"""RMSprop, as torch.optim.RMSprop."""
from minigan import backend
from minigan.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e), as torch.optim.RMSprop.

    g <- g + wd p; v <- alpha v + (1 - alpha) g^2; centred: a <- alpha a + (1 - alpha) g and the
    denominator is sqrt(v - a^2) + eps, else sqrt(v) + eps; with momentum mu,
    b <- mu b + g / denominator and p <- p - lr b, else p <- p - lr g / denominator.
    State: step, square_avg, and momentum_buffer / grad_avg when used.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param)
        t = param.dtype.type
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param)
        state["step"] += 1
        alpha = group["alpha"]
        if group["weight_decay"]:
            grad = grad + param * t(group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg *= t(alpha)
        square_avg += grad * grad * t(1 - alpha)
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", xp.zeros_like(param))
            grad_avg *= t(alpha)
            grad_avg += grad * t(1 - alpha)
            denom = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denom = xp.sqrt(square_avg)
        denom += t(group["eps"])
        if group["momentum"] > 0:
            buf = state.setdefault("momentum_buffer", xp.zeros_like(param))
            buf *= t(group["momentum"])
            buf += grad / denom
            param -= buf * t(group["lr"])
        else:
            param -= grad / denom * t(group["lr"])
