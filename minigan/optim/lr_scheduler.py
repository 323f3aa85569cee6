"""Learning-rate schedules, as torch.optim.lr_scheduler: a scheduler rewrites its optimiser's
``group["lr"]`` at every ``step()``, called after ``optimizer.step()`` (once per epoch, or per iteration).

The semantics are PyTorch's, so a loop ported from it follows the same schedule, value for value:

- Construction records each group's lr as ``group["initial_lr"]`` (``base_lrs``) and performs the first
  step, which sets epoch 0's lrs; ``last_epoch`` then counts the steps taken since (0 after
  construction). ``get_last_lr()`` lists the lrs the last step set. Learning rates stay Python floats.
- Most schedules compute the next lr from the group's current one, as torch writes them (each class's
  docstring gives the closed form). So schedulers stack: two on one optimiser multiply their factors,
  and an lr set by hand carries on from where it was put.
- ``state_dict()`` is JSON-able: every attribute but the optimiser. Functions (the lambdas of LambdaLR
  and MultiplicativeLR) are code, not data: they are saved as None, callable objects as their
  attributes, as torch does. To resume, build the optimiser and scheduler as before, then load both
  state dicts; the optimiser's carries the current lrs.
- ``step(epoch)``, deprecated in PyTorch, is not offered.
"""
import bisect
import copy
import math
import types

from minigan.functional.arguments import is_int, is_number
from minigan.optim.optimizer import Optimizer


def _check(scheduler, name, value, ok, expected):
    if not ok:
        raise ValueError(f"{type(scheduler).__name__}: {name} must be {expected}, got {value!r}")


def _positive_int(scheduler, name, value):
    _check(scheduler, name, value, is_int(value) and value >= 1, "a positive integer")
    return int(value)


def _number(scheduler, name, value, ok, expected):
    """A checked number as a Python float (a NumPy scalar would make the state dict not JSON-able)."""
    _check(scheduler, name, value, is_number(value) and ok(value), expected)
    return float(value)


def _gamma(scheduler, gamma):
    # Above 1 is allowed, as in torch: a growing ExponentialLR is how an lr range test sweeps.
    return _number(scheduler, "gamma", gamma, lambda g: g > 0, "a number > 0")


class LRScheduler:
    """Base class. Subclasses define ``get_lr()``: the lrs for epoch ``last_epoch`` (already advanced),
    one per parameter group, and ``_closed_form_lr()`` where the schedule has one (SequentialLR uses it)."""

    _is_initial = False  # True only during the step that construction performs (see _initial_step)

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: optimizer must be a minigan.optim.Optimizer, got {type(optimizer).__name__}")
        _check(self, "last_epoch", last_epoch, is_int(last_epoch) and last_epoch >= -1, "an integer >= -1")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", float(group["lr"]))
            elif "initial_lr" not in group:
                raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr' to resume from at last_epoch="
                               f"{last_epoch}; load the optimiser's state dict saved beside the scheduler first")
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
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
        if key != "lr_lambdas":
            return super()._saved(key, value)
        # Code is not data: functions and lambdas are saved as None (the rebuilt scheduler has them),
        # callable objects as their attributes, which is where such an object keeps its state.
        return [None if isinstance(fn, types.FunctionType) else copy.deepcopy(vars(fn)) for fn in value]

    def _restore(self, key, value):
        if key != "lr_lambdas":
            return super()._restore(key, value)
        for fn, saved in zip(self.lr_lambdas, value):
            if saved is not None:
                vars(fn).update(copy.deepcopy(saved))


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


class SequentialLR(LRScheduler):
    """schedulers[0] until epoch milestones[0], then schedulers[1] restarted at its own epoch 0 (its
    closed form there, as torch's ``step(0)``), and so on: e.g. a LinearLR warm-up, then cosine decay."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        schedulers, milestones = list(schedulers), list(milestones)
        _check(self, "schedulers", schedulers, len(schedulers) > 0, "a non-empty list")
        for i, scheduler in enumerate(schedulers):
            _check(self, f"schedulers[{i}]", scheduler,
                   isinstance(scheduler, LRScheduler) and scheduler.optimizer is optimizer,
                   "a scheduler of the same optimizer")
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

    def _undo_initial_step(self):
        for scheduler in self._schedulers:
            scheduler._undo_initial_step()

    def step(self):
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _saved(self, key, value):
        return [s.state_dict() for s in value] if key == "_schedulers" else super()._saved(key, value)

    def _restore(self, key, value):
        if key != "_schedulers":
            return super()._restore(key, value)
        for scheduler, saved in zip(self._schedulers, value):
            scheduler.load_state_dict(saved)
