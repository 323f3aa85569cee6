"""A folder of images as a data set (needs Pillow: ``pip install 'minigan[cli]'`` or ``pip install pillow``).

Two layouts are understood. Images directly in the folder make an unlabelled set. A folder whose
images sit in sub-folders, one per class (``root/cat/1.png``, ``root/dog/7.png``), makes a labelled set
with the classes in sorted order, as torchvision's ImageFolder does. Images are not resized: they must
all share one size, so that nothing is silently distorted; mixed sizes are an error naming two files.
"""
import os

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading a folder of images needs Pillow: pip install pillow "
                          "(or pip install 'minigan[cli]')") from None
    return Image


def _image_files(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, name)))


def list_image_files(root):
    """``(paths, labels, classes)``: labels and classes are None when the images sit directly in root."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"image folder {root} does not exist or is not a folder")
    paths = _image_files(root)
    if paths:
        return paths, None, None
    classes = sorted(name for name in os.listdir(root) if os.path.isdir(os.path.join(root, name)))
    labels = []
    for index, name in enumerate(classes):
        found = _image_files(os.path.join(root, name))
        paths += found
        labels += [index] * len(found)
    if not paths:
        raise ValueError(f"image folder {root} holds no images (looked for {', '.join(IMAGE_EXTENSIONS)} "
                         "files in it and in its sub-folders)")
    return paths, np.asarray(labels, dtype=np.int64), classes


def read_image_folder(root, mode=None):
    """Read every image under ``root`` into one uint8 array (N, H, W, C) plus labels and class names.

    ``mode`` is "L" (grayscale, C = 1), "RGB" (C = 3) or None: grayscale when every image is
    grayscale, else RGB. All images must have the same width and height.
    """
    if mode not in (None, "L", "RGB"):
        raise ValueError(f"read_image_folder: mode must be 'L', 'RGB' or None, got {mode!r}")
    Image = _pillow()
    paths, labels, classes = list_image_files(root)
    images = []
    first_size = None
    for path in paths:
        try:
            with Image.open(path) as image:
                image.load()
        except OSError as exc:
            raise ValueError(f"image folder {root}: cannot read {path}: {exc}") from None
        if first_size is None:
            first_size = (paths[0], image.size)
        elif image.size != first_size[1]:
            raise ValueError(
                f"image folder {root}: images differ in size: {first_size[0]} is "
                f"{first_size[1][0]}x{first_size[1][1]} but {path} is {image.size[0]}x{image.size[1]}; "
                "resize them to one size first (minigan does not resize)")
        images.append(image)
    if mode is None:
        mode = "L" if all(image.mode in ("1", "L", "LA") for image in images) else "RGB"
    arrays = [np.asarray(image.convert(mode), dtype=np.uint8) for image in images]
    stacked = np.stack(arrays)
    if stacked.ndim == 3:
        stacked = stacked[..., None]
    return stacked, labels, classes
