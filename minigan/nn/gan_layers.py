r"""Layers from the GAN literature that let a discriminator see more than one sample, or the whole image.

- :class:`MinibatchStdDev` (Karras et al. 2018, ProGAN): appends the average
  standard deviation across the batch as an extra feature.
- :class:`MinibatchDiscrimination` (Salimans et al. 2016): appends, for each
  sample, how close it is to the others in learned projections.
- :class:`SelfAttention2d` (Zhang et al. 2019, SAGAN): attention over spatial positions.

All are composites of minigan ops, so their gradients and second derivatives
(for gradient penalties) follow.
"""

from __future__ import annotations

import math

from minigan import ops
from minigan.autograd.creation import empty, zeros
from minigan.nn import functional as F
from minigan.nn import init
from minigan.nn.conv import Conv2d
from minigan.nn.module import Module, Parameter

__all__ = ["MinibatchStdDev", "MinibatchDiscrimination", "SelfAttention2d"]


class MinibatchStdDev(Module):
    r"""Append the mean standard deviation of features across groups of samples.

    Samples are split into groups of :math:`S` (``group_size``, or the whole
    batch if smaller). Within a group,

    .. math::

        s = \operatorname{mean}_{c,h,w} \sqrt{\operatorname{Var}_j(x_{j,c,h,w}) + \epsilon}

    (the biased variance over the group's :math:`S` samples :math:`j`), and
    :math:`s` is appended as one constant channel (or one feature, for
    ``(N, F)`` inputs) to every sample in the group. A
    collapsed generator yields :math:`s \approx 0`, which the discriminator
    can see. Output: ``(N, C + 1, H, W)`` or ``(N, F + 1)``.

    References: Karras, Aila, Laine, Lehtinen (2018), Progressive Growing of GANs.
    """

    def __init__(self, group_size: int = 4, eps: float = 1e-8):
        super().__init__()
        self.group_size, self.eps = group_size, eps

    def forward(self, x):
        n = x.shape[0]
        g = min(self.group_size, n)
        if n % g:
            raise ValueError(f"MinibatchStdDev: batch size {n} must be divisible by group size {g}")
        groups = x.reshape(g, n // g, *x.shape[1:])                       # (S, N/S, ...)
        std = ops.sqrt(groups.var(axis=0, unbiased=False) + self.eps)     # (N/S, ...)
        s = std.reshape(n // g, -1).mean(axis=1)                          # (N/S,)
        s = s.reshape((1, n // g) + (1,) * (x.ndim - 1))
        tile = ops.broadcast_to(s, shape=(g, n // g, 1) + x.shape[2:]).reshape((n, 1) + x.shape[2:])
        return ops.cat([x, tile], 1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"


class MinibatchDiscrimination(Module):
    r"""Minibatch discrimination: features measuring each sample's closeness to the rest of the batch.

    With a learned tensor :math:`T \in \mathbb R^{A \times B \times C}` and
    :math:`M_i = x_i T \in \mathbb R^{B \times C}`,

    .. math::

        c_b(x_i, x_j) = \exp(-\lVert M_{i,b} - M_{j,b} \rVert_{L_1}), \qquad
        o(x_i)_b = \sum_{j \ne i} c_b(x_i, x_j),

    and the output is :math:`[x_i, o(x_i)]` of shape ``(N, A + B)``. The
    :math:`j = i` term (always 1) is left out, as in the reference code.

    References: Salimans et al. (2016), Improved Techniques for Training GANs.
    """

    def __init__(self, in_features: int, out_features: int, kernel_dims: int = 5, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features, self.kernel_dims = in_features, out_features, kernel_dims
        self.T = Parameter(empty(in_features, out_features, kernel_dims, device=device or "cpu", dtype=dtype))
        init.normal_(self.T, 0.0, 1.0 / math.sqrt(in_features))

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"MinibatchDiscrimination: expected input (N, {self.in_features}), got {x.shape}")
        F._same_dtype("MinibatchDiscrimination", x, T=self.T)
        n = x.shape[0]
        m = (x @ self.T.reshape(self.in_features, -1)).reshape(n, self.out_features, self.kernel_dims)
        l1 = (m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(axis=3)          # (N, N, B)
        o = ops.exp(-l1).sum(axis=1) - 1.0                                 # drop exp(0) for j = i
        return ops.cat([x, o], 1)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, kernel_dims={self.kernel_dims}"


class SelfAttention2d(Module):
    r"""Self-attention over the :math:`L = HW` positions of a feature map (SAGAN).

    With 1x1 convolutions :math:`f, g` (to :math:`C/8` channels) and :math:`h` (to :math:`C`),

    .. math::

        \beta_{j,i} = \operatorname{softmax}_i\left(f(x)_i^\top g(x)_j\right), \qquad
        o_j = \textstyle\sum_i \beta_{j,i}\, h(x)_i, \qquad
        y = \gamma\, o + x,

    with the learnable scalar :math:`\gamma` initialised to 0, so the block
    starts as the identity and learns how much non-local evidence to use.
    :meth:`attention` returns :math:`\beta` itself, to see where each position looks.

    References: Zhang, Goodfellow, Metaxas, Odena (2019), Self-Attention GANs.
    """

    def __init__(self, channels: int, reduction: int = 8):
        super().__init__()
        inner = max(channels // reduction, 1)
        self.channels = channels
        self.query = Conv2d(channels, inner, 1)
        self.key = Conv2d(channels, inner, 1)
        self.value = Conv2d(channels, channels, 1)
        self.gamma = Parameter(zeros(1))

    def forward(self, x):
        n, c, h, w = x.shape
        v = self.value(x).reshape(n, c, h * w)                  # (N, C, L)
        o = (v @ self._weights(x)).reshape(n, c, h, w)          # o_j = sum_i beta_{j,i} v_i
        return self.gamma * o + x

    def _weights(self, x):
        r""":math:`\beta` laid out ``(N, L_i, L_j)``: column ``j`` sums to 1 over the positions ``i``."""
        n, _, h, w = x.shape
        q = self.query(x).reshape(n, -1, h * w)                 # (N, C', L)
        k = self.key(x).reshape(n, -1, h * w)                   # (N, C', L)
        return F.softmax(q.transpose(1, 2) @ k, dim=1)          # (N, L_i, L_j), normalised over i

    def attention(self, x):
        r"""The attention map :math:`\beta` for an input ``x`` ``(N, C, H, W)``, as ``(N, L, L)`` with :math:`L = HW`.

        Row :math:`j` holds :math:`\beta_{j,i}` over the positions :math:`i`: where output position
        :math:`j` (the query) reads from. Positions are row-major, :math:`j = r W + c`, and each row sums to 1.
        """
        return self._weights(x).transpose(1, 2)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
