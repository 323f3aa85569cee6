"""A run folder from start to finish: resolve the configuration, load the data, build the models,
train with the standard callbacks, and read a finished run back for sampling and evaluation.

A run folder holds ``config.json`` (the resolved ``TrainConfig``), ``checkpoint.npz``, ``losses.csv``,
``losses.png`` and ``scores.png``, ``samples/iter_*.png``, ``samples.png`` (the last grid), ``progress.gif`` and
``metrics.json``. This module is what the ``minigan`` command calls; it raises ``RunError`` for
everything a user can fix (a bad name, a missing folder, a checkpoint that does not fit).
"""
import dataclasses
import json
import math
import os

import numpy as np

import minigan
from minigan import io
from minigan.data import DataLoader, get_dataset, recorded_location
from minigan.gan import callbacks as cb
from minigan.gan.evaluation import evaluate_generator
from minigan.gan.losses import ALIASES, LOSSES
from minigan.gan.models import CONDITIONAL, MODELS, build_models, default_nz
from minigan.gan.trainer import D_BATCHES, D_NORMS, TrainConfig, Trainer

# Per-model defaults. The image models use the DCGAN recipe (Radford et al., 2016): batch 128,
# Adam 2e-4, betas (0.5, 0.999); ``iters`` of dcgan is sized so that the default run draws digits in
# about five minutes on a 2-core CPU. dcgan's loss is the relativistic average one (README, "The
# relativistic loss"), with the R1 penalty (gamma 10) on 32 of each batch's 128 real digits and so a
# per-sample layer norm in D: the game stays close, and the digits keep improving with the length of
# the run instead of losing the 1s (README, "The R1 penalty"; on a quarter of the batch the penalty
# makes an iteration 1.2 to 1.3 times as long, on the whole batch 1.7 to 1.8: benchmarks.trainer_step).
# The WGAN losses' recipes leave the penalty out. Samples come from G itself: with the penalty G is
# still improving at the end of the run, and an EMA of its weights lags behind it (on eight seeds of
# eight it scored worse: README, "Sampling from G itself"). ``--ema 0.999`` gives the default before
# that, and ``--r1 0 --iters 1000 --ema 0.999`` the one before the penalty: D's batch norm, which makes
# the joint batch matter (Trainer.discriminate_pair says why; with separate batches, minigan and
# PyTorch alike drew 1 to 2% 1s), and the EMA of G to even out the class shares, which swing from one
# iteration to the next there (README, "Why D sees one joint batch"). The other models keep
# TrainConfig's non-saturating loss. The toy model's settings were tuned for mode coverage within about
# two minutes (benchmarks/results/toy_quality.md): the R1 penalty keeps every mode of grid25 found, and
# sampling from the EMA of G keeps the samples on the modes.
MODEL_DEFAULTS = {
    "mlp": {"dataset": "mnist", "iters": 3000, "sample_every": 200, "checkpoint_every": 1000},
    "dcgan": {"dataset": "mnist", "loss": "relativistic", "iters": 1500, "d_batch": "joint", "r1": 10.0,
              "r1_batch": 32, "sample_every": 100, "checkpoint_every": 500},
    "dcgan64": {"dataset": None, "iters": 2000, "sample_every": 100, "checkpoint_every": 500},
    "cgan": {"dataset": "mnist", "iters": 3000, "sample_every": 200, "checkpoint_every": 1000},
    "cdcgan": {"dataset": "mnist", "iters": 1000, "sample_every": 100, "checkpoint_every": 500},
    "toy": {"dataset": "ring8", "iters": 8000, "batch_size": 256, "lr": 1e-3, "betas": (0.5, 0.999),
            "r1": 0.1, "ema": 0.999, "sample_every": 500, "checkpoint_every": 2000},
}
# Settings a resumed run may change; everything else must stay as the run was started.
RESUMABLE = ("iters", "sample_every", "checkpoint_every", "device", "download")


class RunError(Exception):
    """Something the user can fix; the message says what was wrong and what to do."""


def canonical_loss(name):
    key = ALIASES.get(name, name)
    if key not in LOSSES:
        choices = ", ".join(sorted(LOSSES))
        raise RunError(f"unknown loss {name!r}; choose one of {choices} (aliases: {', '.join(sorted(ALIASES))})")
    return key


def resolve_config(**flags):
    """A resolved TrainConfig from the flags the user gave (None or absent: not given).

    Precedence: the flag, then the chosen loss's recipe (the WGANs' optimiser settings), then the
    model's defaults, then TrainConfig's.
    """
    given = {k: v for k, v in flags.items() if v is not None}
    unknown = sorted(set(given) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown:
        raise RunError(f"unknown settings {unknown}")
    model = given.get("model", TrainConfig.model)
    if model not in MODELS:
        raise RunError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    values = dict(MODEL_DEFAULTS[model])
    loss = canonical_loss(given.get("loss", values.get("loss", TrainConfig.loss)))
    values.update(LOSSES[loss].recipe)
    values.update(given)
    values["loss"] = loss
    if values.get("dataset") is None:
        raise RunError(f"model {model!r} has no default data set; pass --dataset with a folder of 64x64 images")
    values.setdefault("nz", default_nz(model))  # recorded in config.json as the size actually used
    config = TrainConfig(**values).resolved()
    _check_numbers(config)
    return config


def _check_numbers(cfg):
    def lr_flag(value, own):  # the flag that set this learning rate: its own, or --lr for both
        return "--lr" if value is cfg.lr or value == cfg.lr else own

    checks = [
        (cfg.iters >= 1, f"--iters must be at least 1 (got {cfg.iters}): it is the number of generator steps"),
        (cfg.batch_size >= 1, f"--batch-size must be at least 1 (got {cfg.batch_size})"),
        (cfg.n_critic >= 1, f"--n-critic must be at least 1 (got {cfg.n_critic})"),
        (cfg.d_batch in D_BATCHES, f"--d-batch must be one of {', '.join(D_BATCHES)} (got {cfg.d_batch!r})"),
        (cfg.d_norm in D_NORMS, f"--d-norm must be one of {', '.join(D_NORMS)} (got {cfg.d_norm!r})"),
        (0 < cfg.lr_g < math.inf, f"{lr_flag(cfg.lr_g, '--lr-g')} must be a positive number (got {cfg.lr_g})"),
        (0 < cfg.lr_d < math.inf, f"{lr_flag(cfg.lr_d, '--lr-d')} must be a positive number (got {cfg.lr_d})"),
        (0 <= cfg.label_smoothing < 1, f"--label-smoothing must lie in [0, 1) (got {cfg.label_smoothing})"),
        (0 <= cfg.label_flip <= 1, f"--label-flip must lie in [0, 1] (got {cfg.label_flip})"),
        (cfg.ema == 0 or 0 < cfg.ema < 1, f"--ema is a decay in (0, 1), e.g. 0.999, or 0 for off (got {cfg.ema})"),
        (0 <= cfg.r1 < math.inf, f"--r1 is a penalty weight >= 0 (got {cfg.r1})"),
        (cfg.r1_batch is None or cfg.r1_batch >= 1,
         f"--r1-batch, the real samples per batch that the R1 penalty is taken on, must be at least 1 "
         f"(got {cfg.r1_batch})"),
        (0 <= cfg.feature_matching < math.inf,
         f"--feature-matching is a weight >= 0 (got {cfg.feature_matching})"),
        (0 <= cfg.mmd < math.inf, f"--mmd is a weight >= 0 (got {cfg.mmd})"),
        (0 <= cfg.instance_noise < math.inf and cfg.instance_noise_iters >= 0,
         f"--instance-noise must be >= 0 and --instance-noise-iters >= 0 (got {cfg.instance_noise}, "
         f"{cfg.instance_noise_iters})"),
        (cfg.nz is None or cfg.nz >= 1, f"--nz, the size of the noise vector, must be at least 1 (got {cfg.nz})"),
        (cfg.sample_every >= 0, f"--sample-every must be >= 0, 0 for only at the end (got {cfg.sample_every})"),
        (cfg.checkpoint_every >= 0,
         f"--checkpoint-every must be >= 0, 0 for only at the end (got {cfg.checkpoint_every})"),
        (cfg.optimizer in ("adam", "rmsprop", "sgd"),
         f"unknown optimizer {cfg.optimizer!r}; choose adam, rmsprop or sgd"),
        (cfg.samples is None or cfg.samples >= 1, f"--samples must be at least 1 (got {cfg.samples})"),
    ]
    if cfg.betas is not None:
        checks.append((len(cfg.betas) == 2 and all(0 <= b < 1 for b in cfg.betas),
                       f"--betas takes two numbers in [0, 1), e.g. 0.5 0.999 (got {list(cfg.betas)})"))
    for ok, message in checks:
        if not ok:
            raise RunError(message)


def default_out(cfg):
    """runs/<model>-<dataset>, with -2, -3, ... appended when that folder already exists."""
    name = os.path.basename(os.path.normpath(str(cfg.dataset))) or "data"
    base = os.path.join("runs", f"{cfg.model}-{name}")
    out, n = base, 1
    while os.path.exists(out):
        n += 1
        out = f"{base}-{n}"
    return out


def load_data(cfg):
    try:
        dataset = get_dataset(cfg.dataset, data_dir=cfg.data_dir, download=cfg.download, seed=cfg.seed)
    except (ValueError, FileNotFoundError, OSError, ImportError) as exc:
        raise RunError(str(exc)) from None
    return dataset


def build(cfg, dataset, callbacks=()):
    """The Trainer for ``cfg`` on ``dataset`` (models seeded from cfg.seed), before any file is written."""
    minigan.manual_seed(cfg.seed)
    meta = dataset.meta
    try:
        G, D = build_models(cfg.model, meta["shape"], meta.get("num_classes"), nz=cfg.nz, d_norm=cfg.d_norm)
    except ValueError as exc:
        raise RunError(str(exc)) from None
    try:
        device = minigan.backend.parse_device(cfg.device)
    except (ValueError, RuntimeError) as exc:
        raise RunError(str(exc)) from None
    if device != "cpu":
        G, D = G.to(device), D.to(device)
    n = len(dataset.data)
    if cfg.batch_size > n:  # the loader would say so too, in its own (API) words
        raise RunError(f"--batch-size {cfg.batch_size} is larger than the data set ({n} samples); use "
                       f"--batch-size {n} or less")
    try:
        loader = DataLoader(dataset.data, dataset.labels, batch_size=cfg.batch_size, seed=cfg.seed)
        return Trainer(cfg, G, D, loader, callbacks)
    except ValueError as exc:
        raise RunError(str(exc)) from None


def standard_callbacks(cfg, out, meta, trainer, progress=True):
    """Pictures, logs, checkpoints and final metrics for a run writing to ``out``."""
    num_classes = meta.get("num_classes") if cfg.model in CONDITIONAL else None
    count = cfg.samples or (64 if meta["kind"] == "images" else 1000)
    labels = cb.fixed_labels(count, num_classes)
    z = cb.fixed_noise(count, trainer.nz, cfg.seed)
    nrow = num_classes or 8
    callbacks = [cb.LossLog(out, plot_every=cfg.checkpoint_every)]
    if progress:
        callbacks.append(cb.ProgressBar())
    callbacks += [cb.SampleGrid(out, cfg.sample_every, z, labels, kind=meta["kind"],
                                modes=meta.get("modes"), std=meta.get("std"), nrow=nrow),
                  cb.Checkpoint(out, cfg.checkpoint_every), FinalMetrics(out, meta)]
    return callbacks


class FinalMetrics:
    """``metrics.json`` at the end of training (what ``minigan eval`` computes)."""

    def __init__(self, out, meta):
        self.out, self.meta = out, meta

    def on_train_end(self, trainer):
        metrics = evaluate_generator(lambda z, y: trainer.sample(z, y), trainer.nz, self.meta,
                                     conditional=trainer.conditional, seed=trainer.config.seed)
        metrics["iteration"] = trainer.iteration
        io.save_json(os.path.join(self.out, "metrics.json"), metrics)
        trainer.metrics = metrics


def check_out_is_free(out):
    if os.path.exists(out) and not os.path.isdir(out):
        raise RunError(f"--out {out} is a file, not a folder; pick another --out")
    if os.path.exists(os.path.join(out, "checkpoint.npz")):
        raise RunError(f"{out} already holds a run; continue it with --resume {out}, or pick another --out")
    if os.path.exists(os.path.join(out, "config.json")):
        raise RunError(f"{out} holds a run that stopped before its first checkpoint, so there is nothing to "
                       "resume; pick another --out, or delete that folder to reuse its name")


def train(cfg, out=None, progress=True, announce=None):
    """Train a new run into ``out`` (default: a fresh runs/<model>-<dataset>); returns the Trainer.

    ``announce(cfg)`` is called once every setting, the data and the models have been checked, just
    before the first file is written (the command prints its "training ..." line there).
    """
    out = out or cfg.out or default_out(cfg)
    check_out_is_free(out)
    cfg = dataclasses.replace(cfg, out=out, **_recorded_paths(cfg.dataset, cfg.data_dir))
    dataset = load_data(cfg)
    trainer = build(cfg, dataset)  # everything is checked before the first file is written
    trainer.callbacks = standard_callbacks(cfg, out, dataset.meta, trainer, progress)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create the run folder {out} ({exc.strerror}); pick another --out") from None
    if announce is not None:
        announce(cfg)
    io.save_json(os.path.join(out, "config.json"), cfg.to_dict())
    trainer.train()
    return trainer


def _recorded_paths(dataset, data_dir):
    """The data settings as config.json records them (folders as absolute paths)."""
    return {"dataset": recorded_location(dataset),
            "data_dir": None if data_dir is None else os.path.abspath(data_dir)}


def read_config(run_dir):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise RunError(f"{run_dir} is not a minigan run folder (no config.json); pass the --out folder of a "
                       "`minigan train` run")
    try:
        with open(path, encoding="utf-8") as f:
            return TrainConfig.from_dict(json.load(f))
    except (ValueError, TypeError) as exc:
        raise RunError(f"{path} is not a valid run configuration ({exc})") from None


def load_checkpoint(run_dir):
    path = os.path.join(run_dir, "checkpoint.npz")
    try:
        return io.load_checkpoint(path)
    except FileNotFoundError:
        raise RunError(f"{run_dir} has no checkpoint.npz: its run stopped (or is still running) before its "
                       "first checkpoint, so there is nothing to load yet; train a new run into another "
                       "--out") from None
    except ValueError as exc:
        raise RunError(str(exc)) from None


def restore(trainer, run_dir):
    """Load the run's checkpoint into ``trainer`` (RunError when it belongs to another model)."""
    state, metadata = load_checkpoint(run_dir)
    saved_model = metadata.get("config", {}).get("model")
    if saved_model != trainer.config.model:
        raise RunError(f"{run_dir}/checkpoint.npz holds a {saved_model!r} model, not {trainer.config.model!r}; "
                       "use the run's own --model or start a new run")
    try:
        trainer.load_state_dict(state, metadata)
    except (ValueError, KeyError) as exc:
        raise RunError(f"{run_dir}/checkpoint.npz does not fit this run: {exc}") from None
    return metadata


def resume(run_dir, progress=True, announce=None, **flags):
    """Continue the run in ``run_dir`` from its checkpoint; only RESUMABLE settings may change.
    ``announce(cfg, iteration)`` is called, as in ``train``, once everything has been checked."""
    cfg = read_config(run_dir)
    changes = {k: v for k, v in flags.items() if v is not None}
    if "loss" in changes:
        changes["loss"] = canonical_loss(changes["loss"])
    # Compared as recorded: a relative folder given again is the same folder.
    recorded = _recorded_paths(changes.get("dataset"), changes.get("data_dir"))
    changes.update({key: recorded[key] for key in ("dataset", "data_dir") if key in changes})
    for key, value in changes.items():
        old = getattr(cfg, key, None)
        same = list(value) == list(old) if isinstance(value, (list, tuple)) and old is not None else value == old
        if key not in RESUMABLE and not same:
            raise RunError(f"{run_dir} was trained with {key}={old!r}; --resume cannot change it to {value!r} "
                           f"(only {', '.join(RESUMABLE)} may change)")
    cfg = dataclasses.replace(cfg, **{k: v for k, v in changes.items() if k in RESUMABLE}, out=run_dir)
    _check_numbers(cfg)
    dataset = load_data(cfg)
    trainer = build(cfg, dataset)
    restore(trainer, run_dir)
    if trainer.iteration >= cfg.iters:
        raise RunError(f"{run_dir} already finished {trainer.iteration} iterations; pass a larger --iters to "
                       "train further")
    trainer.callbacks = standard_callbacks(cfg, run_dir, dataset.meta, trainer, progress)
    if announce is not None:
        announce(cfg, trainer.iteration)
    io.save_json(os.path.join(run_dir, "config.json"), cfg.to_dict())
    trainer.train()
    return trainer


def load_run(run_dir):
    """A finished (or checkpointed) run as a Trainer with its weights, plus its data set's metadata."""
    cfg = read_config(run_dir)
    dataset = load_data(cfg)
    trainer = build(cfg, dataset)
    restore(trainer, run_dir)
    return trainer, dataset.meta


def sample(run_dir, n, seed=0, label=None):
    """``n`` samples (float32 NumPy, data space) from the run's generator (its EMA copy if it has one),
    and the run's data set metadata."""
    trainer, meta = load_run(run_dir)
    if n < 1:
        raise RunError(f"-n must be at least 1 (got {n})")
    labels = None
    if trainer.conditional:
        k = meta["num_classes"]
        if label is not None and not 0 <= label < k:
            raise RunError(f"--label must lie in 0..{k - 1} for this run's {k} classes (got {label})")
        labels = np.full(n, label) if label is not None else np.arange(n) % k
    elif label is not None:
        raise RunError(f"--label needs a conditional model (cgan, cdcgan); {run_dir} is a {trainer.config.model!r} run")
    z = np.random.default_rng(seed).standard_normal((n, trainer.nz), dtype=np.float32)
    return trainer.sample(z, labels), meta


def evaluate(run_dir):
    """Score the run's generator; writes and returns metrics.json's content."""
    trainer, meta = load_run(run_dir)
    metrics = evaluate_generator(lambda z, y: trainer.sample(z, y), trainer.nz, meta,
                                 conditional=trainer.conditional, seed=trainer.config.seed)
    metrics["iteration"] = trainer.iteration
    io.save_json(os.path.join(run_dir, "metrics.json"), metrics)
    return metrics
