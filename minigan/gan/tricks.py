"""Training tricks that help a GAN converge: label smoothing and flipping, instance noise, and an
exponential moving average (EMA) of the generator's weights.

Separate learning rates for G and D and several critic steps per generator step (n_critic) are
settings of the trainer (``TrainConfig.lr_g``, ``lr_d``, ``n_critic``), not objects here.
"""
import minigan
from minigan import backend
from minigan.tensor import Tensor


def real_targets(logits, smoothing=0.0, flip=0.0):
    """Targets for the discriminator's real samples, shaped like ``logits``.

    One-sided label smoothing (Salimans et al., 2016, "Improved Techniques for Training GANs",
    section 3.4) labels real samples 1 - smoothing instead of 1, so D cannot become arbitrarily
    confident; the fake label stays 0 ("one-sided") so D's optimum still points G toward the data.
    Label flipping labels each real sample 0 with probability ``flip``, a noisy-label trick from
    practice (Chintala et al., "ganhacks"). With neither, this is the Python float 1.0, so the loss
    broadcasts a scalar and draws no random numbers.
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"real_targets: smoothing must lie in [0, 1), got {smoothing}")
    if not 0.0 <= flip <= 1.0:
        raise ValueError(f"real_targets: flip must lie in [0, 1], got {flip}")
    if flip == 0.0:
        return 1.0 - smoothing
    flipped = minigan.rand(*logits.shape, dtype=logits.dtype, device=logits.device).data < flip
    xp = logits._xp
    target = xp.where(flipped, logits.dtype.type(0), logits.dtype.type(1.0 - smoothing))
    return Tensor._wrap(target)


class InstanceNoise:
    """Gaussian noise added to every input of D, annealed linearly from ``std`` to 0.

    Real and fake distributions are often disjoint, which makes D's job trivially easy and its
    gradients useless; blurring both with the same noise makes them overlap (Sonderby et al., 2017,
    "Amortised MAP Inference for Image Super-resolution", section 3.2; Arjovsky and Bottou, 2017).
    The noise shrinks linearly over ``anneal_iters`` iterations, counted from 1 as the trainer counts
    them: the full ``std`` at iteration 1, std / anneal_iters at the last, none after (it stays
    constant when ``anneal_iters`` is 0).
    """

    def __init__(self, std, anneal_iters=0):
        if std < 0:
            raise ValueError(f"InstanceNoise: std must be >= 0, got {std}")
        self.std, self.anneal_iters = float(std), int(anneal_iters)

    def std_at(self, iteration):
        if self.anneal_iters <= 0:
            return self.std
        return self.std * max(0.0, 1.0 - (iteration - 1) / self.anneal_iters)

    def __call__(self, x, iteration):
        std = self.std_at(iteration)
        if std == 0.0:
            return x
        return x + minigan.randn(*x.shape, dtype=x.dtype, device=x.device) * std


class EMA:
    """An exponential moving average of a model's parameters: shadow = d * shadow + (1 - d) * param.

    Sampling from averaged generator weights gives smoother, often clearly better samples than the
    last iterate, at no training cost (Yazici et al., 2019, "The Unusual Effectiveness of Averaging
    in GAN Training"; Karras et al., 2018, "Progressive Growing of GANs"), though not always: a G
    still improving at the end of a run beats its lagging average, as the default DCGAN's does with
    the R1 penalty (README, "Sampling from G itself"). Early on the decay is min(decay, (1 + n) /
    (10 + n)) after n updates, as in TensorFlow's ExponentialMovingAverage, so a short run is not
    dominated by the random initial weights. Buffers (batch-norm running statistics) are copied from
    the model rather than averaged, as StyleGAN2 does; recomputing them under the averaged weights
    (BigGAN's "standing statistics") changed nothing measurable on MNIST (README, third round of
    trials; again in round eighteen). ``state_dict()`` has the model's keys, so
    ``G_ema.load_state_dict(ema.state_dict())`` gives a generator to sample from.
    """

    def __init__(self, model, decay=0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA: decay must lie strictly between 0 and 1, got {decay}")
        self.model, self.decay = model, float(decay)
        self.updates = 0
        self.shadow = {name: p.data.copy() for name, p in model.named_parameters()}

    def update(self):
        """Move every shadow weight toward the model's current weight (call after each G step)."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for name, p in self.model.named_parameters():
            s = self.shadow[name]
            d = s.dtype.type(decay)
            s *= d  # in place: the shadow weights are plain arrays, outside any graph
            s += (1 - d) * p.data

    def state_dict(self):
        """The model's state dict with every parameter replaced by its average (copies)."""
        state = self.model.state_dict()
        for name, s in self.shadow.items():
            state[name] = backend.to_device(s, "cpu").copy()
        return state

    def load_state_dict(self, state):
        """Restore the shadow weights from a dict made by ``state_dict`` (buffers are ignored)."""
        for name, s in self.shadow.items():
            if name not in state:
                raise KeyError(f"EMA.load_state_dict: missing parameter {name!r}")
            value = state[name]
            if tuple(value.shape) != tuple(s.shape):
                raise ValueError(f"EMA.load_state_dict: {name!r} has shape {tuple(value.shape)}, "
                                 f"expected {tuple(s.shape)}")
            s[...] = backend.to_device(value.astype(s.dtype, copy=False), backend.device_of(s))
