"""``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``, with PyTorch's running statistics and defaults."""

from __future__ import annotations

import numpy as np

from minigan.autograd.creation import ones, tensor, zeros
from minigan.nn import functional as F
from minigan.nn.module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _Norm(Module):
    """Shared by the normalisation layers: an optional elementwise affine :math:`\\gamma \\hat x + \\beta`."""

    def _affine(self, shape, affine: bool, bias: bool, factory: dict) -> None:
        self.weight = Parameter(ones(shape, **factory)) if affine else None
        self.bias = Parameter(zeros(shape, **factory)) if affine and bias else None

    def _running_stats(self, num_features: int, track: bool, factory: dict) -> None:
        """``running_mean``, ``running_var`` and ``num_batches_tracked`` buffers, or the three as None."""
        self.register_buffer("running_mean", zeros(num_features, **factory) if track else None)
        self.register_buffer("running_var", ones(num_features, **factory) if track else None)
        self.register_buffer("num_batches_tracked",
                             tensor(0, dtype=np.int64, device=factory["device"]) if track else None)


class _BatchNorm(_Norm):
    r"""Batch normalisation (Ioffe & Szegedy 2015) over every axis but the channel axis 1.

    Training uses the batch's statistics and updates the running ones,
    :math:`r \leftarrow (1 - \omega) r + \omega s` (momentum :math:`\omega`), with
    :math:`s` the batch mean or the *unbiased* batch variance
    (``momentum=None``: the cumulative average, :math:`\omega = 1/t`). Evaluation
    uses the running statistics, unless ``track_running_stats=False``, in
    which case the batch statistics are always used.
    """

    _input_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        factory = dict(device=device or "cpu", dtype=dtype)
        self._affine(num_features, affine, bias, factory)
        self._running_stats(num_features, track_running_stats, factory)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            for t, value in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                t.array = t.xp.full_like(t.array, value)

    def forward(self, x):
        if x.ndim not in self._input_dims or x.shape[1] != self.num_features:
            one_short = x.ndim == min(self._input_dims) - 1
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of "
                             f"{' or '.join(f'{d}-d' for d in self._input_dims)} shape (N, {self.num_features}, ...), "
                             f"got {x.ndim}-d {x.shape}"
                             + ("; for a single sample add the batch dimension: x[None] or x.unsqueeze(0)"
                                if one_short else ""))
        use_batch_stats = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        momentum = self.momentum
        if update and momentum is None:
            momentum = 1.0 / (float(self.num_batches_tracked.item()) + 1)
        out = F.batch_norm(x, self.running_mean if update or not use_batch_stats else None,
                           self.running_var if update or not use_batch_stats else None,
                           self.weight, self.bias, use_batch_stats, momentum or 0.0, self.eps)
        if update:  # counted only once the batch has gone through: a rejected one leaves the state as it was
            tracked = self.num_batches_tracked
            tracked.array = tracked.xp.asarray(tracked.array + 1)  # a 0-d array, not a NumPy scalar
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of ``(N, C)`` or ``(N, C, L)`` inputs."""

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of ``(N, C, H, W)`` inputs."""

    _input_dims = (4,)


class LayerNorm(_Norm):
    r"""Layer normalisation (Ba et al. 2016) over the trailing ``normalized_shape`` axes of each sample."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._affine(self.normalized_shape, elementwise_affine, bias, dict(device=device or "cpu", dtype=dtype))

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
