"""How good are a generator's samples: mode coverage on the 2-D sets, class coverage, a Frechet
distance and the share of digits the classifier is sure of on MNIST (scored by a small classifier
minigan trained itself).

The MNIST functions need the shipped classifier weights and import ``minigan.nn``; the 2-D and
Frechet functions need NumPy alone.
"""
from minigan.metrics.classifier import (MnistClassifier, class_metrics, classify, confident_share, held_out_split,
                                        load_classifier, mnist_metrics, real_confident_share, real_frechet_floor)
from minigan.metrics.frechet import (frechet_distance, frechet_distance_of_features, gaussian_stats, sqrtm_psd,
                                     trace_sqrt_product)
from minigan.metrics.modes import mode_metrics, nearest_modes
