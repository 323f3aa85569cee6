"""Metrics: mode coverage with known answers, the Frechet distance against closed forms, and the shipped
MNIST classifier (accuracy on its held-out digits, class coverage, KL, real-vs-real floor)."""
import math

import numpy as np
import pytest

import minigan
from minigan import metrics
from minigan.data import TOY_SETS, get_dataset, images_to_data_space, load_mnist_embedded


# -- modes ------------------------------------------------------------------------------------------
def test_mode_metrics_on_constructed_samples():
    ring = TOY_SETS["ring8"]  # std 0.02: high quality within 0.06 of a mode
    modes = ring.modes
    direction = np.array([0.6, 0.8], np.float32)
    samples = np.concatenate([
        modes[0] + 0.05 * direction * np.ones((100, 1), np.float32),  # high quality, mode 0
        modes[5] - 0.059 * direction * np.ones((20, 1), np.float32),  # high quality, mode 5 (just inside)
        modes[3] + 0.07 * direction * np.ones((50, 1), np.float32),  # too far: low quality
        np.zeros((29, 2), np.float32),  # between modes
        np.full((1, 2), np.nan, np.float32),  # a diverged sample
    ])
    result = metrics.mode_metrics(samples, modes, ring.std)
    assert result["modes_captured"] == 2 and result["num_modes"] == 8 and result["num_samples"] == 200
    assert result["high_quality"] == pytest.approx(120 / 200)
    assert result["mode_counts"] == [100, 0, 0, 0, 0, 20, 0, 0]
    collapsed = metrics.mode_metrics(np.repeat(modes[2:3], 50, axis=0), modes, ring.std)
    assert collapsed["modes_captured"] == 1 and collapsed["high_quality"] == 1.0


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mode_metrics_of_the_real_distribution(name, rng):
    toy = TOY_SETS[name]
    samples, _ = toy.sample(20_000, rng)
    result = metrics.mode_metrics(samples, toy.modes, toy.std)
    assert result["modes_captured"] == len(toy.modes)
    # |offset| / std of a 2-D standard normal is Rayleigh: P(r <= 3) = 1 - exp(-9 / 2)
    assert result["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.004)


def test_mode_metrics_errors():
    with pytest.raises(ValueError, match="must agree"):
        metrics.mode_metrics(np.zeros((4, 3)), TOY_SETS["ring8"].modes, 0.02)
    with pytest.raises(ValueError, match="no samples"):
        metrics.mode_metrics(np.zeros((0, 2)), TOY_SETS["ring8"].modes, 0.02)


# -- Frechet distance ------------------------------------------------------------------------------------
def _random_spd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T + (0 if rank else 0.1) * np.eye(d)


@pytest.mark.parametrize("singular", [False, True])
def test_frechet_commuting_covariances_closed_form(rng, singular):
    d = 20
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    a, b = rng.random(d) * 3 + 0.1, rng.random(d) * 3 + 0.1
    if singular:
        a[:3] = 0.0  # allowed; a square root near 0 magnifies round-off (sqrt(1e-16) = 1e-8)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    got = metrics.frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(expected, rel=1e-7 if singular else 1e-11)


@pytest.mark.parametrize("seed", range(5))
def test_frechet_2x2_closed_form(seed):
    rng = np.random.default_rng(seed)
    s1, s2 = _random_spd(rng, 2), _random_spd(rng, 2)
    # The eigenvalues l1, l2 of S1 S2 are positive; Tr sqrt(S1 S2) = sqrt(l1) + sqrt(l2)
    # = sqrt(l1 + l2 + 2 sqrt(l1 l2)) = sqrt(tr(S1 S2) + 2 sqrt(det(S1 S2))).
    product = s1 @ s2
    trace_sqrt = math.sqrt(np.trace(product) + 2 * math.sqrt(np.linalg.det(product)))
    assert metrics.trace_sqrt_product(s1, s2) == pytest.approx(trace_sqrt, rel=1e-10)
    mu1, mu2 = rng.standard_normal(2), rng.standard_normal(2)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_properties(rng):
    s1, s2 = _random_spd(rng, 8), _random_spd(rng, 8, rank=3)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(metrics.frechet_distance(mu2, s2, mu1, s1))
    root = metrics.sqrtm_psd(s1)
    np.testing.assert_allclose(root @ root, s1, atol=1e-9)
    features1 = rng.standard_normal((4000, 3)).astype(np.float32)
    features2 = rng.standard_normal((4000, 3)).astype(np.float32) * 2 + 1
    # N(0, I) vs N(1, 4I) in 3-D: 3 * 1 + 3 * (1 - 2)^2 = 6
    assert metrics.frechet_distance_of_features(features1, features2) == pytest.approx(6.0, rel=0.08)
    with pytest.raises(ValueError, match="shapes disagree"):
        metrics.frechet_distance(mu1, s1, mu2[:3], s2[:3, :3])


# -- the MNIST classifier ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def embedded():
    images, labels = load_mnist_embedded()
    return images_to_data_space(images), labels.astype(np.int64)


def test_classifier_accuracy_on_held_out_digits(embedded):
    images, labels = embedded
    train_index, held = metrics.held_out_split(labels)
    assert len(held) == 500 and len(np.intersect1d(train_index, held)) == 0
    np.testing.assert_array_equal(np.bincount(labels[held]), np.full(10, 50))
    logits, features = metrics.classify(images[held])
    assert logits.shape == (500, 10) and features.shape == (500, 64) and logits.dtype == np.float32
    accuracy = (logits.argmax(axis=1) == labels[held]).mean()
    assert accuracy >= 0.95


def test_loading_the_classifier_leaves_minigans_random_stream_alone():
    """A run that scores itself on the way (a callback calling ``mnist_metrics``) must draw the same
    noise as one that does not: the classifier's throwaway initial weights come from elsewhere."""
    from minigan.metrics import classifier
    classifier._cache.clear()
    minigan.manual_seed(3)
    expected = minigan.randn(5).numpy()
    minigan.manual_seed(3)
    classifier.load_classifier()
    np.testing.assert_array_equal(minigan.randn(5).numpy(), expected)


def test_class_metrics_known_answers():
    uniform = metrics.class_metrics(np.repeat(np.arange(10), 7))
    assert uniform["kl_uniform"] == pytest.approx(0.0, abs=1e-12) and uniform["min_class_share"] == 0.1
    single = metrics.class_metrics(np.full(30, 4))
    assert single["kl_uniform"] == pytest.approx(math.log(10)) and single["class_share"][4] == 1.0
    half = metrics.class_metrics(np.array([0, 1] * 5))
    assert half["kl_uniform"] == pytest.approx(math.log(5))
    for bad, message in (([], "got 0 labels"), ([3, 10], "in 3..10"), ([-1, 2], "in -1..2")):
        with pytest.raises(ValueError, match=rf"class_metrics: predicted labels must .*{message}"):
            metrics.class_metrics(np.array(bad, dtype=np.int64))


def test_confident_share_known_answers():
    # top probability 1 / (1 + 9 e^-d): 0.9 exactly at d = log 81
    d = np.log(81.0)
    logits = np.zeros((4, 10))
    logits[0, 3] = d + 1e-6     # just above 0.9
    logits[1, 3] = d - 1e-6     # just below
    logits[2, 7] = 1000.0       # certain (the shift keeps exp finite)
    assert metrics.confident_share(logits) == 0.5  # row 3: uniform, 0.1
    assert metrics.confident_share(logits, threshold=0.05) == 1.0


def test_mnist_metrics_of_real_and_broken_samples(embedded, rng):
    images, labels = embedded
    real = metrics.mnist_metrics(images)
    assert real["frechet_distance"] == pytest.approx(0.0, abs=1e-6)  # the reference itself
    assert real["min_class_share"] > 0.09 and real["kl_uniform"] < 0.01
    floor = real["frechet_floor_real_vs_real"]
    assert 0 < floor < 20
    ones = metrics.mnist_metrics(images[labels == 1])
    assert ones["class_share"][1] > 0.95 and ones["kl_uniform"] > 2.0
    assert ones["frechet_distance"] > 20 * floor
    noise = np.tanh(rng.standard_normal((500, 1, 28, 28))).astype(np.float32)
    scored_noise = metrics.mnist_metrics(noise)
    assert scored_noise["frechet_distance"] > 20 * floor
    # The classifier recognises most real digits clearly, noise far less often.
    assert real["confident_share"] > 0.9 and 0.9 < real["confident_share_real"] < 0.96
    held = metrics.held_out_split(labels)[1]
    assert metrics.mnist_metrics(images[held])["confident_share"] == real["confident_share_real"]
    assert scored_noise["confident_share"] < 0.5
    with pytest.raises(ValueError, match="\\(N, 1, 28, 28\\)"):
        metrics.classify(np.zeros((3, 28, 28), np.float32))


# -- the training script's pieces ------------------------------------------------------------------------
def test_random_shift_moves_whole_digits(embedded, rng):
    from minigan.metrics.train_classifier import random_shift
    images = embedded[0][:50]
    shifted = random_shift(images, rng)
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    # MNIST digits have a 4-pixel empty border, so a shift of at most 2 loses no ink.
    np.testing.assert_array_equal(np.sort(shifted.reshape(50, -1), axis=1), np.sort(images.reshape(50, -1), axis=1))
    moved = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
             if np.array_equal(np.roll(images[0], (dy, dx), axis=(1, 2)), shifted[0])]
    assert len(moved) >= 1


def test_toy_metrics_through_get_dataset():
    data, _, meta = get_dataset("grid25", n_points=2500, seed=1)
    result = metrics.mode_metrics(data, meta["modes"], meta["std"])
    assert result["modes_captured"] == 25 and result["high_quality"] > 0.97
