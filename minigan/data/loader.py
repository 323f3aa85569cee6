"""A DataLoader-like batch iterator over arrays held in memory, with repeatable per-epoch shuffling.

The order of every epoch is a permutation drawn from one seeded ``numpy.random.Generator``, so a run is
repeatable from its seed, each epoch is ordered differently, and ``state_dict``/``load_state_dict``
let a resumed run continue with exactly the batches it would have seen had it never stopped.
``drop_last`` defaults to True, as GAN training wants batches of one size (batch norm statistics and
the balance between real and fake batches both depend on it).
"""
import copy

import numpy as np

from minigan import backend


class DataLoader:
    """Batches ``(x, y)`` of ``data`` and ``labels`` (y is None without labels).

    ``data`` is an array (NumPy or CuPy) whose first axis indexes samples; ``labels`` an optional array
    of the same length. ``seed`` (an int) or ``rng`` (a Generator) fixes the shuffling. Iterating
    yields the rest of the current epoch, starting a new epoch when the last one is finished;
    ``next_batch()`` never stops, moving to the next epoch as needed (the trainer counts iterations,
    not epochs).
    """

    def __init__(self, data, labels=None, batch_size=64, shuffle=True, drop_last=True, seed=0, rng=None):
        n = len(data)
        if labels is not None and len(labels) != n:
            raise ValueError(f"DataLoader: data holds {n} samples but labels holds {len(labels)}")
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if batch_size > n:
            raise ValueError(f"DataLoader: batch size {batch_size} is larger than the data set ({n} samples); "
                             f"use a batch size of at most {n}")
        self.data = data
        self.labels = labels
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.epoch = 0  # epochs started so far
        self._order = None
        self._position = 0
        self._epoch_rng_state = copy.deepcopy(self.rng.bit_generator.state)

    def __len__(self):
        """Batches per epoch."""
        n = len(self.data)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _epoch_end(self):
        n = len(self.data)
        return n - n % self.batch_size if self.drop_last else n

    def _start_epoch(self):
        # Remember the generator's state before the permutation, so load_state_dict can redraw it.
        self._epoch_rng_state = copy.deepcopy(self.rng.bit_generator.state)
        n = len(self.data)
        self._order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        self._position = 0
        self.epoch += 1

    def _take(self, array, index):
        xp = backend.get_array_module(array)
        return array[index if xp is np else xp.asarray(index)]

    def next_batch(self):
        """The next batch ``(x, y)``, starting a new epoch when the current one has no full batch left."""
        if self._order is None or self._position >= self._epoch_end():
            self._start_epoch()
        index = self._order[self._position:self._position + self.batch_size]
        self._position += len(index)
        y = None if self.labels is None else self._take(self.labels, index)
        return self._take(self.data, index), y

    def __iter__(self):
        if self._order is None or self._position >= self._epoch_end():
            self._start_epoch()
        while self._position < self._epoch_end():
            yield self.next_batch()

    def state_dict(self):
        """A JSON-able dict: epochs started, position in the current epoch, the generator's state."""
        return {"epoch": self.epoch, "position": self._position,
                "rng_state": copy.deepcopy(self._epoch_rng_state)}

    def load_state_dict(self, state):
        """Continue exactly where the loader that produced ``state`` was."""
        self.rng.bit_generator.state = copy.deepcopy(state["rng_state"])
        self._order = None
        self._position = 0
        self.epoch = int(state["epoch"]) - 1 if state["epoch"] > 0 else 0
        if state["epoch"] > 0:
            self._start_epoch()  # redraws the same permutation from the restored state
            self._position = int(state["position"])
        else:
            self._epoch_rng_state = copy.deepcopy(state["rng_state"])
