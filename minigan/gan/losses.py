"""GAN objectives: what the discriminator (or critic) and the generator each minimise.

Every loss works on the discriminator's raw outputs ("logits"), one per sample, never on
probabilities: ``d_loss(real_logits, fake_logits)`` is minimised by D and ``g_loss(fake_logits)`` by G
(``g_loss(fake_logits, real_logits)`` for the relativistic losses, whose G also looks at a real batch).
Writing r = D(x) for real data and f = D(G(z)) for generated data, and sigma for the logistic sigmoid:

================  ===========================================  ==============================
loss              D minimises                                  G minimises
================  ===========================================  ==============================
minimax           -E log sigma(r) - E log(1 - sigma(f))        E log(1 - sigma(f))
non-saturating    (same as minimax)                            -E log sigma(f)
wasserstein       E f - E r    (+ weight clipping)             -E f
wgan-gp           E f - E r + 10 E (||grad D(x_hat)|| - 1)^2   -E f
hinge             E max(0, 1 - r) + E max(0, 1 + f)            -E f
least-squares     1/2 E (r - 1)^2 + 1/2 E f^2                  1/2 E (f - 1)^2
relativistic      -E log sigma(r - E f)                        -E log sigma(f - E r)
                  - E log(1 - sigma(f - E r))                  - E log(1 - sigma(r - E f))
relativistic-     -E_i log sigma(r_i - f_i)                    -E_i log sigma(f_i - r_i)
pairing
================  ===========================================  ==============================

The log-sigmoid terms are computed through softplus (log sigma(r) = -softplus(-r),
log(1 - sigma(f)) = -softplus(f)), which is exact and never overflows.

Feature matching (``feature_matching``) and the maximum mean discrepancy (``mmd``) are terms G's loss
can carry beside any of these: the squared distance between the mean features D finds in a real batch
and in a fake one, and a kernel distance between the two batches of features.

Losses built on targets (minimax, non-saturating, least squares) accept a ``real_target`` other than
1 for the label tricks of ``minigan.gan.tricks`` (one-sided smoothing, flipping); the critics
(wasserstein, wgan-gp, hinge) have no targets and say so if asked for one.
"""
from minigan import backend
from minigan.functional import binary_cross_entropy_with_logits, exp, matmul, relu, softplus, transpose
from minigan.gan.regularisers import gradient_penalty
from minigan.tensor import Tensor


class GANLoss:
    """Base class. Subclasses define ``d_loss`` and ``g_loss``; the hooks below default to nothing.

    ``recipe`` is the optimiser setting a loss needs that differs from the usual Adam one (the WGANs
    train with several critic steps per generator step), and for the WGANs no R1 penalty, whatever
    the model's defaults say (their critic is kept in check by clipping or by its own penalty); the
    command uses it when that loss is chosen and the flags do not say otherwise. Empty for the losses
    that train well with the model's defaults.
    """

    name = None
    uses_targets = False  # can the label tricks (smoothing, flipping) change the real target?
    outputs_probabilities = False  # is sigmoid(logit) a meaningful "D(x)" to report?
    penalises_input_gradient = False  # does D's loss penalise grad_x D(x) per sample (D then needs no batch norm)?
    g_needs_real_logits = False  # does G's loss need D's logits for a real batch (the G step then scores one)?
    recipe = {}

    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        raise NotImplementedError

    def g_loss(self, fake_logits, real_logits=None):
        """G's loss; ``real_logits`` (D's logits for the G step's real batch) is given when
        ``g_needs_real_logits`` asks for it, and may be given (and ignored) otherwise."""
        raise NotImplementedError

    def penalty(self, critic, real, fake):
        """An extra term of the D loss that needs the critic itself (WGAN-GP); None for most losses."""
        return None

    def after_d_step(self, discriminator):
        """Called after each optimiser step of D (weight clipping for the original WGAN)."""

    def _no_targets(self, real_target):
        if not (isinstance(real_target, (int, float)) and real_target == 1.0):
            raise ValueError(f"{self.name} loss: it has no real/fake targets, so label smoothing and "
                             "label flipping do not apply; use minimax, non-saturating or least-squares")

    def __repr__(self):
        return f"{type(self).__name__}()"


class Minimax(GANLoss):
    """The original two-player game (Goodfellow et al., 2014, "Generative Adversarial Nets", eq. 1).

    min_G max_D  E_x log D(x) + E_z log(1 - D(G(z))).  D's side is binary cross-entropy with real
    labelled 1 and fake 0. G minimises E log(1 - sigma(f)) = -E softplus(f), whose gradient vanishes
    while D confidently rejects the fakes (sigma(f) ~ 0), which is why it learns slowly at first.
    """

    name = "minimax"
    uses_targets = True
    outputs_probabilities = True
    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        return (binary_cross_entropy_with_logits(real_logits, real_target)
                + binary_cross_entropy_with_logits(fake_logits, 0.0))

    def g_loss(self, fake_logits, real_logits=None):
        return -softplus(fake_logits).mean()


class NonSaturating(Minimax):
    """The "-log D trick" (Goodfellow et al., 2014, section 3): G maximises E log D(G(z)) instead.

    Same fixed point as the minimax game, but G's gradient is strong exactly when D rejects its
    samples. G's loss is binary cross-entropy of the fakes against the label 1: E softplus(-f).
    """

    name = "non-saturating"

    def g_loss(self, fake_logits, real_logits=None):
        return binary_cross_entropy_with_logits(fake_logits, 1.0)


class Wasserstein(GANLoss):
    """WGAN (Arjovsky, Chintala and Bottou, 2017, "Wasserstein GAN", Algorithm 1).

    The critic estimates the earth mover's distance sup_{||D||_L <= 1} E D(x) - E D(G(z)); it minimises
    E f - E r and G minimises -E f. The Lipschitz constraint is enforced crudely by clipping every
    critic parameter to [-clip, clip] after each critic step. The paper trains with RMSprop 5e-5 and
    five critic steps per generator step.
    """

    name = "wasserstein"
    recipe = {"optimizer": "rmsprop", "lr": 5e-5, "n_critic": 5, "r1": 0.0}

    def __init__(self, clip=0.01):
        self.clip = float(clip)

    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        self._no_targets(real_target)
        return fake_logits.mean() - real_logits.mean()

    def g_loss(self, fake_logits, real_logits=None):
        return -fake_logits.mean()

    def after_d_step(self, discriminator):
        for p in discriminator.parameters():
            # In place on the raw array: clipping is a projection after the step, not part of a graph.
            p.data.clip(-self.clip, self.clip, out=p.data)
            p._bump_version()

    def __repr__(self):
        return f"Wasserstein(clip={self.clip})"


class WassersteinGP(Wasserstein):
    """WGAN-GP (Gulrajani et al., 2017, "Improved Training of Wasserstein GANs", Algorithm 1).

    Replaces clipping by a penalty on the critic's gradient norm at random points between real and
    fake samples: lambda E (||grad_x D(x_hat)||_2 - 1)^2 with x_hat = alpha x + (1 - alpha) G(z),
    one alpha ~ U[0, 1] per sample, lambda = 10. The paper uses Adam(1e-4, betas (0, 0.9)) and five
    critic steps per generator step, and no batch normalisation in the critic: the command then puts
    layer norm where the DCGAN critics have batch norm (``--d-norm``, ``models.per_sample_norm``).
    """

    name = "wgan-gp"
    penalises_input_gradient = True
    recipe = {"optimizer": "adam", "lr": 1e-4, "betas": (0.0, 0.9), "n_critic": 5, "r1": 0.0}

    def __init__(self, weight=10.0):
        self.weight = float(weight)

    def penalty(self, critic, real, fake):
        return gradient_penalty(critic, real, fake) * self.weight

    def after_d_step(self, discriminator):
        pass  # the penalty replaces clipping

    def __repr__(self):
        return f"WassersteinGP(weight={self.weight})"


class Hinge(GANLoss):
    """Hinge loss (Lim and Ye, 2017, "Geometric GAN"; Miyato et al., 2018, "Spectral Normalization").

    D minimises E max(0, 1 - r) + E max(0, 1 + f): real logits are pushed above +1, fake ones below
    -1, and samples already beyond the margin stop contributing. G minimises -E f.
    """

    name = "hinge"

    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        self._no_targets(real_target)
        return relu(1.0 - real_logits).mean() + relu(1.0 + fake_logits).mean()

    def g_loss(self, fake_logits, real_logits=None):
        return -fake_logits.mean()


class LeastSquares(GANLoss):
    """LSGAN (Mao et al., 2017, "Least Squares Generative Adversarial Networks", eq. 2 with a-b-c = 0-1-1).

    D regresses real outputs to b = 1 and fake ones to a = 0: 1/2 E (r - 1)^2 + 1/2 E f^2; G pulls
    the fakes' outputs to c = 1: 1/2 E (f - 1)^2. Fakes far on the correct side of the boundary are
    still penalised, which gives G gradients where the sigmoid loss saturates.
    """

    name = "least-squares"
    uses_targets = True

    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        if not isinstance(real_target, Tensor):
            real_target = float(real_target)
        real_err = real_logits - real_target
        return 0.5 * (real_err * real_err).mean() + 0.5 * (fake_logits * fake_logits).mean()

    def g_loss(self, fake_logits, real_logits=None):
        err = fake_logits - 1.0
        return 0.5 * (err * err).mean()


class RelativisticAverage(GANLoss):
    """Relativistic average GAN, RaSGAN (Jolicoeur-Martineau, 2019, "The relativistic discriminator: a
    key element missing from standard GAN").

    D no longer says how real a sample is but how much more real it is than the other side's average:
    with r, f the logits of a real and a fake batch, D minimises

        -E log sigma(r - E f) - E log(1 - sigma(f - E r))

    and G the same with the roles swapped, -E log sigma(f - E r) - E log(1 - sigma(r - E f)). So G's
    loss has a term in the real batch too: it lowers how much more real the real samples look, not only
    raises how real its own look. Only differences of logits enter, which is why there are no targets
    (no label smoothing or flipping) and why ``D(x)`` is reported as a mean logit, not a probability.
    Each term is softplus of a difference, exact and without overflow as for the other sigmoid losses.
    """

    name = "relativistic"
    g_needs_real_logits = True

    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        self._no_targets(real_target)
        return softplus(fake_logits.mean() - real_logits).mean() + softplus(fake_logits - real_logits.mean()).mean()

    def g_loss(self, fake_logits, real_logits=None):
        if real_logits is None:
            raise ValueError("relativistic loss: G's loss compares the fakes with a real batch; pass real_logits")
        return softplus(real_logits.mean() - fake_logits).mean() + softplus(real_logits - fake_logits.mean()).mean()


class RelativisticPairing(GANLoss):
    """Relativistic pairing GAN, RpGAN (Jolicoeur-Martineau, 2019, the same paper, where it is "RSGAN").

    Each real sample is paired with one fake, the i-th of each batch (both batches are random draws, so
    this is a random pairing), and D is asked which of the two is the real one:

        D minimises E_i softplus(f_i - r_i) = -E_i log sigma(r_i - f_i),   G minimises E_i softplus(r_i - f_i).

    Sun et al. (2020, "Towards a Better Global Loss Landscape of GANs") show that this coupling leaves
    the game no basins in which G drops modes of the data, unlike the separable losses above, where G
    can settle on part of the data; Huang et al. (2024, "The GAN is Dead; Long Live the GAN!", R3GAN)
    build on it for that reason. As for the average variant there are no targets, and both batches
    must have the same size.
    """

    name = "relativistic-pairing"
    g_needs_real_logits = True

    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        self._no_targets(real_target)
        self._check_pairs(real_logits, fake_logits)
        return softplus(fake_logits - real_logits).mean()

    def g_loss(self, fake_logits, real_logits=None):
        if real_logits is None:
            raise ValueError("relativistic-pairing loss: G's loss pairs each fake with a real sample; "
                             "pass real_logits")
        self._check_pairs(real_logits, fake_logits)
        return softplus(real_logits - fake_logits).mean()

    def _check_pairs(self, real_logits, fake_logits):
        if tuple(real_logits.shape) != tuple(fake_logits.shape):
            raise ValueError(f"{self.name} loss: real_logits {tuple(real_logits.shape)} and fake_logits "
                             f"{tuple(fake_logits.shape)} must have the same shape, one real per fake")


LOSSES = {cls.name: cls for cls in (Minimax, NonSaturating, Wasserstein, WassersteinGP, Hinge, LeastSquares,
                                    RelativisticAverage, RelativisticPairing)}
ALIASES = {"ns": "non-saturating", "wgan": "wasserstein", "lsgan": "least-squares", "gan": "non-saturating",
           "rasgan": "relativistic", "rpgan": "relativistic-pairing"}


def feature_matching(real_features, fake_features):
    """mean_j (mean_i h(x_i)_j - mean_i h(G(z_i))_j)^2: how far the batch mean of D's top hidden
    features h (the input of D's last layer, (N, F) each) lies from the real batch's.

    Salimans et al. (2016), "Improved Techniques for Training GANs", section 3.1, train G to match
    these expected features instead of fooling D; minigan adds the term to G's adversarial loss
    (``TrainConfig.feature_matching`` is its weight). A batch mean is where a generator that draws
    some kinds of sample too often or too rarely would show, so the term is meant to pull G toward the
    real mixture (on MNIST it did not do so reliably: README, "Feature matching").
    It averages over the F features rather than summing, so a weight does not depend on D's width.
    The real features are not detached: where D normalises real and fake with joint batch-norm
    statistics, they depend on the fakes too, and G's gradient counts that.
    """
    diff = real_features.mean(axis=0) - fake_features.mean(axis=0)
    return (diff * diff).mean()


MMD_SCALES = (0.25, 1.0, 4.0)  # kernel widths, in units of the median squared distance


def mmd(real_features, fake_features, bandwidth=None):
    """Squared maximum mean discrepancy between a real batch x and a fake batch y of feature vectors
    ((N, F) and (M, F)), under a mix of Gaussian kernels (Gretton et al. 2012, "A Kernel Two-Sample
    Test", the biased estimate):

        MMD^2 = mean_ij k(x_i, x_j) + mean_ij k(y_i, y_j) - 2 mean_ij k(x_i, y_j)
        k(a, b) = 1/3 sum_{s in MMD_SCALES} exp(-||a - b||^2 / (s m))

    m is ``bandwidth`` or, by default, the median squared distance between two different samples of
    the two batches (a common heuristic), taken as a constant: G should lower the term by matching the
    data, not by moving the ruler.

    With these characteristic kernels the population MMD is zero only when the two distributions are
    equal, the mix of kinds of sample included, where a difference of means (``feature_matching``) can
    be zero for different mixes. MMD GAN (Li et al. 2017) compares a critic's features this way; minigan
    adds the term, on D's top hidden features as feature matching takes them, to G's adversarial loss
    (``TrainConfig.mmd`` is its weight; README, "MMD on D's features"). As there, the real features
    are not detached.
    """
    for name, t in (("real_features", real_features), ("fake_features", fake_features)):
        if t.ndim != 2:
            raise ValueError(f"mmd: {name} must be (N, F) vectors, got shape {tuple(t.shape)}")
    x, y = real_features, fake_features
    d_xx, d_yy, d_xy = _squared_distances(x, x), _squared_distances(y, y), _squared_distances(x, y)
    if bandwidth is None:
        bandwidth = mmd_bandwidth(d_xx.data, d_yy.data, d_xy.data)
    total = 0.0
    for scale in MMD_SCALES:
        c = -1.0 / (scale * bandwidth)
        total = total + exp(d_xx * c).mean() + exp(d_yy * c).mean() - exp(d_xy * c).mean() * 2.0
    return total * (1.0 / len(MMD_SCALES))


def _squared_distances(a, b):
    """||a_i - b_j||^2 for (N, F) and (M, F) -> (N, M), as |a|^2 + |b|^2 - 2 a.b: one matrix product."""
    aa = (a * a).sum(axis=1, keepdims=True)
    bb = (b * b).sum(axis=1, keepdims=True)
    return aa + transpose(bb) - matmul(a, transpose(b)) * 2.0


def mmd_bandwidth(d_xx, d_yy, d_xy):
    """mmd's default kernel width m, from the raw squared distances (N, N), (M, M) and (N, M): the median
    of the positive squared distances between two different samples (the cross pairs, and the
    within-batch pairs off the diagonal, where rounding leaves tiny values instead of zeros), or 1 when
    there are none, every sample being the same point; every kernel value is 1 then, whatever the
    width. benchmarks.mnist_quality's PyTorch copy of the term uses it too."""
    xp = backend.get_array_module(d_xx, d_yy, d_xy)
    d = xp.concatenate([d_xx[~xp.eye(len(d_xx), dtype=bool)], d_yy[~xp.eye(len(d_yy), dtype=bool)], d_xy.ravel()])
    d = d[d > 0]
    return float(xp.median(d)) if d.size else 1.0


def get_loss(name, **kwargs):
    """The loss called ``name`` (or one of its aliases: ns, gan, wgan, lsgan, rasgan, rpgan), built with ``kwargs``."""
    key = ALIASES.get(name, name)
    if key not in LOSSES:
        names = ", ".join(sorted(LOSSES)) + " (aliases: " + ", ".join(sorted(ALIASES)) + ")"
        raise ValueError(f"unknown loss {name!r}; choose one of {names}")
    return LOSSES[key](**kwargs)
