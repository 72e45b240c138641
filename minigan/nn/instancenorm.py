r"""``InstanceNorm2d`` (Ulyanov et al. 2016), as ``torch.nn.InstanceNorm2d``.

Each sample's each channel is standardised over its own ``H x W`` pixels,
then optionally scaled and shifted per channel (``affine=True``):
:math:`y_{n,c} = \gamma_c (x_{n,c} - \mu_{n,c}) / \sqrt{\sigma^2_{n,c} + \epsilon} + \beta_c`,
see :func:`minigan.nn.functional.instance_norm`. PyTorch's defaults: no affine
parameters and no running statistics. With ``track_running_stats=True``,
training updates ``running_mean``/``running_var`` with the batch averages of the
instance statistics (``momentum=None`` freezes them, as PyTorch) and evaluation
normalises with them.

References
----------
Ulyanov, Vedaldi & Lempitsky, "Instance Normalization: The Missing Ingredient
for Fast Stylization", arXiv:1607.08022, 2016.
"""

from __future__ import annotations

import warnings

from minigan.nn import functional as F
from minigan.nn.normalization import _Norm

__all__ = ["InstanceNorm2d"]


class InstanceNorm2d(_Norm):
    """Instance norm of ``(N, C, H, W)`` (or unbatched ``(C, H, W)``) inputs, with optional per-channel affine
    (``bias=False``: scale only)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        factory = {"device": device or "cpu", "dtype": dtype}
        self._affine(num_features, affine, bias, factory)
        # as PyTorch: num_batches_tracked is kept for the state dict but never counts
        self._running_stats(num_features, track_running_stats, factory)

    def forward(self, x):
        name = f"{type(self).__name__}({self.num_features})"
        if x.ndim not in (3, 4):
            raise ValueError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got a {x.ndim}-D input of shape {tuple(x.shape)}")
        batched = x.ndim == 4
        x = x if batched else x.unsqueeze(0)
        if x.shape[1] != self.num_features:
            message = (f"{name}: expected input with {self.num_features} channels (N, {self.num_features}, H, W), "
                       f"got {tuple(x.shape if batched else x.shape[1:])}")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message, stacklevel=2)
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out if batched else out.squeeze(0)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
