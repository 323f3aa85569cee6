"""Gradient penalties on the discriminator: WGAN-GP's and R1.

Both differentiate the critic's output with respect to its input with ``create_graph=True``, so the
penalty is itself a function of D's parameters that ``backward`` can differentiate again (double
backward). ``critic`` is any callable from a batch of inputs to one logit per sample; a conditional
discriminator is passed as ``lambda x: D(x, labels)``.
"""
import minigan
from minigan.tensor import Tensor


def _input_gradient(critic, x):
    """d sum(critic(x)) / dx, kept in the graph. Summing gives each sample's own gradient only when
    sample i's logit depends on x_i alone: true of a critic without batch norm (the command's
    ``--d-norm layer``, its default with a penalty; ``models.per_sample_norm``), not of one with."""
    x = Tensor(x.detach().data, requires_grad=True)
    (grad,) = minigan.grad(critic(x).sum(), x, create_graph=True)
    return grad.reshape(grad.shape[0], -1)


def _squared_norms(grad):
    return (grad * grad).sum(axis=1)


def gradient_penalty(critic, real, fake, target_norm=1.0):
    """E (||grad_x D(x_hat)||_2 - target_norm)^2 at x_hat = alpha x + (1 - alpha) x_fake (no weight).

    One alpha ~ U[0, 1] per sample, drawn from minigan's seeded generator, so every point lies on the
    segment between a real sample and a fake one (Gulrajani et al., 2017, section 4, "Sampling
    distribution"). A tiny epsilon inside the square root keeps its derivative finite where a
    gradient is exactly zero.
    """
    if tuple(real.shape) != tuple(fake.shape):
        raise ValueError(f"gradient_penalty: real batch of shape {tuple(real.shape)} and fake batch of "
                         f"shape {tuple(fake.shape)} must have the same shape")
    alpha = minigan.rand(real.shape[0], *([1] * (real.ndim - 1)), dtype=real.dtype, device=real.device)
    real, fake = real.detach(), fake.detach()
    x_hat = fake + alpha * (real - fake)
    norms = (_squared_norms(_input_gradient(critic, x_hat)) + 1e-12).sqrt()
    gap = norms - target_norm
    return (gap * gap).mean()


def r1_penalty(critic, real, gamma):
    """R1 (Mescheder, Geiger and Nowozin, 2018, "Which Training Methods for GANs do actually
    Converge?", eq. 9): gamma / 2 * E ||grad_x D(x)||^2 on real data only.

    It pushes the discriminator to be flat on the data manifold, which makes the game locally
    convergent; typical gamma: 10 for images, 0.1 to 1 for small sets.
    """
    return _squared_norms(_input_gradient(critic, real)).mean() * (0.5 * float(gamma))
