"""Embedding: a lookup table of learnable vectors (class embeddings in a conditional GAN); EmbeddingBag: the
sums, means or maxima of bags of its rows."""
from minigan.functional.arithmetic import where
from minigan.functional.embedding_bag import MODES as EMBEDDING_BAG_MODES, embedding_bag
from minigan.functional.linear import embedding
from minigan.nn import init
from minigan.nn.module import Module, Parameter, new_parameter
from minigan.tensor import Tensor


class Embedding(Module):
    """weight (num_embeddings, embedding_dim), initialised N(0, 1), as in PyTorch.

    ``padding_idx``: that row starts at zero and receives no gradient, so it stays what it is.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{self.num_embeddings} embeddings")
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        self.weight = new_parameter((self.num_embeddings, self.embedding_dim), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        out = embedding(indices, self.weight)
        if self.padding_idx is None:
            return out
        # Rows looked up at padding_idx come from a detached copy of the table: same values, no gradient.
        idx = self.weight._xp.asarray(indices.data if isinstance(indices, Tensor) else indices)
        return where((idx == self.padding_idx)[..., None], embedding(indices, self.weight.detach()), out)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            "" if self.padding_idx is None else f", padding_idx={self.padding_idx}")


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of rows of a table, as ``torch.nn.EmbeddingBag``: see
    ``minigan.functional.embedding_bag`` for the arguments and semantics.

    weight (num_embeddings, embedding_dim), initialised N(0, 1) (its ``padding_idx`` row zero), or ``_weight``
    (that shape) as given. ``sparse=True`` is not supported (ValueError): minigan has no sparse gradients.
    ``forward(input, offsets=None, per_sample_weights=None)``.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, *,
                 device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if mode not in EMBEDDING_BAG_MODES:
            raise ValueError(f"EmbeddingBag: mode has to be one of 'sum', 'mean' or 'max', got {mode!r}")
        if sparse:
            raise ValueError("EmbeddingBag: sparse=True is not supported (minigan has no sparse gradients)")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} is out of range for "
                                 f"{self.num_embeddings} embeddings")
            padding_idx %= self.num_embeddings
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.padding_idx = mode, sparse, padding_idx
        self.include_last_offset = include_last_offset
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = new_parameter(shape, device, dtype)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != shape:
                raise ValueError(f"EmbeddingBag: _weight must have shape {shape} (num_embeddings, embedding_dim), "
                                 f"got {tuple(_weight.shape)}")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
