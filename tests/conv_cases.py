"""What the convolution tests (tests/test_conv.py, tests/test_conv1d.py) share about a drawn case: a dict
with the input and weight ``shapes``, ``groups``, ``output_padding`` (None for a plain convolution, a
number for a transposed one), ``bias`` and a ``seed``."""
import numpy as np


def case_arrays(case):
    """[x, w] and, if the case has a bias, b: standard normals from the case's seed. A transposed
    convolution's weight is (C, O / groups, ...), a plain one's (O, C / groups, ...), hence O."""
    rng = np.random.default_rng(case["seed"])
    x, w = (rng.standard_normal(shape) for shape in case["shapes"])
    out_channels = w.shape[1] * case["groups"] if case["output_padding"] is not None else w.shape[0]
    return [x, w] + ([rng.standard_normal(out_channels)] if case["bias"] else [])
