"""RMSprop, as ``torch.optim.RMSprop``."""

from __future__ import annotations

from minigan.autograd import Tensor
from minigan.kernels import rmsprop_update  # the update rule on arrays: a NumPy reference with a numba twin
from minigan.optim.optimizer import Optimizer

__all__ = ["RMSprop", "rmsprop_update"]


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    With gradient :math:`g_t`, learning rate :math:`\gamma`, smoothing
    constant :math:`\alpha`, weight decay :math:`\lambda` and momentum
    :math:`\mu` (from :math:`v_0 = \bar g_0 = b_0 = 0`):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1 - \alpha) g_t \quad \text{(centered only)} \\
        d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \text{ if centered, else } \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / d_t \\
        \theta_t &= \theta_{t-1} - \gamma b_t

    Without momentum (:math:`\mu = 0`) the last two lines are
    :math:`\theta_t = \theta_{t-1} - \gamma g_t / d_t`. Centering divides by
    an estimate of the gradient's standard deviation instead of its RMS.
    ``maximize`` negates :math:`g_t` first. WGAN (Arjovsky et al. 2017)
    trains with it at ``lr=5e-5``.

    Parameters
    ----------
    params : iterable of Parameter or dict
    lr : float, default 1e-2
    alpha : float, default 0.99
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
    maximize : bool, default False

    Notes
    -----
    State per parameter: ``step``, ``square_avg`` (:math:`v`), ``momentum_buffer``
    (:math:`b`, when ``momentum > 0``) and ``grad_avg`` (:math:`\bar g`, when centered).

    References
    ----------
    Tieleman & Hinton, "Lecture 6.5 - RMSProp: Divide the gradient by a running
    average of its recent magnitude", COURSERA: Neural Networks for Machine Learning, 2012.
    Graves, "Generating Sequences With Recurrent Neural Networks", 2013 (the centered form).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _validate(self, group: dict) -> None:
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        zeros = param.xp.zeros_like
        if not state:
            state["step"] = 0
            state["square_avg"] = Tensor(zeros(param.array))
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = Tensor(zeros(param.array))
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = Tensor(zeros(param.array))
        state["step"] += 1
        momentum_buffer, grad_avg = state.get("momentum_buffer"), state.get("grad_avg")
        rmsprop_update(param.array, grad, state["square_avg"].array,
                       None if grad_avg is None else grad_avg.array,
                       None if momentum_buffer is None else momentum_buffer.array,
                       lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                       momentum=group["momentum"], centered=group["centered"], maximize=group["maximize"])
