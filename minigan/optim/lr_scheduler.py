"""Learning-rate schedules, as torch.optim.lr_scheduler: a scheduler rewrites its optimiser's
``group["lr"]`` at every ``step()``, called after ``optimizer.step()`` (once per epoch, or per iteration).

The semantics are PyTorch's, so a loop ported from it follows the same schedule, value for value:

- Construction records each group's lr as ``group["initial_lr"]`` (``base_lrs``) and performs the first
  step, which sets epoch 0's lrs; ``last_epoch`` then counts the steps taken since (0 after
  construction). ``get_last_lr()`` lists the lrs the last step set. Learning rates stay Python floats.
  ReduceLROnPlateau and ChainedScheduler, as torch's, take no first step (the chain's schedulers take
  their own).
- Most schedules compute the next lr from the group's current one, as torch writes them (each class's
  docstring gives the closed form). So schedulers stack: two on one optimiser multiply their factors,
  and an lr set by hand carries on from where it was put.
- CyclicLR and OneCycleLR also cycle the momentum (SGD's and RMSprop's ``momentum``, Adam's beta1).
- ``state_dict()`` is JSON-able: every attribute but the optimiser. Functions (the lambdas of LambdaLR
  and MultiplicativeLR, CyclicLR's scale_fn) are code, not data: they are saved as None, callable
  objects as their attributes, as torch does. To resume, build the optimiser and scheduler as before,
  then load both state dicts; the optimiser's carries the current lrs.
- ``step(epoch)``, deprecated in PyTorch, is not offered, but for CosineAnnealingWarmRestarts, where
  torch documents it for fractional epochs. ReduceLROnPlateau's is ``step(metrics)``.
"""
import bisect
import copy
import math
import types

from minigan.functional.arguments import is_int, is_number
from minigan.optim.optimizer import Optimizer
from minigan.tensor import Tensor


def _check(scheduler, name, value, ok, expected):
    if not ok:
        raise ValueError(f"{type(scheduler).__name__}: {name} must be {expected}, got {value!r}")


def _check_optimizer(scheduler, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(scheduler).__name__}: optimizer must be a minigan.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")


def _positive_int(scheduler, name, value):
    _check(scheduler, name, value, is_int(value) and value >= 1, "a positive integer")
    return int(value)


def _non_negative_int(scheduler, name, value):
    _check(scheduler, name, value, is_int(value) and value >= 0, "an integer >= 0")
    return int(value)


def _last_epoch(scheduler, last_epoch):
    _check(scheduler, "last_epoch", last_epoch, is_int(last_epoch) and last_epoch >= -1, "an integer >= -1")
    return int(last_epoch)


def _number(scheduler, name, value, ok, expected):
    """A checked number as a Python float (a NumPy scalar would make the state dict not JSON-able)."""
    _check(scheduler, name, value, is_number(value) and ok(value), expected)
    return float(value)


def _per_group(scheduler, optimizer, name, value, ok, expected):
    """A checked number, or a list or tuple of one per parameter group, as a list of Python floats."""
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    _check(scheduler, name, value, len(values) == groups and all(is_number(v) and ok(v) for v in values),
           f"{expected}, or a list of {groups} of them (one per parameter group)")
    return [float(v) for v in values]


def _gamma(scheduler, gamma):
    # Above 1 is allowed, as in torch: a growing ExponentialLR is how an lr range test sweeps.
    return _number(scheduler, "gamma", gamma, lambda g: g > 0, "a number > 0")


def _momentum(scheduler, optimizer, name, value):
    # Below 1: Adam's bias correction divides by 1 - beta1^t, and SGD's momentum diverges from 1 on.
    return _per_group(scheduler, optimizer, name, value, lambda m: 0 <= m < 1, "a number in [0, 1)")


def _momentum_in_betas(scheduler, optimizer):
    """Where ``cycle_momentum`` puts the momentum: True for beta1 (Adam, AdamW), False for the group's
    "momentum" (SGD, RMSprop)."""
    _check(scheduler, "optimizer", type(optimizer).__name__,
           "betas" in optimizer.defaults or "momentum" in optimizer.defaults,
           "an optimiser with a momentum or betas to cycle (or pass cycle_momentum=False)")
    return "betas" in optimizer.defaults


def _set_momentum(group, in_betas, momentum):
    if in_betas:
        group["betas"] = (float(momentum), *group["betas"][1:])  # beta2 stays
    else:
        group["momentum"] = float(momentum)


def _function_state(fn):
    """A function as data. Code is not data: functions and lambdas are saved as None (the rebuilt
    scheduler has them), callable objects as their attributes, which is where such an object keeps its
    state."""
    return None if fn is None or isinstance(fn, types.FunctionType) else copy.deepcopy(vars(fn))


def _load_function_state(fn, saved):
    if saved is not None:
        vars(fn).update(copy.deepcopy(saved))


class LRScheduler:
    """Base class. Subclasses define ``get_lr()``: the lrs for epoch ``last_epoch`` (already advanced),
    one per parameter group, and ``_closed_form_lr()`` where the schedule has one (SequentialLR uses it)."""

    _is_initial = False  # True only during the step that construction performs (see _initial_step)

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        _check_optimizer(self, optimizer)
        last_epoch = _last_epoch(self, last_epoch)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", float(group["lr"]))
            elif "initial_lr" not in group:
                raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr' to resume from at last_epoch="
                               f"{last_epoch}; load the optimiser's state dict saved beside the scheduler first")
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The step construction performs (SequentialLR repeats it for its first scheduler). Recursive
        schedules look at ``_is_initial`` to leave the lrs they were given as they are."""
        self._is_initial = True
        try:
            self.step()
        finally:
            del self._is_initial  # back to the class's False, so that state_dict never holds it

    def _undo_initial_step(self):
        self.last_epoch -= 1

    def get_lr(self):
        raise NotImplementedError

    def _closed_form_lr(self):
        """The lrs at ``last_epoch`` from ``base_lrs`` alone. The lambda schedules have none and, as in
        torch, fall back to ``get_lr``."""
        return self.get_lr()

    def step(self):
        """Advance one epoch and set every group's lr."""
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _restart(self):
        """Jump to epoch 0 by the closed form, as SequentialLR does when this scheduler's turn comes
        (torch's ``step(0)``)."""
        self.last_epoch = 0
        self._set_lrs(self._closed_form_lr())

    def _set_lrs(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = float(lr)  # an lr set by hand may be a NumPy scalar: keep groups and state dicts plain
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The lrs the last step set, one per parameter group."""
        return list(self._last_lr)

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def _scaled(self, factor):
        return [lr * factor for lr in self._group_lrs()]

    # -- state dicts -------------------------------------------------------------------------------
    def state_dict(self):
        """Every attribute but the optimiser, as JSON-able data (copies)."""
        return {key: self._saved(key, value) for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` returned (also after a JSON round trip). The lrs themselves come
        back with the optimiser's state dict."""
        name = type(self).__name__
        expected = set(vars(self)) - {"optimizer"}
        if set(state_dict) != expected:
            raise ValueError(f"{name}.load_state_dict: missing {sorted(expected - set(state_dict))}, unexpected "
                             f"{sorted(set(state_dict) - expected)} (the state of another scheduler?)")
        groups = len(self.optimizer.param_groups)
        if len(state_dict["_last_lr"]) != groups:
            raise ValueError(f"{name}.load_state_dict: the state has {len(state_dict['_last_lr'])} parameter "
                             f"groups, the optimiser {groups}")
        for key, value in state_dict.items():
            self._restore(key, value)

    def _saved(self, key, value):
        """One attribute as data; subclasses turn the objects they hold (callables, schedulers) into it."""
        return copy.deepcopy(value)

    def _restore(self, key, value):
        setattr(self, key, copy.deepcopy(value))


class _LambdaScheduler(LRScheduler):
    """LambdaLR's and MultiplicativeLR's shared part: a function of the epoch per parameter group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(self, optimizer)
        groups = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        _check(self, "lr_lambda", lr_lambda, len(lambdas) == groups and all(callable(fn) for fn in lambdas),
               f"a function or a list of {groups} functions, one per parameter group")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def _factor(self, fn):
        # A Python float: a NumPy float32 from the function would otherwise round the lr to float32.
        return float(fn(self.last_epoch))

    def _saved(self, key, value):
        return [_function_state(fn) for fn in value] if key == "lr_lambdas" else super()._saved(key, value)

    def _restore(self, key, value):
        if key != "lr_lambdas":
            return super()._restore(key, value)
        for fn, saved in zip(self.lr_lambdas, value):
            _load_function_state(fn, saved)


class LambdaLR(_LambdaScheduler):
    """lr_t = base_lr * lr_lambda(t)."""

    def get_lr(self):
        return [base_lr * self._factor(fn) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """lr_t = lr_{t-1} * lr_lambda(t) for t >= 1, so lr_t = base_lr * prod_{s=1..t} lr_lambda(s)."""

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        return [lr * self._factor(fn) for fn, lr in zip(self.lr_lambdas, self._group_lrs())]


class StepLR(LRScheduler):
    """lr_t = base_lr * gamma^floor(t / step_size): decay by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _positive_int(self, "step_size", step_size)
        self.gamma = _gamma(self, gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return self._group_lrs()
        return self._scaled(self.gamma)

    def _closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr_t = base_lr * gamma^(number of milestones <= t); a milestone listed twice decays twice."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        _check(self, "milestones", milestones, all(is_int(m) and m >= 0 for m in milestones),
               "a list of integers >= 0")
        self.milestones = sorted(int(m) for m in milestones)  # a sorted list, not torch's Counter: JSON-able
        self.gamma = _gamma(self, gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        repeats = self.milestones.count(self.last_epoch)
        return self._scaled(self.gamma ** repeats) if repeats else self._group_lrs()

    def _closed_form_lr(self):
        return [base_lr * self.gamma ** bisect.bisect_right(self.milestones, self.last_epoch)
                for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr_t = base_lr * factor for t < total_iters, then base_lr."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        self.factor = _number(self, "factor", factor, lambda f: 0 < f <= 1, "a number in (0, 1]")
        self.total_iters = _positive_int(self, "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._scaled(self.factor)
        if self.last_epoch != self.total_iters:
            return self._group_lrs()
        return self._scaled(1.0 / self.factor)

    def _closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """lr_t = base_lr * (s + (e - s) * min(t, T) / T): from start_factor s to end_factor e over
    total_iters T epochs (a linear warm-up with the defaults), then constant."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        self.start_factor = _number(self, "start_factor", start_factor, lambda f: 0 < f <= 1, "a number in (0, 1]")
        self.end_factor = _number(self, "end_factor", end_factor, lambda f: 0 <= f <= 1, "a number in [0, 1]")
        self.total_iters = _positive_int(self, "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._scaled(self.start_factor)
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        # The ratio of consecutive closed-form factors, s + (e - s) t / T over s + (e - s) (t - 1) / T.
        delta = self.end_factor - self.start_factor
        return self._scaled(1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta))

    def _closed_form_lr(self):
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr_t = base_lr * gamma^t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _gamma(self, gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return self._group_lrs() if self._is_initial else self._scaled(self.gamma)

    def _closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr_t = base_lr * (1 - min(t, T) / T)^power: down to 0 at epoch total_iters T, then 0."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = _positive_int(self, "total_iters", total_iters)
        self.power = _number(self, "power", power, lambda p: p >= 0, "a number >= 0")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        # The ratio of consecutive closed-form factors; 0 at t = T, after which the lr stays put.
        t, total = self.last_epoch, self.total_iters
        return self._scaled(((1.0 - t / total) / (1.0 - (t - 1) / total)) ** self.power)

    def _closed_form_lr(self):
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr_t = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2 (SGDR's annealing, Loshchilov &
    Hutter 2017, without its restarts): from base_lr down to eta_min at t = T_max and, as in torch, back
    up again over the next T_max epochs, with period 2 T_max."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _positive_int(self, "T_max", T_max)
        self.eta_min = _number(self, "eta_min", eta_min, lambda e: e >= 0, "a number >= 0")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        t, period = self.last_epoch, self.T_max
        if (t - 1 - period) % (2 * period) == 0:
            # The last epoch sat at the trough, where the ratio below is 0 / 0: add the closed form's rise.
            return [lr + (base_lr - self.eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base_lr in zip(self._group_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in self._group_lrs()]

    def _closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter 2017): lr = eta_min + (base_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2,
    T_cur the epochs since the last restart and T_i the current cycle's length: T_0 epochs, each cycle
    T_mult times longer than the one before, and back to base_lr at every restart. Cycle n (from 0)
    starts at epoch T_0 (T_mult^n - 1) / (T_mult - 1) (n T_0 for T_mult = 1).

    ``step()`` advances one epoch; ``step(epoch)`` jumps to ``epoch``, which may be fractional, as in
    torch: calling ``step(epoch + i / iters)`` after batch i of an epoch anneals within the epoch."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = self.T_i = _positive_int(self, "T_0", T_0)
        self.T_mult = _positive_int(self, "T_mult", T_mult)
        self.eta_min = _number(self, "eta_min", eta_min, lambda e: e >= 0, "a number >= 0")
        self.T_cur = _last_epoch(self, last_epoch)  # resuming counts on from last_epoch in the first cycle
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or with ``epoch`` (a number >= 0) go to that epoch; set every group's lr."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0  # construction's step (also when SequentialLR replays it) starts the first cycle
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i  # a fractional T_cur keeps its fraction across the restart
                self.T_i *= self.T_mult
        else:
            _check(self, "epoch", epoch, is_number(epoch) and epoch >= 0, "a number >= 0")
            epoch = int(epoch) if is_int(epoch) else float(epoch)
            self.T_i, self.T_cur = self._cycle_at(epoch)
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

    def _cycle_at(self, epoch):
        """(T_i, T_cur) at ``epoch``."""
        if epoch < self.T_0:
            return self.T_0, epoch
        if self.T_mult == 1:
            return self.T_0, epoch % self.T_0
        n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        # The log can land on the wrong side of a restart: log(243, 3) = 4.999..., which would put
        # epoch 121 of T_0 = 1, T_mult = 3 at the end of cycle 4 (lr eta_min) instead of the start of
        # cycle 5 (base_lr). The exact integer cycle starts settle it.
        while self._cycle_start(n + 1) <= epoch:
            n += 1
        while self._cycle_start(n) > epoch:
            n -= 1
        return self.T_0 * self.T_mult ** n, epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)

    def _cycle_start(self, n):
        return self.T_0 * (self.T_mult ** n - 1) // (self.T_mult - 1)


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith 2017), stepped per batch: up from base_lr to max_lr over
    step_size_up steps, back down over step_size_down, and again, each cycle's height scaled:

        lr_t = base_lr + (max_lr - base_lr) * h(x) * scale_fn(c or t),
        c = floor(1 + t / L) (the cycle, from 1),  x = 1 + t / L - c (the position in it, in [0, 1)),

    L = step_size_up + step_size_down and h the triangle from 0 up to 1 at x = step_size_up / L and
    back to 0 at x = 1. The mode picks scale_fn: "triangular" 1; "triangular2" 1 / 2^(c - 1), halving
    each cycle; "exp_range" gamma^t. A custom ``scale_fn`` replaces the mode, as a function of the cycle
    c (``scale_mode="cycle"``) or of the step t ("iterations"), with values in [0, 1].

    With ``cycle_momentum``, the momentum (Adam's beta1) moves the other way, from max_momentum down
    to base_momentum at the top: max_momentum - (max_momentum - base_momentum) * h(x) * scale_fn(.).
    Construction sets each group's lr to base_lr (unless resuming). As in torch, that first step takes
    its base from the groups' ``initial_lr``, which an earlier scheduler on the optimiser may have set.
    """

    _MODES = ("triangular", "triangular2", "exp_range")

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        _check_optimizer(self, optimizer)
        # Every check before the groups change, so that a bad argument leaves the optimiser as it was.
        last_epoch = _last_epoch(self, last_epoch)
        base_lrs = _per_group(self, optimizer, "base_lr", base_lr, lambda lr: lr >= 0, "a number >= 0")
        self.max_lrs = _per_group(self, optimizer, "max_lr", max_lr, lambda lr: lr >= 0, "a number >= 0")
        up = _positive_int(self, "step_size_up", step_size_up)
        down = up if step_size_down is None else _positive_int(self, "step_size_down", step_size_down)
        self.total_size = float(up + down)
        self.step_ratio = up / self.total_size
        _check(self, "mode", mode, mode in self._MODES, f"one of {', '.join(self._MODES)}")
        self.mode = mode
        self.gamma = _gamma(self, gamma)
        _check(self, "scale_fn", scale_fn, scale_fn is None or callable(scale_fn), "a function or None")
        _check(self, "scale_mode", scale_mode, scale_mode in ("cycle", "iterations"), "'cycle' or 'iterations'")
        self._scale_fn_custom = scale_fn
        # A mode fixes what its function is of: exp_range decays with every step, the triangles by cycle.
        self.scale_mode = scale_mode if scale_fn is not None else "iterations" if mode == "exp_range" else "cycle"
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _momentum_in_betas(self, optimizer)
            self.base_momentums = _momentum(self, optimizer, "base_momentum", base_momentum)
            self.max_momentums = _momentum(self, optimizer, "max_momentum", max_momentum)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        """The cycle's height scale at cycle (or step) x: the custom scale_fn's, or the mode's."""
        if self._scale_fn_custom is not None:
            return float(self._scale_fn_custom(x))  # a float: a NumPy float32 would round the lr to float32
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, self.use_beta1, high - (high - low) * height * scale)
        return [low + (high - low) * height * scale for low, high in zip(self.base_lrs, self.max_lrs)]

    def _saved(self, key, value):
        return _function_state(value) if key == "_scale_fn_custom" else super()._saved(key, value)

    def _restore(self, key, value):
        if key == "_scale_fn_custom":
            _load_function_state(self._scale_fn_custom, value)
        else:
            super()._restore(key, value)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2019), stepped per batch over total_steps steps (or epochs *
    steps_per_epoch): the lr anneals from initial_lr = max_lr / div_factor up to max_lr over the first
    pct_start of the steps, then down to min_lr = initial_lr / final_div_factor at step total_steps - 1.
    ``three_phase`` (the paper's schedule; two phases are fastai's) comes back down to initial_lr
    symmetrically first, and only then anneals to min_lr.

    Annealing from a to b as p goes from 0 to 1: "cos" b + (a - b) (1 + cos(pi p)) / 2, "linear"
    a + (b - a) p. Phase boundaries are at steps pct_start * total_steps - 1 (three phases: and
    2 pct_start total_steps - 2), then total_steps - 1. With ``cycle_momentum`` the momentum (Adam's
    beta1) anneals the other way: max_momentum to base_momentum while the lr rises, and back.

    As in torch, the groups hold the schedule's ends (initial_lr, max_lr, min_lr, max_momentum,
    base_momentum), and one step past the last, to step total_steps, is allowed, so that a loop calling
    ``step()`` after each of total_steps batches runs; its lr continues the last phase's curve. A step
    beyond raises.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(self, optimizer)
        # Every check before the groups change, so that a bad argument leaves the optimiser as it was.
        last_epoch = _last_epoch(self, last_epoch)
        if total_steps is None and epochs is not None and steps_per_epoch is not None:
            total_steps = (_positive_int(self, "epochs", epochs)
                           * _positive_int(self, "steps_per_epoch", steps_per_epoch))
        _check(self, "total_steps", total_steps, is_int(total_steps) and total_steps >= 1,
               "a positive integer (or leave it None and give epochs and steps_per_epoch)")
        self.total_steps = int(total_steps)
        self.pct_start = _number(self, "pct_start", pct_start, lambda p: 0 <= p <= 1, "a number in [0, 1]")
        self.three_phase = bool(three_phase)
        start = 0.0
        for end, _, _ in self._phases():
            # torch divides by zero in a phase with no length: at step 0 when pct_start * total_steps = 1,
            # at step total_steps when the last phase starts at total_steps - 1.
            _check(self, "pct_start", pct_start, end != start,
                   f"a number that leaves no phase of zero length over total_steps={self.total_steps}")
            start = end
        _check(self, "anneal_strategy", anneal_strategy, anneal_strategy in ("cos", "linear"), "'cos' or 'linear'")
        self.anneal_strategy = anneal_strategy
        max_lrs = _per_group(self, optimizer, "max_lr", max_lr, lambda lr: lr >= 0, "a number >= 0")
        div_factor = _number(self, "div_factor", div_factor, lambda f: f > 0, "a number > 0")
        final_div_factor = _number(self, "final_div_factor", final_div_factor, lambda f: f > 0, "a number > 0")
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _momentum_in_betas(self, optimizer)
            base_momentums = _momentum(self, optimizer, "base_momentum", base_momentum)
            max_momentums = _momentum(self, optimizer, "max_momentum", max_momentum)
        if last_epoch == -1:
            # initial_lr is overwritten, not kept as other schedulers keep it: it is this schedule's start.
            for i, group in enumerate(optimizer.param_groups):
                group["initial_lr"] = max_lrs[i] / div_factor
                group["max_lr"] = max_lrs[i]
                group["min_lr"] = group["initial_lr"] / final_div_factor
                if self.cycle_momentum:
                    group["max_momentum"], group["base_momentum"] = max_momentums[i], base_momentums[i]
        super().__init__(optimizer, last_epoch)

    def _phases(self):
        """(last step, lr from and to, momentum from and to) of each phase, the ends named by their
        group keys; a phase starts where the one before it ended (the first at step 0)."""
        up = float(self.pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if not self.three_phase:
            return [(up, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum")),
                    (last, ("max_lr", "min_lr"), ("base_momentum", "max_momentum"))]
        return [(up, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum")),
                (float(2 * self.pct_start * self.total_steps) - 2, ("max_lr", "initial_lr"),
                 ("base_momentum", "max_momentum")),
                (last, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum"))]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped to step {t}, but total_steps is {self.total_steps} (the "
                             f"schedule has steps 0 to {self.total_steps - 1}, and one step more)")
        phases = self._phases()
        start = 0.0
        for i, (end, (lr_from, lr_to), (momentum_from, momentum_to)) in enumerate(phases):
            if t <= end or i == len(phases) - 1:
                break
            start = end
        pct = (t - start) / (end - start)
        if self.cycle_momentum:
            for group in self.optimizer.param_groups:
                _set_momentum(group, self.use_beta1, self._anneal(group[momentum_from], group[momentum_to], pct))
        return [self._anneal(group[lr_from], group[lr_to], pct) for group in self.optimizer.param_groups]


class ReduceLROnPlateau(LRScheduler):
    """Multiply every group's lr by factor (not below its min_lr) when the metric given to
    ``step(metrics)`` has not improved for more than patience steps in a row; then wait cooldown steps
    before counting again. A reduction by less than eps is skipped.

    Improvement is against the best metric so far (which starts at +inf, or -inf in mode "max"): in mode
    "min" metric < best (1 - threshold) (``threshold_mode="rel"``) or metric < best - threshold ("abs");
    in mode "max" metric > best (1 + threshold) or metric > best + threshold. As in torch, construction
    takes no step and records no initial_lr. The state dict keeps ``best`` as a float, infinite until a
    finite metric improves on it; Python's json writes and reads that as Infinity.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        _check(self, "mode", mode, mode in ("min", "max"), "'min' or 'max'")
        _check(self, "threshold_mode", threshold_mode, threshold_mode in ("rel", "abs"), "'rel' or 'abs'")
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = _number(self, "factor", factor, lambda f: 0 <= f < 1, "a number in [0, 1)")
        self.patience = _non_negative_int(self, "patience", patience)
        self.threshold = _number(self, "threshold", threshold, lambda t: t >= 0, "a number >= 0")
        self.cooldown = _non_negative_int(self, "cooldown", cooldown)
        self.min_lrs = _per_group(self, optimizer, "min_lr", min_lr, lambda lr: lr >= 0, "a number >= 0")
        # A single min_lr also covers groups added later; a list cannot say what a new group's is.
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else self.min_lrs[0]
        self.eps = _number(self, "eps", eps, lambda e: e >= 0, "a number >= 0")
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [float(lr) for lr in self._group_lrs()]

    def step(self, metrics):
        """Take the epoch's metric (a number or a one-element Tensor, e.g. the validation loss)."""
        if isinstance(metrics, Tensor) and metrics.data.size == 1:
            metrics = metrics.item()
        _check(self, "metrics", metrics, is_number(metrics), "a number or a one-element Tensor")
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # the steps of the cooldown do not count against the metric
        if self.num_bad_epochs > self.patience:
            self._reduce_lrs()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(lr) for lr in self._group_lrs()]

    def _is_better(self, current):
        if self.mode == "min":
            return current < (self.best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                              else self.best - self.threshold)
        return current > (self.best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                          else self.best + self.threshold)

    def _reduce_lrs(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups, but "
                                   f"min_lr gave {len(self.min_lrs)}; set min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new


class _Composite(LRScheduler):
    """SequentialLR's and ChainedScheduler's shared part: a list of schedulers of one optimiser, whose
    states the composite's state dict nests."""

    def _check_schedulers(self, optimizer, schedulers):
        _check(self, "schedulers", schedulers, len(schedulers) > 0, "a non-empty list")
        for i, scheduler in enumerate(schedulers):
            _check(self, f"schedulers[{i}]", scheduler,
                   isinstance(scheduler, LRScheduler) and scheduler.optimizer is optimizer,
                   "a scheduler of the same optimizer")
            # Its step needs a metric, which a composite has none of to give it (torch refuses it too).
            _check(self, f"schedulers[{i}]", scheduler, not isinstance(scheduler, ReduceLROnPlateau),
                   "a scheduler whose step() takes no metric, not ReduceLROnPlateau")

    def _undo_initial_step(self):
        for scheduler in self._schedulers:
            scheduler._undo_initial_step()

    def _saved(self, key, value):
        return [s.state_dict() for s in value] if key == "_schedulers" else super()._saved(key, value)

    def _restore(self, key, value):
        if key != "_schedulers":
            return super()._restore(key, value)
        for scheduler, saved in zip(self._schedulers, value):
            scheduler.load_state_dict(saved)


class SequentialLR(_Composite):
    """schedulers[0] until epoch milestones[0], then schedulers[1] restarted at its own epoch 0 (its
    closed form there, as torch's ``step(0)``), and so on: e.g. a LinearLR warm-up, then cosine decay."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        schedulers, milestones = list(schedulers), list(milestones)
        self._check_schedulers(optimizer, schedulers)
        for i, scheduler in enumerate(schedulers[1:], 1):
            # A composite has no lr of its own to restart from (torch fails at the milestone).
            _check(self, f"schedulers[{i}]", scheduler, not isinstance(scheduler, _Composite),
                   "a scheduler that can restart at its epoch 0, not a SequentialLR or ChainedScheduler, after "
                   "the first")
        _check(self, "milestones", milestones,
               len(milestones) == len(schedulers) - 1 and all(is_int(m) for m in milestones)
               and all(a < b for a, b in zip([0] + milestones, milestones)),
               f"{len(schedulers) - 1} increasing positive integers (one fewer than the schedulers)")
        # No LRScheduler.__init__, as in torch: the schedulers have already recorded initial_lr and taken
        # their first steps. Undo those steps, then replay the first scheduler's alone.
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = [int(m) for m in milestones]
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_initial_step()
        schedulers[0]._initial_step()
        self._last_lr = schedulers[0].get_last_lr()

    def step(self):
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Every scheduler of ``schedulers`` steps, in order, at each ``step()``, so their factors multiply:
    e.g. a ConstantLR warm-up under an ExponentialLR decay. The schedulers took their first steps when
    they were built; the chain takes none, and, as torch's, has no last_epoch of its own. ``optimizer``
    defaults to the first scheduler's."""

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if optimizer is None and schedulers:
            optimizer = getattr(schedulers[0], "optimizer", None)
        self._check_schedulers(optimizer, schedulers)
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._last_lr = [float(lr) for lr in self._group_lrs()]

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [float(lr) for lr in self._group_lrs()]
