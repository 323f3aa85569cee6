"""Memory layouts of NCHW tensors in tests: convolutions return their outputs laid out channels-last
(N, H, W, C in memory), and every op must give the same values whichever layout it is handed."""
import numpy as np

import minigan as mg
import minigan.functional as F


def is_channels_last(array):
    """True when the (N, C, H, W) ``array`` is a view of a C-contiguous (N, H, W, C) array."""
    return array.transpose(0, 2, 3, 1).flags.c_contiguous


def channels_last(x):
    """x (N, C, H, W) through a 1x1 identity convolution: the same values, differentiable, laid out
    channels-last as any convolution's output is (``mg.tensor`` always makes C-contiguous arrays)."""
    c = x.shape[1]
    eye = mg.tensor(np.eye(c, dtype=x.dtype).reshape(c, c, 1, 1), device=x.device)
    y = F.conv2d(x, eye)
    assert is_channels_last(y.data)
    return y
