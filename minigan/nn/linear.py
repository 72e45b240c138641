"""``Linear``, ``Embedding`` and ``Identity``."""

from __future__ import annotations

from minigan.autograd.creation import empty
from minigan.nn import functional as F
from minigan.nn import init
from minigan.nn.module import Module, Parameter

__all__ = ["Linear", "Embedding", "Identity"]


class Linear(Module):
    r"""Affine map :math:`y = x W^\top + b`, ``weight`` ``(out_features, in_features)`` as torch.

    Initialised as PyTorch: :math:`W, b \sim U(-1/\sqrt{\mathrm{in}}, 1/\sqrt{\mathrm{in}})`.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        factory = dict(device=device or "cpu", dtype=dtype)
        self.weight = Parameter(empty(out_features, in_features, **factory))
        self.bias = Parameter(empty(out_features, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_init_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    r"""Lookup table, :math:`y = W[i]`, weight ``(num_embeddings, embedding_dim)`` drawn from :math:`\mathcal N(0, 1)`.

    Its gradient scatter-adds: :math:`\bar W_r = \sum_{n : i_n = r} \bar y_n`.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(empty(num_embeddings, embedding_dim, device=device or "cpu", dtype=dtype))
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Identity(Module):
    """Returns its input."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
