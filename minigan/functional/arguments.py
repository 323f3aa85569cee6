"""Checks of the plain Python arguments that ops take (sizes, factors, probabilities), shared by every
op family, so that each accepts the same kinds of number: Python and NumPy ones, never a bool (which
is an int in Python, but a flag, not a size, to whoever wrote it)."""
import numpy as np


def is_int(value):
    """An integer (Python or NumPy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value):
    """An integer or a float (Python or NumPy), not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
