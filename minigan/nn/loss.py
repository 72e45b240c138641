r"""Loss modules, as ``torch.nn``: thin wrappers over :mod:`minigan.nn.functional`.

Each maps an input :math:`x` (and a target :math:`t`) to per-element losses
:math:`\ell`, then reduces them: ``reduction='none'`` returns :math:`\ell`,
``'sum'`` returns :math:`\sum_i \ell_i`, ``'mean'`` (the default) returns
:math:`\frac1n \sum_i \ell_i`, except that the class losses with weights divide
by the total weight instead (as PyTorch). Gradients follow from the functional
forms; each class states its own. ``weight`` and ``pos_weight`` are buffers, as
in PyTorch, so they move with ``.to(device)`` and appear in ``state_dict``.

The deprecated ``size_average`` and ``reduce`` arguments of PyTorch's losses
are not supported.
"""

from __future__ import annotations

from minigan.autograd import Tensor
from minigan.nn import functional as F
from minigan.nn.module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss"]

_REDUCTIONS = ("none", "mean", "sum")


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        F._no_legacy(type(self).__name__, size_average, reduce)
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))


def _as_tensor(value):
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class L1Loss(_Loss):
    r"""Mean absolute error, :math:`\ell_i = |x_i - t_i|`.

    Gradient: :math:`\bar x_i = \bar\ell_i\,\operatorname{sign}(x_i - t_i)` (0 at the kink, as PyTorch).
    ``input`` and ``target`` have the same shape.
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    r"""Squared error, :math:`\ell_i = (x_i - t_i)^2`.

    Gradient: :math:`\bar x_i = 2\,\bar\ell_i\,(x_i - t_i)`. ``input`` and ``target`` have the same shape.
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    r"""Binary cross-entropy on probabilities :math:`p_i \in [0, 1]`.

    .. math:: \ell_i = -w_i\,[t_i \log p_i + (1 - t_i) \log(1 - p_i)]

    with each log clamped at :math:`-100` (as PyTorch), so :math:`p = 0` or 1 gives a finite loss.
    Gradient: :math:`\bar p_i = \bar\ell_i\, w_i\, (p_i - t_i) / (p_i (1 - p_i))`.
    ``weight`` broadcasts against the input. Prefer :class:`BCEWithLogitsLoss`,
    exact for any logit.
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    r"""Binary cross-entropy on logits :math:`x_i`, fused with the sigmoid.

    .. math:: \ell_i = w_i\,[\,q_i\, t_i \operatorname{softplus}(-x_i) + (1 - t_i) \operatorname{softplus}(x_i)\,]

    with :math:`q` = ``pos_weight`` (1 by default; broadcast along the last, class,
    dimension), evaluated stably for any :math:`x`. Gradient:
    :math:`\bar x_i = \bar\ell_i\, w_i\,[(1 - t_i)\sigma(x_i) - q_i t_i (1 - \sigma(x_i))]`,
    which is :math:`\bar\ell_i w_i (\sigma(x_i) - t_i)` when :math:`q = 1`.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", _as_tensor(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class NLLLoss(_WeightedLoss):
    r"""Negative log-likelihood of class indices, given log-probabilities ``input`` ``(N, C, ...)``.

    .. math:: \ell_n = -w_{t_n}\, x_{n, t_n}\, [t_n \ne \text{ignore\_index}]

    ``reduction='mean'`` divides by :math:`\sum_n w_{t_n} [t_n \ne \text{ignore\_index}]`.
    Gradient: :math:`\bar x_{n,c} = -\bar\ell_n\, w_{t_n} [c = t_n]`. See :func:`minigan.nn.functional.nll_loss`.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class CrossEntropyLoss(_WeightedLoss):
    r"""Softmax cross-entropy of logits ``input`` ``(N, C, ...)`` against class indices or class probabilities.

    .. math:: \ell_n = -w_{t_n} \log \frac{e^{x_{n, t_n}}}{\sum_c e^{x_{n,c}}}

    (with ``label_smoothing`` :math:`\varepsilon`, the target is mixed with the
    uniform distribution: :math:`(1-\varepsilon)\,e_{t_n} + \varepsilon / C`).
    Gradient, without weights or smoothing:
    :math:`\bar x_n = \bar\ell_n\,(\operatorname{softmax}(x_n) - e_{t_n})`.
    See :func:`minigan.nn.functional.cross_entropy` for weights, ``ignore_index``
    and the ``'mean'`` normaliser.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        return (f"ignore_index={self.ignore_index}, reduction={self.reduction!r}, "
                f"label_smoothing={self.label_smoothing}")
