"""The dropout layers, as ``torch.nn``'s: Dropout (element-wise), Dropout1d, Dropout2d, Dropout3d (whole
channels), AlphaDropout and FeatureAlphaDropout (for SELU networks). Each applies its functional op
(``F.dropout``, ``F.dropout1d``, ...; those say what is dropped and how) in training mode and is the
identity in eval mode. They have no parameters or buffers.

``inplace`` is accepted and shown in the repr, as in PyTorch, so PyTorch code carries over; minigan
always computes the result out of place.
"""
from minigan.functional.dropout import (
    alpha_dropout, check_p, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout,
)
from minigan.nn.module import Module


class _DropoutNd(Module):
    """What the dropout layers share: ``p``, checked when the layer is built, ``inplace``, and the repr.
    Subclasses give ``drop``, the functional op, called as drop(x, p, training)."""

    drop = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_p(type(self).__name__, p)
        self.p, self.inplace = p, bool(inplace)

    def forward(self, x):
        return self.drop(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Element-wise dropout (``F.dropout``), any shape."""

    drop = staticmethod(dropout)


class Dropout1d(_DropoutNd):
    """Channel-wise dropout of (N, C, L) or unbatched (C, L) input (``F.dropout1d``)."""

    drop = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Channel-wise dropout of (N, C, H, W) input (``F.dropout2d``; as in PyTorch, a 3-D input is read as
    (N, C, L), with a warning, not as an unbatched image)."""

    drop = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Channel-wise dropout of (N, C, D, H, W) or unbatched (C, D, H, W) input (``F.dropout3d``)."""

    drop = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """Alpha dropout (``F.alpha_dropout``), any shape: keeps the zero mean and unit variance that SELUs
    give, where Dropout would change them."""

    drop = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Channel-wise alpha dropout of (N, C, *) input (``F.feature_alpha_dropout``)."""

    drop = staticmethod(feature_alpha_dropout)
