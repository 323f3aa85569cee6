"""The samples of an MNIST run that minigan's classifier assigns to one digit: a picture to check its
class shares by eye.

    python -m benchmarks.classified_samples RUN_DIR --digit 2 --min-prob 0.99 -o called2.png --real real2.png

Draws ``-n`` samples (5,000 by default, as `minigan eval` does) from the run's generator, classifies
them with the shipped classifier, and saves a grid of up to 64 of those it assigns to ``--digit``
with a softmax probability of at least ``--min-prob``, picked at random. It prints how many samples
the classifier assigned to the digit and how many of those cleared the probability. ``--real`` also
saves the first 64 embedded real digits of that class, to set beside them. A classifier
trained only on clean digits can be confidently wrong on a generator's scribbles (Nguyen, Yosinski
and Clune, 2015, "Deep Neural Networks are Easily Fooled"), so a class share, or a share of
confident samples, means what it says only if the samples behind it look like that digit.
"""
import argparse
import sys

import numpy as np

from minigan import io
from minigan.data.datasets import images_to_data_space
from minigan.data.embedded import load_mnist_embedded
from minigan.gan import run
from minigan.metrics.classifier import class_probabilities, classify

GRID = 64


def classified(images, digit, min_prob=0.0):
    """Indices of ``images`` (N, 1, 28, 28) that the classifier assigns to ``digit`` with probability
    at least ``min_prob``, and how many it assigns to ``digit`` at all."""
    probs = class_probabilities(classify(images)[0])
    called = probs.argmax(axis=1) == digit
    return np.flatnonzero(called & (probs[:, digit] >= min_prob)), int(called.sum())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.classified_samples", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a finished MNIST run folder (minigan train --dataset mnist)")
    parser.add_argument("--digit", type=int, required=True, help="the class to show, 0 to 9")
    parser.add_argument("--min-prob", type=float, default=0.0, help="least probability for that class (default 0)")
    parser.add_argument("-n", type=int, default=5000, help="samples to draw and classify (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    parser.add_argument("-o", "--output", required=True, help="PNG file for the grid")
    parser.add_argument("--real", metavar="PNG", help="also save 64 real digits of the class here")
    args = parser.parse_args(argv)
    if not 0 <= args.digit <= 9:
        parser.error(f"--digit must be 0 to 9 (got {args.digit})")
    try:
        images, meta = run.sample(args.run_dir, args.n, seed=args.seed)
    except run.RunError as err:
        parser.error(str(err))
    if meta["name"] != "mnist" or tuple(meta["shape"]) != (1, 28, 28):
        parser.error(f"{args.run_dir} was trained on {meta['name']!r}; the classifier reads 28x28 MNIST digits only")
    chosen, called = classified(images, args.digit, args.min_prob)
    print(f"{called} of {len(images)} samples classified as {args.digit}; {len(chosen)} of them with "
          f"probability >= {args.min_prob:g}")
    if len(chosen) == 0:
        print("nothing to draw", file=sys.stderr)
        return 1
    pick = np.random.default_rng(args.seed).choice(chosen, min(GRID, len(chosen)), replace=False)
    io.save_image_grid(args.output, images[np.sort(pick)], scale=2)
    print(f"grid of {len(pick)}: {args.output}")
    if args.real:
        real, labels = load_mnist_embedded()
        io.save_image_grid(args.real, images_to_data_space(real[labels == args.digit][:GRID]), scale=2)
        print(f"real digits: {args.real}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
