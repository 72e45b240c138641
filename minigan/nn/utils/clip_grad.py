"""Gradient clipping by global norm, as ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import math

from minigan.autograd import Tensor


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> float:
    r"""Scale all gradients by :math:`\min(1, c / (\lVert g \rVert + 10^{-6}))` where
    :math:`\lVert g \rVert` is the norm of all gradients together; returns that norm."""
    params = [p for p in ([parameters] if isinstance(parameters, Tensor) else parameters) if p.grad is not None]
    if not params:
        return 0.0
    if norm_type == float("inf"):
        total = max(float(abs(p.grad.array).max()) for p in params)
    else:
        total = sum(float((abs(p.grad.array) ** norm_type).sum()) for p in params) ** (1.0 / norm_type)
    scale = max_norm / (total + 1e-6)
    if scale < 1 and math.isfinite(total):
        for p in params:
            p.grad = Tensor(p.grad.array * p.grad.dtype.type(scale))
    return total
