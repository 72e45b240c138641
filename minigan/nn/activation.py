"""Activation, dropout and reshaping layers: thin modules over :mod:`minigan.nn.functional`.

``inplace=True`` is accepted wherever PyTorch accepts it, and ignored: minigan
has no in-place ops on tensors that may need a gradient, so the result is
always a new tensor (the input is left as it was).
"""

from __future__ import annotations

import warnings

from minigan.autograd.creation import full
from minigan.nn import functional as F
from minigan.nn.module import Module, Parameter
from minigan.nn.resize import check_arguments

__all__ = ["Dropout", "Dropout2d", "Flatten", "LeakyReLU", "LogSoftmax", "PReLU", "ReLU", "Sigmoid", "Softmax",
           "Softplus", "Tanh", "Unflatten", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class ReLU(Module):
    """:math:`\\max(x, 0)`."""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """:math:`x` for :math:`x > 0`, else ``negative_slope`` :math:`\\cdot x` (default 0.01, as torch)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    r"""Parametric ReLU (He et al. 2015): :math:`x` for :math:`x > 0`, else :math:`a x` with a learned slope :math:`a`.

    ``num_parameters`` slopes: 1 (shared by every value, the default) or the
    number of channels (dimension 1 of the input); each starts at ``init``
    (0.25), as ``torch.nn.PReLU``. The layer of SRGAN's generator. See
    :func:`minigan.nn.functional.prelu` for the gradients.

    References
    ----------
    He, Zhang, Ren, Sun. Delving Deep into Rectifiers: Surpassing Human-Level
    Performance on ImageNet Classification. ICCV 2015.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, got {num_parameters!r}")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), init, device=device or "cpu", dtype=dtype))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Softplus(Module):
    """:math:`\\tfrac1\\beta \\log(1 + e^{\\beta x})`, exact for every :math:`x` (``threshold`` is accepted, unused)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, beta=self.beta)


def _softmax_dim(name: str, ndim: int, dim):
    """PyTorch's implicit choice when ``dim`` is None: 0 for 0-, 1- and 3-D inputs, else 1 (with its warning)."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    r"""Softmax along ``dim``: :math:`y_i = e^{x_i} / \sum_j e^{x_j}`.

    Gradient: :math:`\bar x = y \odot (\bar y - \sum_j \bar y_j y_j)`. ``dim=None``
    picks the dimension as PyTorch does (0 for 1-D and 3-D inputs, else 1) and warns.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, dim=_softmax_dim("softmax", x.ndim, self.dim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    r"""Log-softmax along ``dim``: :math:`y_i = x_i - \log\sum_j e^{x_j}`, stable for any logit.

    Gradient: :math:`\bar x_i = \bar y_i - \mathrm{softmax}(x)_i \sum_j \bar y_j`. ``dim=None``
    picks the dimension as :class:`Softmax` does.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, dim=_softmax_dim("log_softmax", x.ndim, self.dim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training; the identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Module):
    r"""Channel dropout in training: each channel :math:`(n, c)` of ``(N, C, H, W)`` is zeroed with probability ``p``.

    .. math:: y_{n,c} = x_{n,c}\, z_{n,c} / (1 - p), \qquad z_{n,c} \sim \mathrm{Bernoulli}(1 - p)

    Gradient: the same mask, :math:`\bar x_{n,c} = \bar y_{n,c}\, z_{n,c} / (1 - p)`. The identity in eval.
    A 3-D input is read as ``(N, C, L)``, as PyTorch does.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = self.dim % x.ndim
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """Resize by :func:`minigan.nn.functional.interpolate`: to ``size``, or by ``scale_factor``.

    Modes ``'nearest'``, ``'nearest-exact'`` and ``'bilinear'``; the options
    are checked here, so a bad one fails when the layer is built, not at its
    first batch.
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        # as PyTorch: a tuple of floats, a float, or None for a falsy factor
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor
        check_arguments(self.name, self.size, self.scale_factor, mode, align_corners, recompute_scale_factor)

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``: corner pixels stay put, as PyTorch's."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
