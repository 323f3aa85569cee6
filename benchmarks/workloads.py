"""The end-to-end workloads W1, W2, W3 of DESIGN section 7, and W2R1, built the same way in minigan and PyTorch.

Each model is a list of layer specs, (class name, args, kwargs), and both frameworks build it from
their own ``nn`` module (``minigan.nn`` and ``torch.nn`` share the class names and arguments), so the
two run the same layer sequence by construction. The weights are drawn once in NumPy and copied into
both, so they also compute the same numbers.

One iteration (``Workload.step``): z ~ N(0, 1); fake = G(z); a D step on
BCE-with-logits(D(real), 1) + BCE-with-logits(D(fake.detach()), 0); a G step on
BCE-with-logits(D(fake), 1) (non-saturating); both with Adam(lr 2e-4, betas (0.5, 0.999)); float32.

W3 is pytorch/examples' dcgan without D's final Sigmoid: the loss takes logits (BCE-with-logits is
the stable form of the example's Sigmoid + BCELoss, and costs the same).

W2R1 is W2 with the R1 penalty (gamma 10) added to D's loss, on the whole real batch, and D's batch
norm replaced by a per-sample layer norm (GroupNorm(1, 128)), as a gradient penalty needs: the penalty's
double backward, which W1 to W3 never run (what ``minigan train --r1 10`` does on each D step).
"""
from typing import NamedTuple

import numpy as np

LR, BETAS = 2e-4, (0.5, 0.999)


class Spec(NamedTuple):
    """A workload: the layer specs of G and D, the noise shape and the real-batch shape (batch first),
    and the weight of the R1 penalty in D's loss (0: none)."""
    name: str
    title: str
    generator: list
    discriminator: list
    noise: tuple
    image: tuple
    r1: float = 0.0


def _layer(name, *args, **kwargs):
    return (name, args, kwargs)


def w1():
    lrelu = _layer("LeakyReLU", 0.2)
    g = [_layer("Linear", 100, 128), lrelu, _layer("Linear", 128, 256), lrelu, _layer("Linear", 256, 784),
         _layer("Tanh")]
    d = [_layer("Linear", 784, 256), lrelu, _layer("Linear", 256, 128), lrelu, _layer("Linear", 128, 1)]
    return Spec("W1", "mlp-gan", g, d, (100,), (784,))


def w2():
    g = [_layer("Linear", 100, 128 * 7 * 7), _layer("BatchNorm1d", 128 * 7 * 7), _layer("ReLU"),
         _layer("Unflatten", 1, (128, 7, 7)),
         _layer("ConvTranspose2d", 128, 64, 4, 2, 1), _layer("BatchNorm2d", 64), _layer("ReLU"),
         _layer("ConvTranspose2d", 64, 1, 4, 2, 1), _layer("Tanh")]
    d = [_layer("Conv2d", 1, 64, 4, 2, 1), _layer("LeakyReLU", 0.2),
         _layer("Conv2d", 64, 128, 4, 2, 1), _layer("BatchNorm2d", 128), _layer("LeakyReLU", 0.2),
         _layer("Flatten"), _layer("Linear", 128 * 7 * 7, 1)]
    return Spec("W2", "dcgan-28", g, d, (100,), (1, 28, 28))


def w2_r1():
    spec = w2()
    d = [_layer("GroupNorm", 1, 128) if name == "BatchNorm2d" else (name, args, kwargs)
         for name, args, kwargs in spec.discriminator]
    return spec._replace(name="W2R1", title="dcgan-28 + R1", discriminator=d, r1=10.0)


def w3(nz=100, ngf=64, ndf=64, nc=3):
    def up(cin, cout, stride, pad):
        return [_layer("ConvTranspose2d", cin, cout, 4, stride, pad, bias=False), _layer("BatchNorm2d", cout),
                _layer("ReLU")]

    def down(cin, cout, bn=True):
        conv = [_layer("Conv2d", cin, cout, 4, 2, 1, bias=False)]
        return conv + ([_layer("BatchNorm2d", cout)] if bn else []) + [_layer("LeakyReLU", 0.2)]
    g = (up(nz, ngf * 8, 1, 0) + up(ngf * 8, ngf * 4, 2, 1) + up(ngf * 4, ngf * 2, 2, 1) + up(ngf * 2, ngf, 2, 1)
         + [_layer("ConvTranspose2d", ngf, nc, 4, 2, 1, bias=False), _layer("Tanh")])
    d = (down(nc, ndf, bn=False) + down(ndf, ndf * 2) + down(ndf * 2, ndf * 4) + down(ndf * 4, ndf * 8)
         + [_layer("Conv2d", ndf * 8, 1, 4, 1, 0, bias=False), _layer("Flatten")])
    return Spec("W3", "dcgan-64", g, d, (nz, 1, 1), (nc, 64, 64))


SPECS = {"W1": w1, "W2": w2, "W2R1": w2_r1, "W3": w3}


def build(nn, layers):
    """``nn.Sequential`` of ``layers`` from the framework's ``nn`` module."""
    return nn.Sequential(*[getattr(nn, name)(*args, **kwargs) for name, args, kwargs in layers])


def initial_weights(layers, seed):
    """One float32 array per parameter, in ``parameters()`` order (weight then bias, layer by layer).

    Conv weights N(0, 0.02) and batch-norm weights N(1, 0.02), biases 0, as DCGAN (Radford et al.
    2016); Linear layers U(-1/sqrt(in), 1/sqrt(in)) for weight and bias, as PyTorch's default.
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for name, args, kwargs in layers:
        has_bias = kwargs.get("bias", True)
        if name in ("Conv2d", "ConvTranspose2d"):
            cin, cout, k = args[:3]
            shape = (cout, cin, k, k) if name == "Conv2d" else (cin, cout, k, k)
            arrays.append(rng.normal(0, 0.02, shape))
            if has_bias:
                arrays.append(np.zeros(cout))
        elif name.startswith("BatchNorm") or name == "GroupNorm":
            channels = args[-1]  # BatchNorm2d(C), GroupNorm(groups, C)
            arrays += [rng.normal(1, 0.02, channels), np.zeros(channels)]
        elif name == "Linear":
            fan_in, fan_out = args
            bound = 1 / np.sqrt(fan_in)
            arrays.append(rng.uniform(-bound, bound, (fan_out, fan_in)))
            if has_bias:
                arrays.append(rng.uniform(-bound, bound, fan_out))
    return [a.astype(np.float32) for a in arrays]


def real_batch(spec, batch, seed=0):
    """A batch of real images in [-1, 1]: MNIST digits for 28x28 workloads, noise for W3's 64x64 RGB.

    Speed does not depend on the pixel values; MNIST is used where it fits only so that a W1/W2 run
    looks like training.
    """
    if spec.image[-1] == 28 or spec.image == (784,):
        from minigan.data.embedded import load_mnist_embedded
        images = load_mnist_embedded()[0]
        reps = -(-batch // len(images))
        x = np.tile(images, (reps, 1, 1))[:batch].astype(np.float32) / np.float32(127.5) - np.float32(1)
        return x.reshape((batch,) + spec.image)
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (batch,) + spec.image).astype(np.float32)


class MiniganWorkload:
    """One GAN iteration of ``spec`` in minigan on ``device``; ``step()`` runs it.

    On "cuda" a step ends by waiting for the GPU (kernels launch asynchronously), so that a timer
    around ``step()`` measures the work and not only its queueing.
    """

    framework = "minigan"

    def __init__(self, spec, batch, seed=0, device="cpu"):
        import minigan as mg
        import minigan.functional as F
        from minigan import nn, optim
        from minigan.gan.regularisers import r1_penalty

        self.mg, self.F, self.device, self.r1_penalty = mg, F, device, r1_penalty
        self.G, self.D = build(nn, spec.generator), build(nn, spec.discriminator)
        for model, layers, s in ((self.G, spec.generator, seed), (self.D, spec.discriminator, seed + 1)):
            for p, a in zip(model.parameters(), initial_weights(layers, s)):
                p.data[...] = a
            model.to(device)
        self.opt_g = optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.opt_d = optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)
        self.real = mg.tensor(real_batch(spec, batch, seed), device=device)
        self.ones, self.zeros = mg.ones(batch, 1, device=device), mg.zeros(batch, 1, device=device)
        self.noise, self.r1 = (batch,) + spec.noise, spec.r1
        mg.manual_seed(seed)

    def step(self):
        mg, F = self.mg, self.F
        bce = F.binary_cross_entropy_with_logits
        fake = self.G(mg.randn(*self.noise, device=self.device))
        self.opt_d.zero_grad()
        loss_d = bce(self.D(self.real), self.ones) + bce(self.D(fake.detach()), self.zeros)
        if self.r1:
            loss_d = loss_d + self.r1_penalty(self.D, self.real, self.r1)
        loss_d.backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        loss_g = bce(self.D(fake), self.ones)
        loss_g.backward()
        self.opt_g.step()
        mg.cuda.synchronize()
        return loss_d, loss_g.detach()


class TorchWorkload:
    """The same iteration in PyTorch on ``device`` (CPU threads set by the caller); on "cuda" a step
    ends by waiting for the GPU, as MiniganWorkload's."""

    framework = "torch"

    def __init__(self, spec, batch, seed=0, device="cpu"):
        import torch

        from .mnist_quality import torch_r1

        self.torch, self.device, self.r1_penalty = torch, torch.device(device), torch_r1
        self.G, self.D = build(torch.nn, spec.generator), build(torch.nn, spec.discriminator)
        with torch.no_grad():
            for model, layers, s in ((self.G, spec.generator, seed), (self.D, spec.discriminator, seed + 1)):
                for p, a in zip(model.parameters(), initial_weights(layers, s)):
                    p.copy_(torch.from_numpy(a))
                model.to(self.device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)
        self.real = torch.from_numpy(real_batch(spec, batch, seed)).to(self.device)
        self.ones = torch.ones(batch, 1, device=self.device)
        self.zeros = torch.zeros(batch, 1, device=self.device)
        self.noise, self.r1 = (batch,) + spec.noise, spec.r1
        torch.manual_seed(seed)

    def step(self):
        torch = self.torch
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        fake = self.G(torch.randn(*self.noise, device=self.device))
        self.opt_d.zero_grad()
        loss_d = bce(self.D(self.real), self.ones) + bce(self.D(fake.detach()), self.zeros)
        if self.r1:
            loss_d = loss_d + self.r1_penalty(torch, self.D, self.real, self.r1)
        loss_d.backward()
        self.opt_d.step()
        loss_d = loss_d.detach()  # as in MiniganWorkload.step
        self.opt_g.zero_grad()
        loss_g = bce(self.D(fake), self.ones)
        loss_g.backward()
        self.opt_g.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return loss_d, loss_g.detach()


FRAMEWORKS = {"minigan": MiniganWorkload, "torch": TorchWorkload}


def make(name, framework, batch, seed=0, device="cpu"):
    return FRAMEWORKS[framework](SPECS[name](), batch, seed, device)
