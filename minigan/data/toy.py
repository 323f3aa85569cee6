"""2-D toy sets for seeing mode collapse: mixtures of tight Gaussians whose modes are known.

ring8: 8 Gaussians evenly spaced on a circle of radius 2; grid25: a 5 x 5 grid of Gaussians with
spacing 2 centred at the origin (coordinates -4, -2, 0, 2, 4); each with standard deviation 0.02 and
equal weights. These are the sets of VEEGAN (Srivastava et al., "VEEGAN: Reducing Mode Collapse in GANs
using Implicit Variational Learning", NeurIPS 2017) and PacGAN (Lin et al., "PacGAN: The power of two
samples in generative adversarial networks", NeurIPS 2018). ``minigan.metrics.modes`` scores samples
against ``modes`` and ``std``.
"""
import numpy as np


def ring_modes(count=8, radius=2.0):
    """``count`` points evenly spaced on a circle, the first on the positive x axis."""
    angles = 2.0 * np.pi * np.arange(count) / count
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_modes(side=5, spacing=2.0):
    """A ``side`` x ``side`` grid with the given spacing, centred at the origin."""
    ticks = spacing * (np.arange(side) - (side - 1) / 2.0)
    xs, ys = np.meshgrid(ticks, ticks, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


class ToySet:
    """An equal-weight mixture of isotropic Gaussians in the plane with centres ``modes`` (K, 2)."""

    def __init__(self, name, modes, std):
        self.name = name
        self.modes = modes
        self.std = float(std)

    def sample(self, n, rng):
        """``n`` points (float32 (n, 2)) and the index of the mode each was drawn from (int64 (n,))."""
        labels = rng.integers(0, len(self.modes), size=n)
        noise = rng.standard_normal((n, 2), dtype=np.float32) * np.float32(self.std)
        return self.modes[labels] + noise, labels

    def __repr__(self):
        return f"ToySet({self.name!r}, {len(self.modes)} modes, std={self.std})"


TOY_SETS = {
    "ring8": ToySet("ring8", ring_modes(8, 2.0), 0.02),
    "grid25": ToySet("grid25", grid_modes(5, 2.0), 0.02),
}
