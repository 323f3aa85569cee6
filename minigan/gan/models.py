"""Generators and discriminators, written as a PyTorch user would write them.

Every network keeps its layers in an ``nn.Sequential`` called ``main`` (the name pytorch/examples
uses), and conditional ones add a ``label_embedding``, so a state dict has the same keys as the same
architecture written in PyTorch (``main.0.weight``, ``main.1.running_mean``, ...). Reshapes happen in
``forward`` rather than as layers, so layer indices match the usual PyTorch code.

A generator maps noise z (N, nz) to samples in data space: images (N, C, H, W) in [-1, 1] (a tanh
output) or 2-D points (N, 2). A discriminator maps samples to one logit per sample, (N, 1); the
losses apply the sigmoid where they need it. Conditional networks take the class labels (int (N,))
as a second argument (Mirza and Osindero, 2014, "Conditional Generative Adversarial Nets").

Discriminators with batch norm also have ``forward_joint(real, fake)`` (conditional ones take the labels
too): their logits for one joint batch, the two halves concatenated (the trainer's ``d_batch="joint"``;
``joint_logits`` says how). Every discriminator's ``forward`` and ``forward_joint`` take
``features=True`` to return ``(logits, h)`` as well, where h (N, F) is the input of the last layer
flattened: D's top hidden features, which feature matching compares (``losses.feature_matching``).

``build_models(name, sample_shape, num_classes)`` makes the pair for a model name of the ``minigan``
command: mlp, dcgan, dcgan64, cgan, cdcgan, toy.
"""
import math

from minigan import nn
from minigan.functional import concat


def discriminator_output(main, x, features=False):
    """``main(x)`` as (N, 1) logits, or with ``features=True`` ``(logits, h)``: h is the input of the
    last layer (the head), flattened to (N, F)."""
    if not features:
        return _as_logits(main(x))
    *body, head = main
    for layer in body:
        x = layer(x)
    return _as_logits(head(x)), x.reshape(x.shape[0], -1)


def joint_logits(main, real, fake, features=False):
    """``main(concat([real, fake]))`` for a Sequential ``main`` with batch norm: (2N, 1) logits (and,
    with ``features=True``, the head's input as in ``discriminator_output``).

    The layers before the first batch norm see each sample on its own, so they run on the two halves
    apart, and the halves meet at the batch norm. The logits are the same; what changes is the
    graph: in the generator's step nothing needs the real half's gradient, and a real half that
    enters the graph only at the batch norm has no backward pass through the layers below it.
    ``python -m benchmarks.joint_batch`` times this against joining the halves at D's input.
    """
    *body, head = main
    norms = (i for i, m in enumerate(body) if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)))
    first_norm = next(norms, len(body))  # without one, the halves meet at the head
    for layer in body[:first_norm]:
        real, fake = layer(real), layer(fake)
    h = concat([real, fake], axis=0)
    for layer in body[first_norm:]:
        h = layer(h)
    logits = _as_logits(head(h))
    return (logits, h.reshape(h.shape[0], -1)) if features else logits


def per_sample_norm(kind, channels):
    """D's normalisation layer after a convolution of ``channels`` outputs: "batch" (the DCGAN
    architectures' BatchNorm2d) or "layer": layer normalisation over each sample's (C, H, W) with a
    scale and shift per channel (GroupNorm with one group), as the WGAN-GP authors' critic has it.

    A gradient penalty (WGAN-GP's, R1) is a sum over samples of the norm of D's gradient with respect
    to each one, which assumes D(x_i) depends on x_i alone; training-mode batch norm makes every logit
    depend on the whole batch, and Gulrajani et al. (2017, section 4) recommend layer normalisation
    in its place."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    raise ValueError(f"unknown discriminator normalisation {kind!r}; choose batch or layer")


def _as_logits(out):
    # A convolutional head (DCGAN-64's) ends in (N, 1, 1, 1); the losses take (N, 1).
    return out if out.ndim == 2 else out.reshape(out.shape[0], 1)


# -- the MLP GAN (Goodfellow et al., 2014, with the LeakyReLU of later practice) ---------------------

class MLPGenerator(nn.Module):
    """z (N, nz) -> Linear-LReLU(0.2)-Linear-LReLU-Linear-tanh -> images (N, C, H, W).

    Defaults: the W1 benchmark network, 100-128-256-784. ``extra`` widens the input for a
    conditional variant (the label embedding is concatenated to z).
    """

    def __init__(self, image_shape=(1, 28, 28), nz=100, hidden=(128, 256), extra=0):
        super().__init__()
        self.image_shape, self.nz = tuple(image_shape), nz
        layers, width = [], nz + extra
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers += [nn.Linear(width, math.prod(self.image_shape)), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z).reshape(z.shape[0], *self.image_shape)


class MLPDiscriminator(nn.Module):
    """images -> flatten -> Linear-LReLU(0.2)-Linear-LReLU-Linear -> one logit. Default 784-256-128-1."""

    def __init__(self, image_shape=(1, 28, 28), hidden=(256, 128), extra=0):
        super().__init__()
        self.image_shape = tuple(image_shape)
        layers, width = [], math.prod(self.image_shape) + extra
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.main = nn.Sequential(*layers)

    def forward(self, x, features=False):
        return discriminator_output(self.main, x.reshape(x.shape[0], -1), features)


# -- DCGAN (Radford, Metz and Chintala, 2016) ---------------------------------------------------------

class DCGAN28Generator(nn.Module):
    """The W2 generator for 28x28 images: z -> Linear(nz, 128*7*7)-BN1d-ReLU -> (128, 7, 7)
    -> ConvT(128, 64, 4, 2, 1)-BN2d-ReLU -> (64, 14, 14) -> ConvT(64, C, 4, 2, 1)-tanh -> (C, 28, 28)."""

    def __init__(self, nz=100, channels=1, extra=0):
        super().__init__()
        self.nz, self.image_shape = nz, (channels, 28, 28)
        self.main = nn.Sequential(
            nn.Linear(nz + extra, 128 * 7 * 7),
            nn.BatchNorm1d(128 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, channels, 4, 2, 1),
            nn.Tanh(),
        )
        self.apply(nn.init.dcgan_init)

    def forward(self, z):
        return self.main(z)


class DCGAN28Discriminator(nn.Module):
    """The W2 discriminator: (C, 28, 28) -> Conv(C, 64, 4, 2, 1)-LReLU(0.2) -> (64, 14, 14)
    -> Conv(64, 128, 4, 2, 1)-BN2d-LReLU -> (128, 7, 7) -> Flatten-Linear(6272, 1). ``norm="layer"``
    puts a per-sample layer norm where BN2d is (``per_sample_norm``)."""

    def __init__(self, channels=1, extra_channels=0, norm="batch"):
        super().__init__()
        self.image_shape = (channels, 28, 28)
        self.main = nn.Sequential(
            nn.Conv2d(channels + extra_channels, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1),
            per_sample_norm(norm, 128),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
        )
        self.apply(nn.init.dcgan_init)

    def forward(self, x, features=False):
        return discriminator_output(self.main, x, features)

    def forward_joint(self, real, fake, features=False):
        return joint_logits(self.main, real, fake, features)


class DCGAN64Generator(nn.Module):
    """pytorch/examples dcgan's generator (W3): z (N, nz) viewed as (N, nz, 1, 1), then transposed
    convolutions 1 -> 4 -> 8 -> 16 -> 32 -> 64 pixels with ngf*8, *4, *2, *1 channels, BN and ReLU
    between them, tanh at the end; no biases (batch norm makes them redundant)."""

    def __init__(self, nz=100, ngf=64, channels=3):
        super().__init__()
        self.nz, self.image_shape = nz, (channels, 64, 64)
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf, channels, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        self.apply(nn.init.dcgan_init)

    def forward(self, z):
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class DCGAN64Discriminator(nn.Module):
    """pytorch/examples dcgan's discriminator (W3): convolutions 64 -> 32 -> 16 -> 8 -> 4 -> 1 pixels
    with ndf, *2, *4, *8 channels, BN (not on the first) and LeakyReLU(0.2); no biases. The example's
    final Sigmoid is left out: the losses take logits, which is the numerically stable form.
    ``norm="layer"`` puts a per-sample layer norm where each BN is (``per_sample_norm``)."""

    def __init__(self, ndf=64, channels=3, norm="batch"):
        super().__init__()
        self.image_shape = (channels, 64, 64)
        self.main = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            per_sample_norm(norm, ndf * 2),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            per_sample_norm(norm, ndf * 4),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            per_sample_norm(norm, ndf * 8),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        )
        self.apply(nn.init.dcgan_init)

    def forward(self, x, features=False):
        return discriminator_output(self.main, x, features)

    def forward_joint(self, real, fake, features=False):
        return joint_logits(self.main, real, fake, features)


# -- conditional GANs (Mirza and Osindero, 2014) ------------------------------------------------------

class ConditionalMLPGenerator(MLPGenerator):
    """G(z, y): the class goes in through a learned embedding concatenated to z."""

    def __init__(self, num_classes, image_shape=(1, 28, 28), nz=100, hidden=(128, 256), embed_dim=None):
        embed_dim = embed_dim or num_classes
        super().__init__(image_shape, nz, hidden, extra=embed_dim)
        self.num_classes = num_classes
        self.label_embedding = nn.Embedding(num_classes, embed_dim)

    def forward(self, z, labels):
        h = concat([z, self.label_embedding(labels)], axis=1)
        return self.main(h).reshape(z.shape[0], *self.image_shape)


class ConditionalMLPDiscriminator(MLPDiscriminator):
    """D(x, y): the flattened image and a learned embedding of its class, side by side."""

    def __init__(self, num_classes, image_shape=(1, 28, 28), hidden=(256, 128), embed_dim=None):
        embed_dim = embed_dim or num_classes
        super().__init__(image_shape, hidden, extra=embed_dim)
        self.num_classes = num_classes
        self.label_embedding = nn.Embedding(num_classes, embed_dim)

    def forward(self, x, labels, features=False):
        return discriminator_output(
            self.main, concat([x.reshape(x.shape[0], -1), self.label_embedding(labels)], axis=1), features)


class ConditionalDCGAN28Generator(DCGAN28Generator):
    """DCGAN-28's generator with a class embedding concatenated to z before the first Linear."""

    def __init__(self, num_classes, nz=100, channels=1, embed_dim=None):
        embed_dim = embed_dim or num_classes
        super().__init__(nz, channels, extra=embed_dim)
        self.num_classes = num_classes
        self.label_embedding = nn.Embedding(num_classes, embed_dim)

    def forward(self, z, labels):
        return self.main(concat([z, self.label_embedding(labels)], axis=1))


class ConditionalDCGAN28Discriminator(DCGAN28Discriminator):
    """DCGAN-28's discriminator reading the class as an extra image channel: a learned 28x28 map per
    class (an embedding of size 784) stacked onto the image."""

    def __init__(self, num_classes, channels=1, norm="batch"):
        super().__init__(channels, extra_channels=1, norm=norm)
        self.num_classes = num_classes
        self.label_embedding = nn.Embedding(num_classes, 28 * 28)

    def forward(self, x, labels, features=False):
        return discriminator_output(self.main, concat([x, self._plane(labels)], axis=1), features)

    def forward_joint(self, real, fake, labels, features=False):
        """``labels`` (N,) are the classes of both halves: the fake half was drawn for the real labels,
        so one plane per sample serves both."""
        plane = self._plane(labels)
        return joint_logits(self.main, concat([real, plane], axis=1), concat([fake, plane], axis=1), features)

    def _plane(self, labels):
        """The learned 28x28 map of each label, as an extra input channel (N, 1, 28, 28)."""
        return self.label_embedding(labels).reshape(labels.shape[0], 1, 28, 28)


# -- the 2-D toy MLP ---------------------------------------------------------------------------------

class ToyGenerator(nn.Module):
    """z (N, nz) -> ``depth`` hidden layers of ``width`` ReLU units -> a point (N, 2), no output squashing."""

    def __init__(self, nz=2, width=128, depth=3):
        super().__init__()
        self.nz = nz
        layers, fan_in = [], nz
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
            fan_in = width
        layers.append(nn.Linear(fan_in, 2))
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z)


class ToyDiscriminator(nn.Module):
    """A point (N, 2) -> ``depth`` hidden layers of ``width`` LeakyReLU(0.2) units -> one logit."""

    def __init__(self, width=128, depth=3):
        super().__init__()
        layers, fan_in = [], 2
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.LeakyReLU(0.2)]
            fan_in = width
        layers.append(nn.Linear(fan_in, 1))
        self.main = nn.Sequential(*layers)

    def forward(self, x, features=False):
        return discriminator_output(self.main, x, features)


# -- the model names of the `minigan` command --------------------------------------------------------

MODELS = ("mlp", "dcgan", "dcgan64", "cgan", "cdcgan", "toy")
CONDITIONAL = ("cgan", "cdcgan")
UNCONDITIONAL_TWIN = {"cgan": "mlp", "cdcgan": "dcgan"}  # the same networks without the class input


def default_nz(name):
    """The size of z for a model: 2 for the toy model on 2-D points (as VEEGAN and PacGAN), else 100."""
    return 2 if name == "toy" else 100


def _require_image_shape(name, sample_shape, height, hint):
    if len(sample_shape) != 3 or tuple(sample_shape[1:]) != (height, height):
        raise ValueError(f"model {name!r} draws {height}x{height} images but the data set holds samples of "
                         f"shape {tuple(sample_shape)}; {hint}")


def build_models(name, sample_shape, num_classes=None, nz=None, toy_width=128, toy_depth=3, d_norm="batch"):
    """The (generator, discriminator) pair for a model name, checked against the data's sample shape.

    ``sample_shape`` is one sample's shape ((C, H, W) or (2,)); ``num_classes`` is needed by the
    conditional models; ``nz`` overrides the noise size (100 for images, 2 for the toy model);
    ``d_norm`` ("batch" or "layer", ``per_sample_norm``) is the DCGAN discriminators' normalisation
    (the MLP and toy discriminators have none).
    """
    sample_shape = tuple(sample_shape)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    is_points = sample_shape == (2,)
    if (name == "toy") != is_points:
        raise ValueError(f"model {name!r} cannot train on samples of shape {sample_shape}; use --model toy "
                         "with the 2-D sets (ring8, grid25) and an image model (mlp, dcgan, ...) with images")
    if name in CONDITIONAL and not num_classes:
        raise ValueError(f"model {name!r} is conditional but the data set has no labels; use a labelled set "
                         "(mnist, fashion-mnist, or a folder with one sub-folder per class) or --model "
                         f"{UNCONDITIONAL_TWIN[name]}")
    nz = default_nz(name) if nz is None else nz
    if name == "toy":
        return ToyGenerator(nz, toy_width, toy_depth), ToyDiscriminator(toy_width, toy_depth)
    channels = sample_shape[0]
    if name == "mlp":
        return MLPGenerator(sample_shape, nz), MLPDiscriminator(sample_shape)
    if name == "cgan":
        return (ConditionalMLPGenerator(num_classes, sample_shape, nz),
                ConditionalMLPDiscriminator(num_classes, sample_shape))
    if name in ("dcgan", "cdcgan"):
        _require_image_shape(name, sample_shape, 28, "use --model dcgan64 for 64x64 images, or mlp for any size")
        if name == "dcgan":
            return DCGAN28Generator(nz, channels), DCGAN28Discriminator(channels, norm=d_norm)
        return (ConditionalDCGAN28Generator(num_classes, nz, channels),
                ConditionalDCGAN28Discriminator(num_classes, channels, norm=d_norm))
    _require_image_shape(name, sample_shape, 64, "use --model dcgan for 28x28 images, or mlp for any size")
    return DCGAN64Generator(nz, channels=channels), DCGAN64Discriminator(channels=channels, norm=d_norm)


def has_batch_norm(model):
    """Does ``model`` hold a batch-norm layer (whose statistics mix the samples of a batch)?"""
    return any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.modules())


def is_conditional(model):
    """Does ``model`` take class labels as a second argument?"""
    return hasattr(model, "label_embedding")
