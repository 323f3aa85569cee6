"""Train the MNIST classifier that scores generated digits, with minigan itself, and save its weights.

    python -m minigan.metrics.train_classifier [--epochs 20] [--seed 0] [--out PATH]

Trains ``MnistClassifier`` on the embedded digits minus 50 held out per class (4,500 images), with
Adam and random shifts of up to 2 pixels (so that a digit drawn slightly off-centre is still
recognised), prints the held-out accuracy, and writes the weights (by default over the shipped
``minigan/data/mnist_classifier.npz``) with the accuracy and recipe in the file's metadata.
"""
import argparse
import time

import numpy as np

import minigan
import minigan.functional as F
from minigan import io, optim
from minigan.data import DataLoader, images_to_data_space, load_mnist_embedded
from minigan.metrics.classifier import CLASSIFIER_PATH, MnistClassifier, classify, held_out_split


def random_shift(images, rng, max_shift=2):
    """Move each image by up to ``max_shift`` pixels in x and y, filling with background (-1)."""
    n, c, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)), constant_values=-1.0)
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)
    cols = dx[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None], :, rows[:, :, None], cols[:, None, :]].transpose(0, 3, 1, 2)


def accuracy(model, images, labels):
    model.eval()
    logits, _ = classify(images, model)
    model.train()
    return float((logits.argmax(axis=1) == labels).mean())


def train(epochs=20, seed=0, batch_size=64, lr=1e-3, log=print):
    """Train a classifier; returns it with its held-out accuracy."""
    minigan.manual_seed(seed)
    images, labels = load_mnist_embedded()
    images, labels = images_to_data_space(images), labels.astype(np.int64)
    train_index, held_index = held_out_split(labels)
    model = MnistClassifier()
    opt = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(images[train_index], labels[train_index], batch_size=batch_size, seed=seed)
    rng = np.random.default_rng(seed + 1)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if epoch == int(0.75 * epochs) + 1:
            for group in opt.param_groups:  # a step down in the last quarter settles the weights
                group["lr"] = lr / 10
        losses = []
        for x, y in loader:
            loss = F.cross_entropy(model(minigan.tensor(random_shift(x, rng))), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        held = accuracy(model, images[held_index], labels[held_index])
        log(f"epoch {epoch:>2}/{epochs}  loss {np.mean(losses):.4f}  held-out accuracy {held:.4f}  "
            f"({time.perf_counter() - start:.0f} s)")
    model.eval()
    return model, accuracy(model, images[held_index], labels[held_index])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.metrics.train_classifier", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=CLASSIFIER_PATH, help="where to write the weights (.npz)")
    args = parser.parse_args(argv)
    model, held = train(epochs=args.epochs, seed=args.seed)
    metadata = {"architecture": "MnistClassifier", "held_out_accuracy": held, "epochs": args.epochs,
                "seed": args.seed, "train_images": 4500, "held_out_images": 500,
                "data": "embedded MNIST subset minus minigan.metrics.classifier.held_out_split"}
    io.save_checkpoint(args.out, {"model": model.state_dict()}, metadata)
    print(f"held-out accuracy {held:.4f}; weights written to {args.out}")


if __name__ == "__main__":
    main()
