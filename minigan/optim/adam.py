"""Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW."""
import functools

from minigan import backend, kernels
from minigan.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as torch.optim.Adam, with L2 or decoupled weight decay and AMSGrad.

    At step t with gradient g: g <- g + wd p (L2), or p <- p (1 - lr wd) with
    ``decoupled_weight_decay`` (AdamW); m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    with ``amsgrad`` (Reddi et al. 2018) v_max <- max(v_max, v) and v_max replaces v below;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).

    The update is the registry primitive ``adam_update`` (reference in kernels/reference.py; fused
    ones where available). State: step (int), exp_avg, exp_avg_sq, and max_exp_avg_sq with amsgrad.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 decoupled_weight_decay=False):
        betas = tuple(betas)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        lr, weight_decay = group["lr"], group["weight_decay"]
        if group["decoupled_weight_decay"] and weight_decay:
            # Decay the parameter itself, before the step (as torch), and keep it out of the moments: the
            # kernel then runs with no L2 term, so AdamW gets the fused kernels too.
            param *= param.dtype.type(1 - lr * weight_decay)
            weight_decay = 0
        if group["amsgrad"]:
            # The fused kernels have no operand for the running maximum; the reference takes it. setdefault
            # also covers amsgrad switched on mid-run: the maximum starts from zeros, as on a first step.
            update = functools.partial(kernels.get("adam_update", xp, name="reference"),
                                       max_v=state.setdefault("max_exp_avg_sq", xp.zeros_like(param)))
        else:
            update = kernels.get("adam_update", xp)
        beta1, beta2 = group["betas"]
        update(param, grad, state["exp_avg"], state["exp_avg_sq"], lr, beta1, beta2, group["eps"], weight_decay,
               state["step"])


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019), as torch.optim.AdamW: Adam with decoupled weight decay.

    p <- p (1 - lr wd) and then Adam's step without an L2 term. L2 decay added to the gradient is
    divided by sqrt(v) like the rest of it, so parameters with large gradients are barely decayed;
    decoupled, every parameter shrinks by the same factor. torch's default wd is 0.01.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)
