"""Distance layers: CosineSimilarity and PairwiseDistance, as ``torch.nn``'s, over
``F.cosine_similarity`` and ``F.pairwise_distance``.

They have no parameters and, like PyTorch's, keep their arguments as given under PyTorch's attribute
names (``PairwiseDistance`` keeps p as ``norm``); their ``repr`` shows none of them, as PyTorch's does not.
"""
from minigan.functional.arguments import is_int, is_number
from minigan.functional.distance import cosine_similarity, pairwise_distance
from minigan.nn.module import Module


def _check_number(layer, name, value):
    if not is_number(value):
        raise TypeError(f"{layer}: {name} must be a number, got {value!r}")


class CosineSimilarity(Module):
    """``layer(x1, x2)``: the cosine of the angle between x1 and x2 along ``dim`` (of their broadcast
    shape), each norm clamped below at eps; that shape without ``dim``. As ``torch.nn.CosineSimilarity``,
    computed by ``F.cosine_similarity`` (which gives the formula)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        if not is_int(dim):
            raise TypeError(f"CosineSimilarity: dim must be an int, got {dim!r}")
        _check_number("CosineSimilarity", "eps", eps)
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``layer(x1, x2)``: ||x1 - x2 + eps||_p along the last axis (of their broadcast shape), kept with
    length 1 if ``keepdim``. As ``torch.nn.PairwiseDistance``, computed by ``F.pairwise_distance``."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        _check_number("PairwiseDistance", "p", p)
        _check_number("PairwiseDistance", "eps", eps)
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
