"""The training loop: one alternating game between a discriminator D and a generator G.

Read ``Trainer.train`` top to bottom; each iteration is

1. ``n_critic`` discriminator steps, each on a real batch x and a fake batch G(z) detached from G's
   graph: D learns to tell them apart (minimise ``loss.d_loss(D(x), D(G(z)))`` plus any penalty);
   D sees the two as separate batches or as one joint batch (``d_batch``; ``discriminate_pair``);
2. one generator step, through G's graph, on the last D step's fake batch (one D step, as in
   pytorch/examples' DCGAN) or on a fresh one (``n_critic`` > 1, as in Algorithm 1 of the WGAN and
   WGAN-GP papers): G learns to fool the D it just faced (minimise ``loss.g_loss(D(G(z)))``, plus
   ``feature_matching`` times the distance between the mean features D finds in the real and the
   fake batch, and ``mmd`` times the maximum mean discrepancy between those features, when those
   weights are set);
3. bookkeeping: the EMA of G's weights, then the callbacks (samples, progress, logs, checkpoints).

Everything that decides what happens next (weights, optimiser moments, the EMA, minigan's random
generator, the loader's position and shuffling generator, the iteration) is in ``state_dict``, so a
run that is stopped and resumed produces exactly the numbers of a run that never stopped.
"""
import contextlib
import copy
import dataclasses
import math
import time
import typing
from typing import Optional, Tuple

import numpy as np

import minigan
import minigan.functional as F
from minigan import backend, optim
from minigan import random as mg_random
from minigan.gan.losses import feature_matching, get_loss, mmd
from minigan.gan.models import has_batch_norm, is_conditional
from minigan.gan.regularisers import r1_penalty
from minigan.gan.tricks import EMA, InstanceNoise, real_targets
from minigan.tensor import Tensor


D_BATCHES = ("separate", "joint")
D_NORMS = ("batch", "layer")


@dataclasses.dataclass
class TrainConfig:
    """Everything a run depends on. Field names are the ``minigan train`` flags (``--batch-size`` is
    ``batch_size``); ``config.json`` in a run folder holds these fields after defaults are resolved."""

    model: str = "dcgan"
    dataset: str = "mnist"
    data_dir: Optional[str] = None
    download: bool = False  # fetch MNIST / Fashion-MNIST (checked by sha256) when not found locally
    loss: str = "non-saturating"
    iters: int = 1000
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 2e-4
    lr_g: Optional[float] = None  # None: use lr
    lr_d: Optional[float] = None
    betas: Optional[Tuple[float, float]] = (0.5, 0.999)
    n_critic: int = 1
    d_batch: str = "separate"  # "separate" real and fake batches for D, or one "joint" batch (discriminate_pair)
    # D's normalisation layers where its architecture has batch norm: "batch", or "layer" (per sample,
    # which a gradient penalty needs: models.per_sample_norm). None: "layer" with --r1 or wgan-gp, else "batch".
    d_norm: Optional[str] = None
    label_smoothing: float = 0.0
    label_flip: float = 0.0
    instance_noise: float = 0.0
    # Anneal to zero over this many iterations; 0: the whole run, as first started (config.json records the
    # number, so a run resumed with a larger --iters keeps it: the noise does not come back in the extension).
    instance_noise_iters: int = 0
    r1: float = 0.0
    # R1 on the first r1_batch real samples of each batch only: the same penalty in expectation, as
    # D scores each sample alone, for that fraction of its double backward. None: the whole batch.
    r1_batch: Optional[int] = None
    feature_matching: float = 0.0  # weight of losses.feature_matching in G's loss (D must take features=True); 0: off
    mmd: float = 0.0  # weight of losses.mmd on D's features in G's loss (D must take features=True); 0: off
    ema: float = 0.0  # EMA decay of G's weights (e.g. 0.999); 0: off
    nz: Optional[int] = None
    seed: int = 0
    device: str = "cpu"
    out: Optional[str] = None
    sample_every: int = 100
    checkpoint_every: int = 1000
    samples: Optional[int] = None  # fixed-noise samples per picture; None: 64 images or 1000 points

    def resolved(self):
        """A copy with the defaults that depend on other fields filled in."""
        cfg = dataclasses.replace(self)
        cfg.lr_g = self.lr if self.lr_g is None else self.lr_g
        cfg.lr_d = self.lr if self.lr_d is None else self.lr_d
        if cfg.d_norm is None:
            per_sample = cfg.r1 or get_loss(cfg.loss).penalises_input_gradient
            cfg.d_norm = "layer" if per_sample else "batch"
        if cfg.instance_noise and not cfg.instance_noise_iters:
            cfg.instance_noise_iters = cfg.iters
        cfg.betas = tuple(float(b) for b in cfg.betas) if cfg.betas is not None else None
        return cfg

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas) if self.betas is not None else None
        return d

    @classmethod
    def from_dict(cls, d):
        """The config a dict (config.json's content) describes; ValueError naming the first unknown key
        or the first value of the wrong type (a hand-edited file, say)."""
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise ValueError(f"config: unknown keys {unknown}")
        for key, value in d.items():
            if not _is_a(value, fields[key]):
                raise ValueError(f"config: {key} must be {_describe(fields[key])}, not {value!r}")
        d = dict(d)
        d.setdefault("d_norm", "batch")  # a config.json from before the key: every D then had batch norm
        if d.get("betas") is not None:
            d["betas"] = tuple(d["betas"])
        return cls(**d)


def _is_a(value, kind):
    """Whether a JSON value fits a TrainConfig field's type (int, float, str, bool, Optional[...] or
    Tuple[float, float])."""
    if typing.get_origin(kind) is typing.Union:
        return any(_is_a(value, k) for k in typing.get_args(kind))
    if typing.get_origin(kind) is tuple:
        items = typing.get_args(kind)
        return isinstance(value, (list, tuple)) and len(value) == len(items) and all(map(_is_a, value, items))
    if kind is type(None):
        return value is None
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _describe(kind):
    if typing.get_origin(kind) is typing.Union:
        return " or ".join(_describe(k) for k in typing.get_args(kind))
    names = {int: "a whole number", float: "a number", str: "a string", bool: "true or false",
             type(None): "null"}
    if typing.get_origin(kind) is tuple:
        return f"a list of {len(typing.get_args(kind))} numbers"
    return names[kind]


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; ``iteration`` says when. The last checkpoint is left as it was."""

    def __init__(self, iteration, which, value):
        self.iteration, self.which, self.value = iteration, which, value
        super().__init__(f"the {which} loss became {value} at iteration {iteration}")


@contextlib.contextmanager
def frozen(module):
    """Within the block, ``module``'s parameters do not require grad (and get none)."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


def make_optimizer(name, params, lr, betas):
    """Adam (with ``betas``), RMSprop or SGD over ``params``."""
    if name == "adam":
        return optim.Adam(params, lr=lr, betas=tuple(betas))
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr)
    if name == "sgd":
        return optim.SGD(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose adam, rmsprop or sgd")


class Trainer:
    """Trains ``generator`` against ``discriminator`` on batches from ``loader`` (a minigan DataLoader).

    ``config`` is a resolved ``TrainConfig``; ``callbacks`` are objects with any of
    ``on_train_begin(trainer)``, ``on_iteration_end(trainer, logs)`` and ``on_train_end(trainer)``
    (see callbacks.py).
    """

    def __init__(self, config, generator, discriminator, loader, callbacks=()):
        self.config = config
        self.G, self.D, self.loader = generator, discriminator, loader
        self.loss = get_loss(config.loss)
        if (config.label_smoothing or config.label_flip) and not self.loss.uses_targets:
            raise ValueError(f"--label-smoothing and --label-flip need a loss with targets (pass --loss minimax, "
                             f"non-saturating or least-squares), not {self.loss.name}")
        if config.n_critic < 1:
            raise ValueError(f"n_critic must be at least 1, got {config.n_critic}")
        if not 0 <= config.feature_matching < math.inf:
            raise ValueError(f"feature_matching is a weight >= 0, got {config.feature_matching}")
        if not 0 <= config.mmd < math.inf:
            raise ValueError(f"mmd is a weight >= 0, got {config.mmd}")
        if config.d_batch not in D_BATCHES:
            raise ValueError(f"d_batch must be one of {', '.join(D_BATCHES)}, got {config.d_batch!r}")
        self.conditional = is_conditional(self.G)
        self.d_mixes_samples = has_batch_norm(self.D)  # only then does the joint batch change D's logits
        self.opt_g = make_optimizer(config.optimizer, self.G.parameters(), config.lr_g, config.betas)
        self.opt_d = make_optimizer(config.optimizer, self.D.parameters(), config.lr_d, config.betas)
        self.ema = EMA(self.G, config.ema) if config.ema else None
        self.instance_noise = InstanceNoise(config.instance_noise, config.instance_noise_iters)
        self.callbacks = list(callbacks)
        self.iteration = 0  # iterations (generator steps) completed
        self.nz = self.G.nz
        self.device = backend.parse_device(config.device)

    # -- the loop -------------------------------------------------------------------------------
    # A diverging run overflows in some op before its loss turns inf or NaN, and NumPy would print a
    # RuntimeWarning from deep inside that op; the NaN guard (_check_finite) reports it once instead,
    # with the iteration (PyTorch, too, lets inf and NaN through silently).
    @np.errstate(over="ignore", invalid="ignore", divide="ignore")
    def train(self):
        """Run iterations ``self.iteration + 1 .. config.iters``; return the last iteration's logs."""
        cfg, G, D, loss = self.config, self.G, self.D, self.loss
        G.train()
        D.train()
        self._call("on_train_begin")
        logs = {}
        while self.iteration < cfg.iters:
            it = self.iteration + 1
            start = time.perf_counter()

            # 1. Discriminator: real batch labelled real, detached fake batch labelled fake.
            for _ in range(cfg.n_critic):
                real, labels = self.next_batch()
                fake = self.generate(self.noise(real.shape[0]), labels)
                real_in = self.instance_noise(real, it)
                fake_in = self.instance_noise(fake.detach(), it)
                real_logits, fake_logits = self.discriminate_pair(real_in, fake_in, labels)
                target = real_targets(real_logits, cfg.label_smoothing, cfg.label_flip)
                d_loss = loss.d_loss(real_logits, fake_logits, target)
                penalty = loss.penalty(self.critic(labels), real_in, fake_in)
                if cfg.r1:
                    few = slice(cfg.r1_batch)
                    r1 = r1_penalty(self.critic(None if labels is None else labels[few]), real_in[few], cfg.r1)
                    penalty = r1 if penalty is None else penalty + r1
                total = d_loss if penalty is None else d_loss + penalty
                self._check_finite(it, "discriminator", total)
                self.opt_d.zero_grad()
                total.backward()
                self.opt_d.step()
                loss.after_d_step(D)

            # 2. Generator: a fake batch through G's graph, against the updated D. After one D step it is
            #    that step's batch again (one forward of G saved); after several (the WGANs) a fresh one,
            #    as the papers' Algorithm 1 draws it. D's weights are frozen meanwhile: only G's gradients
            #    are needed, so none are computed for D.
            if cfg.n_critic > 1:
                fake = self.generate(self.noise(real.shape[0]), labels)
            with frozen(D):
                fake_in = self.instance_noise(fake, it)
                real_logits_g = None
                if cfg.feature_matching or cfg.mmd:
                    # Feature matching and the MMD compare D's features of the real batch with the fake batch's.
                    (real_logits_g, real_h), (fake_logits, fake_h) = self.discriminate_pair(real_in, fake_in, labels,
                                                                                            features=True)
                elif (cfg.d_batch == "joint" and self.d_mixes_samples) or loss.g_needs_real_logits:
                    # D's batch norm must see the mixture it was trained on, so the real batch goes through
                    # again (its logits used only by a loss that asks for them); a D without batch norm
                    # scores the fakes alone.
                    real_logits_g, fake_logits = self.discriminate_pair(real_in, fake_in, labels)
                else:
                    fake_logits = self.discriminate(fake_in, labels)
                g_loss = loss.g_loss(fake_logits, real_logits_g)
                if cfg.feature_matching:
                    g_loss = g_loss + feature_matching(real_h, fake_h) * cfg.feature_matching
                if cfg.mmd:
                    g_loss = g_loss + mmd(real_h, fake_h) * cfg.mmd
                self._check_finite(it, "generator", g_loss)
                self.opt_g.zero_grad()
                g_loss.backward()
            self.opt_g.step()

            # 3. Bookkeeping.
            if self.ema is not None:
                self.ema.update()
            self.iteration = it
            logs = {"iteration": it, "d_loss": total.item(), "g_loss": g_loss.item(),
                    "d_real": self._score(real_logits), "d_fake": self._score(fake_logits),
                    "seconds": time.perf_counter() - start}
            self._call("on_iteration_end", logs)
        self._call("on_train_end")
        return logs

    # -- pieces of the loop ---------------------------------------------------------------------
    def next_batch(self):
        """The next real batch as (tensor, labels or None), on the run's device."""
        x, y = self.loader.next_batch()
        x = Tensor._wrap(backend.to_device(x, self.device))
        if not self.conditional:
            y = None
        elif y is not None:
            y = backend.to_device(y, self.device)
        return x, y

    def noise(self, n):
        """z ~ N(0, I), float32 (n, nz), from minigan's seeded generator."""
        return minigan.randn(n, self.nz, device=self.device)

    def generate(self, z, labels=None, model=None):
        model = model or self.G
        return model(z, labels) if self.conditional else model(z)

    def discriminate(self, x, labels=None, features=False):
        """D's logits for ``x``; with ``features=True``, ``(logits, D's top hidden features)``. The
        keyword reaches D only when set, so a discriminator of one's own needs it only for feature
        matching."""
        args = (x, labels) if self.conditional else (x,)
        return self.D(*args, features=True) if features else self.D(*args)

    def discriminate_pair(self, real, fake, labels=None, features=False):
        """D's logits (real, fake) for a real batch and a fake batch of N samples each; with
        ``features=True``, ``(real_logits, real_h), (fake_logits, fake_h)``, h being D's top hidden
        features (models.discriminator_output).

        ``d_batch="separate"`` (pytorch/examples' DCGAN): two calls of D, so a batch-norm layer in D
        normalises the real batch by real statistics and the fake batch by fake ones. That hides from D
        whatever differs between the two batches as a whole, such as how often each class occurs: a
        generator that draws too few 1s goes unpunished. ``"joint"``: D on the 2N samples
        concatenated, so the statistics are over both and those differences stay visible; the G step
        then passes the real batch through D again, to normalise the fakes the same way (only when D
        has batch norm: ``d_mixes_samples``). A D with batch
        norm computes that as ``D.forward_joint(real, fake)``: the same logits, with the halves joined
        only at the first batch norm, so that the G step has no backward pass for the real half below
        it (``models.joint_logits``). Without batch norm in D the two ways give the same logits.
        """
        if self.config.d_batch == "separate":
            return self.discriminate(real, labels, features), self.discriminate(fake, labels, features)
        n = real.shape[0]
        joint = getattr(self.D, "forward_joint", None)
        if joint is not None:
            args = (real, fake, labels) if self.conditional else (real, fake)
            out = joint(*args, features=True) if features else joint(*args)
        else:
            both_labels = None if labels is None else backend.get_array_module(labels).concatenate([labels, labels])
            out = self.discriminate(F.concat([real, fake], axis=0), both_labels, features)
        if features:
            logits, h = out
            return (logits[:n], h[:n]), (logits[n:], h[n:])
        return out[:n], out[n:]

    def critic(self, labels):
        """D as a function of its input alone, for the gradient penalties."""
        return lambda x: self.discriminate(x, labels)

    def _score(self, logits):
        """What to report as D(x) and D(G(z)): a mean probability for the sigmoid losses, else the
        mean critic value."""
        with minigan.no_grad():
            value = logits.sigmoid() if self.loss.outputs_probabilities else logits
            return value.mean().item()

    def _check_finite(self, iteration, which, value):
        v = value.item()
        if not math.isfinite(v):
            raise NonFiniteLossError(iteration, which, v)

    def _call(self, event, *args):
        for cb in self.callbacks:
            method = getattr(cb, event, None)
            if method is not None:
                method(self, *args)

    # -- sampling ---------------------------------------------------------------------------------
    def sampling_generator(self):
        """The generator to draw pictures from: the EMA copy when there is one, else G itself."""
        if self.ema is None:
            return self.G
        if not hasattr(self, "_ema_model"):
            # The same architecture, built by a deep copy of G, then given the averaged weights.
            self._ema_model = copy.deepcopy(self.G)
        self._ema_model.load_state_dict(self.ema.state_dict())
        return self._ema_model

    def sample(self, z, labels=None, use_ema=True):
        """Samples as a float32 NumPy array in data space, from G in eval mode (running BN statistics)."""
        model = self.sampling_generator() if use_ema else self.G
        was_training = model.training
        model.eval()
        try:
            with minigan.no_grad():
                z = Tensor._wrap(backend.to_device(np.asarray(z, dtype=np.float32), self.device))
                if labels is not None:
                    labels = backend.to_device(np.asarray(labels), self.device)
                return self.generate(z, labels, model).numpy()
        finally:
            model.train(was_training)

    # -- checkpoints ------------------------------------------------------------------------------
    def state_dict(self):
        """``(state, metadata)`` for ``minigan.io.save_checkpoint``: the arrays (models, optimisers,
        EMA) and the JSON-able rest (iteration, configuration, random generator and loader states)."""
        state = {"G": self.G.state_dict(), "D": self.D.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}
        metadata = {"iteration": self.iteration, "config": self.config.to_dict(),
                    "rng_state": _json_state(mg_random.get_state()),
                    "loader": _json_state(self.loader.state_dict())}
        if self.ema is not None:
            state["G_ema"] = self.ema.state_dict()
            metadata["ema_updates"] = self.ema.updates
        return state, metadata

    def load_state_dict(self, state, metadata):
        """Restore what ``state_dict`` saved; ValueError when it belongs to another architecture."""
        _load_module(self.G, state["G"], "generator")
        _load_module(self.D, state["D"], "discriminator")
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.ema is not None:
            if "G_ema" not in state:
                raise ValueError("the checkpoint has no EMA of the generator but this run asks for one (--ema)")
            self.ema.load_state_dict(state["G_ema"])
            self.ema.updates = int(metadata["ema_updates"])
        mg_random.set_state(metadata["rng_state"])
        self.loader.load_state_dict(metadata["loader"])
        self.iteration = int(metadata["iteration"])


def _load_module(module, state, which):
    expected = module.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(np.shape(expected[k]))]
    if missing or unexpected or wrong:
        detail = (f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}" if unexpected
                  else f"{wrong[0]} has shape {tuple(state[wrong[0]].shape)}, the model has "
                       f"{tuple(np.shape(expected[wrong[0]]))}")
        raise ValueError(f"the checkpoint's {which} does not match this model ({detail})")
    module.load_state_dict(state)


def _json_state(state):
    """A generator or loader state with NumPy integers turned into Python ones (for JSON)."""
    if isinstance(state, dict):
        return {k: _json_state(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return [_json_state(v) for v in state]
    if isinstance(state, np.integer):
        return int(state)
    if isinstance(state, np.ndarray):
        return state.tolist()
    return state
