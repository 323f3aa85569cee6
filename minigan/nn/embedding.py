"""Embedding: a lookup table of learnable vectors (class embeddings in a conditional GAN)."""
from minigan.functional.arithmetic import where
from minigan.functional.linear import embedding
from minigan.nn import init
from minigan.nn.module import Module, new_parameter
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
