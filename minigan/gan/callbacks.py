"""What a run does besides training: pictures, progress, logs, checkpoints, final metrics.

A callback is any object with some of these methods, called by ``Trainer.train``:
``on_train_begin(trainer)``, ``on_iteration_end(trainer, logs)`` (logs: iteration, d_loss, g_loss,
d_real, d_fake, seconds) and ``on_train_end(trainer)``. None of them draws from minigan's random
generator, so adding or removing one never changes the numbers a run produces.
"""
import glob
import os
import re
import sys
import time

import numpy as np

from minigan import io

LOG_FIELDS = ("iteration", "d_loss", "g_loss", "d_real", "d_fake", "seconds")
SAMPLE_NAME = "iter_{:07d}.png"


def fixed_noise(n, nz, seed):
    """The noise the sample grids are drawn from: the same for every grid of a run (and of its
    resumed parts), from its own generator so that drawing it changes nothing else."""
    return np.random.default_rng([int(seed), 2718]).standard_normal((n, nz), dtype=np.float32)


def fixed_labels(n, num_classes):
    """Class labels for a conditional grid: class k fills column k (0, 1, ..., 0, 1, ...)."""
    return np.arange(n) % num_classes if num_classes else None


class SampleGrid:
    """A picture of G's samples from fixed noise every ``every`` iterations and at the end, plus an
    animated GIF of all of them.

    Images are tiled into a grid (``samples/iter_0000100.png``); 2-D points are drawn as a scatter over
    the data's modes. At the end the last picture is copied to ``samples.png`` and the animation
    written to ``progress.gif``.
    """

    def __init__(self, out_dir, every, z, labels=None, kind="images", modes=None, std=None, nrow=8):
        self.out_dir, self.every, self.z, self.labels = out_dir, every, z, labels
        self.kind, self.modes, self.std, self.nrow = kind, modes, std, nrow
        self.folder = os.path.join(out_dir, "samples")

    def on_train_begin(self, trainer):
        # A resumed run redraws everything after its checkpoint; older pictures from beyond it would be stale.
        for path, it in self._frames():
            if it > trainer.iteration:
                os.remove(path)

    def on_iteration_end(self, trainer, logs):
        if self.every and logs["iteration"] % self.every == 0:
            self.draw(trainer, logs["iteration"])

    def on_train_end(self, trainer):
        path = self.draw(trainer, trainer.iteration)
        picture = _read_picture(path)
        _save_picture_array(os.path.join(self.out_dir, "samples.png"), picture)
        frames = self._frames()
        io.save_gif(os.path.join(self.out_dir, "progress.gif"), [_read_picture(p) for p, _ in frames],
                    captions=[f"iteration {it}" for _, it in frames])

    def _frames(self):
        """(path, iteration) of every picture drawn so far, in order."""
        paths = glob.glob(os.path.join(self.folder, "iter_*.png"))
        return sorted(((p, int(re.search(r"iter_(\d+)\.png$", p).group(1))) for p in paths), key=lambda f: f[1])

    def draw(self, trainer, iteration):
        samples = trainer.sample(self.z, self.labels)
        path = os.path.join(self.folder, SAMPLE_NAME.format(iteration))
        if self.kind == "images":
            # Small images (MNIST's 28x28) are drawn at twice their size so the digits can be read.
            io.save_image_grid(path, samples, nrow=self.nrow, scale=2 if samples.shape[-1] <= 32 else 1)
        else:
            io.plot_points(path, samples, modes=self.modes, std=self.std, title=f"iteration {iteration}")
        return path


def _read_picture(path):
    from PIL import Image
    with Image.open(path) as picture:
        return np.asarray(picture.convert("RGB"))


def _save_picture_array(path, array):
    from PIL import Image
    with io.atomic_write(path) as f:
        Image.fromarray(array).save(f, format="PNG")


class LossLog:
    """``losses.csv`` (one row per iteration), ``losses.png`` (the two losses) and ``scores.png`` (D(x)
    and D(G(z)): D's mean probabilities, or its mean logits for a loss whose sigmoid is no probability),
    redrawn at every checkpoint and at the end. A resumed run keeps the rows up to its checkpoint.

    The scores chart is there because a loss alone can hide the game: with the relativistic loss D's
    loss sits near 0 for a whole run while the gap between its real and fake logits, which both losses
    read, widens and narrows as G learns."""

    def __init__(self, out_dir, plot_every=0):
        self.csv_path = os.path.join(out_dir, "losses.csv")
        self.plot_path = os.path.join(out_dir, "losses.png")
        self.scores_path = os.path.join(out_dir, "scores.png")
        self.plot_every = plot_every
        self.log = None

    def on_train_begin(self, trainer):
        self.log = io.CsvLog(self.csv_path, LOG_FIELDS, keep_until=trainer.iteration if trainer.iteration else None)

    def on_iteration_end(self, trainer, logs):
        self.log.write({k: logs[k] for k in LOG_FIELDS})
        if self.plot_every and logs["iteration"] % self.plot_every == 0:
            self.plot(trainer)

    def on_train_end(self, trainer):
        self.log.close()
        self.plot(trainer)

    def plot(self, trainer):
        log = io.read_csv_log(self.csv_path)
        name = f"{trainer.config.model}, {trainer.config.loss} loss"
        io.plot_losses(self.plot_path, log, title=name)
        unit = "mean probability" if trainer.loss.outputs_probabilities else "mean logit"
        io.plot_losses(self.scores_path, log, series={"d_real": "D(x)", "d_fake": "D(G(z))"},
                       title=f"{name}: what D scores", ylabel=unit)


class Checkpoint:
    """``checkpoint.npz`` every ``every`` iterations and at the end, replaced atomically, so the file
    on disk is always a complete checkpoint of the last iteration it names."""

    def __init__(self, out_dir, every):
        self.path = os.path.join(out_dir, "checkpoint.npz")
        self.every = every
        self.saved_at = None

    def on_iteration_end(self, trainer, logs):
        if self.every and logs["iteration"] % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer):
        if self.saved_at != trainer.iteration:
            self.save(trainer)

    def save(self, trainer):
        state, metadata = trainer.state_dict()
        io.save_checkpoint(self.path, state, metadata)
        self.saved_at = trainer.iteration


class ProgressBar:
    """Losses and D's outputs as training goes: a tqdm bar when tqdm is installed, else a plain line
    every ``every`` iterations (so logs stay readable when the output is a file)."""

    def __init__(self, every=50, stream=None):
        self.every, self.stream = every, stream or sys.stderr
        self.bar = None

    def on_train_begin(self, trainer):
        self.start, self.first = time.perf_counter(), trainer.iteration
        try:
            from tqdm import tqdm
        except ImportError:
            return
        if getattr(self.stream, "isatty", lambda: False)():
            self.bar = tqdm(total=trainer.config.iters, initial=trainer.iteration, file=self.stream,
                            unit="it", dynamic_ncols=True)

    def on_iteration_end(self, trainer, logs):
        text = (f"D loss {logs['d_loss']:.3f}  G loss {logs['g_loss']:.3f}  "
                f"D(x) {logs['d_real']:.3f}  D(G(z)) {logs['d_fake']:.3f}")
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        elif logs["iteration"] % self.every == 0 or logs["iteration"] == trainer.config.iters:
            rate = (logs["iteration"] - self.first) / max(time.perf_counter() - self.start, 1e-9)
            print(f"[{logs['iteration']:>6}/{trainer.config.iters}] {text}  ({rate:.1f} it/s)",
                  file=self.stream, flush=True)

    def on_train_end(self, trainer):
        if self.bar is not None:
            self.bar.close()
