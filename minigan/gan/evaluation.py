"""Scoring a generator the way the README's quality targets are measured.

2-D sets: 2,500 samples scored against the mixture's modes (the VEEGAN and PacGAN protocol: a sample
is high quality within 3 standard deviations of its nearest mode; a mode is captured when it is the
nearest mode of a high-quality sample). MNIST: 5,000 samples (as many as the real digits they are
compared with) scored by minigan's shipped classifier: class coverage, KL(class histogram ||
uniform) and the Frechet distance of its penultimate features, beside the real-versus-real floor.
Other image sets have no classifier, so only the sample count is reported.
"""
import numpy as np

from minigan import metrics

POINT_SAMPLES = 2500
MNIST_SAMPLES = 5000
BATCH = 500


def draw(sample_fn, nz, n, seed, num_classes=None):
    """``n`` samples from ``sample_fn(z, labels)`` in batches, with noise from its own generator (so
    scoring never disturbs the training random stream); labels cycle through the classes."""
    rng = np.random.default_rng([int(seed), 1618])
    parts = []
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        z = rng.standard_normal((count, nz), dtype=np.float32)
        labels = None if num_classes is None else (np.arange(start, start + count) % num_classes)
        parts.append(sample_fn(z, labels))
    return np.concatenate(parts)


def evaluate_generator(sample_fn, nz, meta, conditional=False, seed=0):
    """A JSON-able dict of metrics for the data set described by ``meta`` (``get_dataset``'s)."""
    num_classes = meta.get("num_classes") if conditional else None
    if meta["kind"] == "points":
        samples = draw(sample_fn, nz, POINT_SAMPLES, seed, num_classes)
        return metrics.mode_metrics(samples, meta["modes"], meta["std"])
    if meta["name"] == "mnist" and tuple(meta["shape"]) == (1, 28, 28):
        samples = draw(sample_fn, nz, MNIST_SAMPLES, seed, num_classes)
        return metrics.mnist_metrics(samples)
    return {"num_samples": 0, "note": f"no metric is defined for {meta['name']!r}; look at samples.png"}
