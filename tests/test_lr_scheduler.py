"""minigan.optim.lr_scheduler: every schedule's lrs against torch.optim.lr_scheduler's over 30 steps with
three parameter groups (when torch is installed), state dicts through JSON resuming mid-schedule exactly
as an uninterrupted run, lrs that stay Python floats, and argument errors that name the class."""
import json

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.optim import lr_scheduler

LRS = (0.1, 0.03, 0.5)  # one per parameter group
STEPS = 30


class Decay:
    """A callable object: its attributes are its state, which LambdaLR's state_dict keeps."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


# Each case builds a scheduler from a module (minigan's lr_scheduler or torch's) and an optimiser.
CASES = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), Decay(0.9), lambda e: e // 4 + 1]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9 if e % 3 else 1.05),
    "StepLR": lambda m, o: m.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[12, 3, 7, 7], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "ExponentialLR-growing": lambda m, o: m.ExponentialLR(o, gamma=1.1),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=7),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=20),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.3, total_iters=6),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta_min": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=4), m.CosineAnnealingLR(o, T_max=9, eta_min=1e-3),
            m.ExponentialLR(o, gamma=0.9)], milestones=[5, 15]),
}


def _optimizer(module, lrs=LRS):
    """SGD over one parameter per group, each group with its own lr (torch's or minigan's)."""
    if module is lr_scheduler:
        params = [nn.Parameter(mg.zeros(2)) for _ in lrs]
        return optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=1.0)
    import torch
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=1.0)


def _schedule(opt, scheduler, steps):
    """The lrs after construction and after each of ``steps`` steps, each step after optimizer.step()."""
    lrs = [scheduler.get_last_lr()]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [group["lr"] for group in opt.param_groups]
    return lrs


@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    opt, theirs = _optimizer(lr_scheduler), _optimizer(torch.optim.lr_scheduler)
    ours = _schedule(opt, CASES[case](lr_scheduler, opt), STEPS)
    theirs = _schedule(theirs, CASES[case](torch.optim.lr_scheduler, theirs), STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)
    assert all(type(lr) is float for lrs in ours for lr in lrs)
    assert [group["initial_lr"] for group in opt.param_groups] == list(LRS)


def test_stacked_schedulers_multiply_as_in_torch():
    torch = pytest.importorskip("torch")
    runs = []
    for module in (lr_scheduler, torch.optim.lr_scheduler):
        opt = _optimizer(module)
        schedulers = [module.ExponentialLR(opt, gamma=0.95), module.MultiStepLR(opt, milestones=[4, 9], gamma=0.5),
                      module.CosineAnnealingLR(opt, T_max=8)]
        lrs = []
        for _ in range(STEPS):
            opt.step()
            for scheduler in schedulers:
                scheduler.step()
            lrs.append([group["lr"] for group in opt.param_groups])
        runs.append(lrs)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-14, atol=0)


@pytest.mark.parametrize("case", CASES)
def test_state_dict_through_json_resumes_mid_schedule_exactly(case):
    opt = _optimizer(lr_scheduler)
    uninterrupted = _schedule(opt, CASES[case](lr_scheduler, opt), STEPS)

    opt = _optimizer(lr_scheduler)
    scheduler = CASES[case](lr_scheduler, opt)
    first = _schedule(opt, scheduler, 12)
    saved = json.dumps({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()})
    opt.step()
    scheduler.step()  # the saved state is a copy: later steps do not change it

    # As a resumed run does it: build both as before, then load both states.
    opt = _optimizer(lr_scheduler, lrs=(1.0, 2.0, 3.0))
    scheduler = CASES[case](lr_scheduler, opt)
    saved = json.loads(saved)
    opt.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    assert scheduler.get_last_lr() == first[-1] and scheduler.last_epoch == 12
    assert first + _schedule(opt, scheduler, STEPS - 12)[1:] == uninterrupted


def test_callable_objects_keep_their_state_and_functions_are_not_saved():
    opt = _optimizer(lr_scheduler)
    decay = Decay(0.9)
    scheduler = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, decay, lambda e: 2.0])
    assert scheduler.state_dict()["lr_lambdas"] == [None, {"rate": 0.9}, None]
    saved = scheduler.state_dict()
    decay.rate = 0.5
    scheduler.load_state_dict(saved)
    assert decay.rate == 0.9


def test_learning_rates_stay_python_floats():
    opt = optim.SGD([nn.Parameter(mg.zeros(2))], lr=np.float64(0.1))
    scheduler = lr_scheduler.LambdaLR(opt, lambda e: np.float32(0.5) ** e)
    scheduler.step()
    assert type(opt.param_groups[0]["lr"]) is float and type(opt.param_groups[0]["initial_lr"]) is float
    assert scheduler.get_last_lr() == [0.1 * 0.5]
    json.dumps(scheduler.state_dict())
    scheduler.get_last_lr().append(1.0)  # a copy
    assert len(scheduler.get_last_lr()) == 1


def test_the_optimiser_steps_with_the_scheduled_lr(device):
    p = nn.Parameter(mg.ones(3, device=device))
    opt = optim.SGD([p], lr=0.5)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        p.grad = mg.ones(3, device=device)
        opt.step()
        scheduler.step()
    assert lrs == [0.5, 0.5, 0.5 * 0.1, 0.5 * 0.1, 0.5 * 0.1 * 0.1]
    assert p.dtype == np.float32 and p.device == device
    np.testing.assert_allclose(p.numpy(), np.full(3, 1 - sum(lrs), np.float32), rtol=1e-6)


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = _optimizer(lr_scheduler)
    with pytest.raises(KeyError, match=r"StepLR: param_groups\[0\] has no 'initial_lr'"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)
    lr_scheduler.StepLR(opt, step_size=3)
    assert lr_scheduler.StepLR(opt, step_size=3, last_epoch=5).last_epoch == 6


ERRORS = [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be a positive integer, got 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.0), ValueError, "StepLR: step_size must be a positive integer"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0), ValueError, "StepLR: gamma must be a number > 0"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma="0.9"), ValueError, "ExponentialLR: gamma must be a number > 0"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 1.5]), ValueError, "MultiStepLR: milestones must be"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, r"ConstantLR: factor must be a number in \(0, 1\]"),
    (lambda o: lr_scheduler.ConstantLR(o, total_iters=0), ValueError, "ConstantLR: total_iters must be a positive"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "LinearLR: start_factor must be a number in"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=-0.5), ValueError, r"LinearLR: end_factor must be a number in \[0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "CosineAnnealingLR: T_max must be a positive"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=-1), ValueError, "CosineAnnealingLR: eta_min"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0] * 2), ValueError, "LambdaLR: lr_lambda must be a function or"
                                                                           " a list of 3 functions"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, 0.9), ValueError, "MultiplicativeLR: lr_lambda must be a function"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, last_epoch=-2), ValueError, "StepLR: last_epoch must be"),
    (lambda o: lr_scheduler.StepLR([o], step_size=2), TypeError, "StepLR: optimizer must be a minigan.optim.Optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), ValueError, "SequentialLR: schedulers must be a non"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2), lr_scheduler.StepLR(o, 3)], milestones=[]),
     ValueError, r"SequentialLR: milestones must be 1 increasing positive integers"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(_optimizer(lr_scheduler), 2)], milestones=[]),
     ValueError, r"SequentialLR: schedulers\[0\] must be a scheduler of the same optimizer"),
]


@pytest.mark.parametrize("build, error, match", ERRORS, ids=[match.split(" must")[0] for _, _, match in ERRORS])
def test_argument_errors_name_the_class_and_argument(build, error, match):
    with pytest.raises(error, match=match):
        build(_optimizer(lr_scheduler))


def test_load_state_dict_errors():
    opt = _optimizer(lr_scheduler)
    saved = lr_scheduler.StepLR(opt, step_size=2).state_dict()
    with pytest.raises(ValueError, match=r"CosineAnnealingLR.load_state_dict: missing \['T_max', 'eta_min'\], "
                                         r"unexpected \['gamma', 'step_size'\]"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=4).load_state_dict(saved)
    with pytest.raises(ValueError, match="the state has 3 parameter groups, the optimiser 1"):
        lr_scheduler.StepLR(_optimizer(lr_scheduler, lrs=(0.1,)), step_size=2).load_state_dict(saved)
