"""The Frechet distance between two Gaussians fitted to feature vectors (the "F" of FID), NumPy only.

For N(mu1, S1) and N(mu2, S2) the squared Frechet (2-Wasserstein) distance is (Dowson and Landau,
"The Frechet distance between multivariate normal distributions", J. Multivariate Anal. 1982)

    d^2 = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)).

FID (Heusel et al., NeurIPS 2017) applies it to Inception features; minigan applies it to the
penultimate features of its small MNIST classifier (``minigan.metrics.classifier``), so its values are
comparable only with each other, never with published FIDs.

The one delicate term is Tr((S1 S2)^(1/2)). S1 S2 is not symmetric, but it is similar to the symmetric
positive semi-definite M = S1^(1/2) S2 S1^(1/2) (S1 S2 = S1^(1/2) M S1^(-1/2) where S1 is invertible,
and by continuity otherwise), so its eigenvalues are those of M: real and non-negative. Hence
Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(M)), computed with two symmetric eigendecompositions
(``numpy.linalg.eigh``), in float64, with round-off negatives clipped to zero. This avoids SciPy's
general ``sqrtm`` and its complex round-off that FID code usually has to strip.
"""
import numpy as np

from minigan import backend


def gaussian_stats(features):
    """Mean (D,) and unbiased covariance (D, D) of feature rows (N, D), in float64."""
    features = np.asarray(backend.to_device(features, "cpu"), dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"gaussian_stats: need at least two feature rows (N, D), got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _symmetric(matrix, name):
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"frechet_distance: {name} must be a square matrix, got shape {matrix.shape}")
    return (matrix + matrix.T) / 2.0  # drop the asymmetric round-off a covariance may carry


def sqrtm_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh(_symmetric(matrix, "matrix"))
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(sigma1, sigma2):
    """Tr((S1 S2)^(1/2)) for symmetric PSD S1, S2, via the eigenvalues of S1^(1/2) S2 S1^(1/2)."""
    root = sqrtm_psd(sigma1)
    middle = _symmetric(root @ _symmetric(sigma2, "sigma2") @ root, "product")
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (the FID convention)."""
    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    sigma1, sigma2 = _symmetric(sigma1, "sigma1"), _symmetric(sigma2, "sigma2")
    if not (mu1.shape == mu2.shape == sigma1.shape[:1] == sigma2.shape[:1]):
        raise ValueError(f"frechet_distance: shapes disagree: mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
                         f"mu2 {mu2.shape}, sigma2 {sigma2.shape}")
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return max(float(distance), 0.0)  # round-off can push a zero distance slightly below 0


def frechet_distance_of_features(features1, features2):
    """Frechet distance between Gaussians fitted to two sets of feature rows."""
    return frechet_distance(*gaussian_stats(features1), *gaussian_stats(features2))
