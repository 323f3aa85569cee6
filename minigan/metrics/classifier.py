"""Scoring generated MNIST digits with a small classifier that minigan trained itself.

``MnistClassifier`` is a two-convolution network (about 113,000 weights) trained by
``python -m minigan.metrics.train_classifier`` on the embedded 5,000-digit subset, holding out 50
digits per class (``held_out_split``); its weights ship as package data, ``minigan/data/mnist_classifier.npz``.
It gives four numbers for a batch of generated digits (``mnist_metrics``):

- class coverage: the share of samples the classifier assigns to each digit (a GAN that forgets a
  digit shows a share near 0);
- KL(class histogram || uniform) = sum_k p_k log(10 p_k), in nats: 0 when every digit is equally
  frequent, log 10 = 2.30 when all samples are one digit;
- the Frechet distance between Gaussians fitted to the classifier's penultimate features (64 numbers
  per image) of the samples and of the 5,000 real digits (``minigan.metrics.frechet``), next to the
  real-versus-real floor: the same distance between two disjoint halves of the real digits, averaged
  over ten random splits. That floor uses 2,500 digits a side, so it carries more sampling noise and
  upward bias than a score of 5,000 samples against the 5,000 real digits: for Gaussian features with
  the real ones' statistics, independent sets give about 2.4 at 2,500 a side and 1.1 at 5,000 (20 draws each), so a
  perfect generator would score about half the floor. The reference digits are the ones the GAN trains
  on, so a generator that copied them would score 0; the metric does not detect memorisation;
- the confident share: the share of samples whose most likely class the classifier gives a probability
  of at least 0.9 (the per-sample half of the Inception Score's idea, Salimans et al. 2016, section 4),
  next to the same share of the 500 held-out real digits. It is not a count of readable digits: the
  classifier saw clean digits only and can be sure of a scribble (``python -m
  benchmarks.classified_samples`` draws what it assigns to a digit; README, "Read these scores with the
  samples beside them").
"""
import os

import numpy as np

import minigan
from minigan import backend, io, nn
from minigan import random as mg_random
from minigan.data.datasets import images_to_data_space
from minigan.data.embedded import load_mnist_embedded
from minigan.metrics.frechet import frechet_distance, frechet_distance_of_features, gaussian_stats

CLASSIFIER_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                               "mnist_classifier.npz")
HELD_OUT_PER_CLASS = 50
SPLIT_SEED = 20240611
CONFIDENT = 0.9
_cache = {}


class MnistClassifier(nn.Module):
    """Conv(1->16, 5x5, stride 2) - LReLU - Conv(16->32, 5x5, stride 2) - LReLU - Linear(1568, 64) - LReLU
    - Linear(64, 10). Input: (N, 1, 28, 28) in [-1, 1] (data space); ``features`` are the 64 numbers
    before the last layer."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.LeakyReLU(0.2))
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        return self.head(self.dropout(self.features(x)))


def held_out_split(labels):
    """``(train_index, held_out_index)`` of the embedded digits: 50 per class held out, fixed forever."""
    rng = np.random.default_rng(SPLIT_SEED)
    held = np.concatenate([rng.permutation(np.flatnonzero(labels == k))[:HELD_OUT_PER_CLASS] for k in range(10)])
    held.sort()
    return np.setdiff1d(np.arange(len(labels)), held), held


def load_classifier(path=None):
    """The shipped classifier (or one saved by the training script at ``path``), in eval mode, cached."""
    path = path or CLASSIFIER_PATH
    if path not in _cache:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no MNIST classifier weights at {path}; train them with "
                                    "python -m minigan.metrics.train_classifier")
        state, _ = io.load_checkpoint(path)
        # The layers draw initial weights that the shipped ones replace at once; drawing them from
        # minigan's generator would shift a training run that scores itself on the way.
        stream = mg_random.get_state()
        model = MnistClassifier()
        mg_random.set_state(stream)
        model.load_state_dict(state["model"])
        _cache[path] = model.eval()
    return _cache[path]


def classify(images, model=None, batch_size=500):
    """Logits (N, 10) and penultimate features (N, 64) of images (N, 1, 28, 28) in [-1, 1], as NumPy."""
    images = np.asarray(backend.to_device(images, "cpu"), dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"MNIST classifier: expected images (N, 1, 28, 28) in [-1, 1], got shape {images.shape}")
    model = model or load_classifier()
    logits, features = [], []
    with minigan.no_grad():
        for start in range(0, len(images), batch_size):
            f = model.features(minigan.tensor(images[start:start + batch_size]))
            features.append(f.numpy())
            logits.append(model.head(f).numpy())
    return np.concatenate(logits), np.concatenate(features)


def class_metrics(predicted, num_classes=10):
    """Share of each class among predicted labels and KL(share || uniform) in nats."""
    predicted = np.asarray(predicted)
    if predicted.size == 0 or predicted.min() < 0 or predicted.max() >= num_classes:
        span = f" in {predicted.min()}..{predicted.max()}" if predicted.size else ""
        raise ValueError(f"class_metrics: predicted labels must be a non-empty array of classes "
                         f"0..{num_classes - 1}, got {predicted.size} labels{span}")
    share = np.bincount(predicted, minlength=num_classes) / len(predicted)
    nonzero = share > 0
    kl = float((share[nonzero] * np.log(share[nonzero] * num_classes)).sum())
    return {"class_share": share.tolist(), "min_class_share": float(share.min()), "kl_uniform": kl}


def _real_scores(model):
    """Logits (5000, 10), features (5000, 64) and labels of the real embedded digits, computed once per
    model: the Frechet reference and the confident share's held-out digits both come from them."""
    key = ("real", id(model))
    if key not in _cache:
        images, labels = load_mnist_embedded()
        _cache[key] = (*classify(images_to_data_space(images), model), labels)
    return _cache[key]


def real_frechet_floor(model=None, splits=10, seed=0):
    """Frechet distance between two disjoint random halves (2,500 each) of the real embedded digits,
    averaged over ``splits`` random splits (one split alone moves it by about 25%)."""
    features = _real_scores(model or load_classifier())[1]
    rng = np.random.default_rng(seed)
    half = len(features) // 2
    distances = []
    for _ in range(splits):
        order = rng.permutation(len(features))
        distances.append(frechet_distance_of_features(features[order[:half]], features[order[half:]]))
    return float(np.mean(distances))


def class_probabilities(logits):
    """The softmax of ``logits`` (N, 10), row by row, in float64: p_k = exp(l_k - m) / sum_i exp(l_i - m)
    with m = max_j l_j, which cannot overflow."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def confident_share(logits, threshold=CONFIDENT):
    """The share of rows of ``logits`` (N, 10) whose largest softmax probability is at least
    ``threshold``."""
    return float((class_probabilities(logits).max(axis=1) >= threshold).mean())


def real_confident_share(model=None):
    """``confident_share`` of the 500 held-out real digits, which the classifier never trained on: what
    a generator of real digits would score (92.8% for the shipped weights)."""
    logits, _, labels = _real_scores(model or load_classifier())
    return confident_share(logits[held_out_split(labels)[1]])


def mnist_metrics(images, model=None):
    """Class coverage, KL to uniform, Frechet distance to the real digits and the real-vs-real floor,
    the confident share and the same share for real digits.

    ``images``: generated digits (N, 1, 28, 28) in [-1, 1] (NumPy or CuPy). Returns a JSON-able dict.
    """
    model = model or load_classifier()
    logits, features = classify(images, model)
    metrics = class_metrics(logits.argmax(axis=1))
    real = _real_scores(model)[1]
    metrics["frechet_distance"] = frechet_distance(*gaussian_stats(features), *gaussian_stats(real))
    metrics["frechet_floor_real_vs_real"] = real_frechet_floor(model)
    metrics["confident_share"] = confident_share(logits)
    metrics["confident_share_real"] = real_confident_share(model)
    metrics["num_samples"] = int(len(images))
    return metrics
