"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``."""

from __future__ import annotations

from minigan.autograd import Tensor
from minigan.kernels import sgd_update  # the update rule on arrays: a NumPy reference with a numba twin
from minigan.optim.optimizer import Optimizer

__all__ = ["SGD", "sgd_update"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    With gradient :math:`g_t`, weight decay :math:`\lambda`, momentum
    :math:`\mu`, dampening :math:`\tau` and learning rate :math:`\gamma`:

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
        g_t &\leftarrow \begin{cases} g_t + \mu b_t & \text{nesterov} \\ b_t & \text{otherwise} \end{cases} \\
        \theta_t &= \theta_{t-1} - \gamma g_t

    The momentum lines apply only when :math:`\mu \ne 0`; ``maximize`` negates
    :math:`g_t` first. Note the momentum buffer accumulates gradients, not
    steps (PyTorch's form, not the paper's :math:`v = \mu v - \gamma g`); the
    two agree for a constant learning rate.

    Parameters
    ----------
    params : iterable of Parameter or dict
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0
    weight_decay : float, default 0
        L2 penalty, added to the gradient.
    nesterov : bool, default False
        Needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool, default False
        Ascend the objective instead.

    Notes
    -----
    State per parameter: ``momentum_buffer`` (when ``momentum != 0``).

    References
    ----------
    Sutskever, Martens, Dahl & Hinton, "On the importance of initialization and
    momentum in deep learning", ICML 2013.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _validate(self, group: dict) -> None:
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        first_step = group["momentum"] != 0 and "momentum_buffer" not in state
        if first_step:
            state["momentum_buffer"] = Tensor(param.xp.empty_like(param.array))
        buffer = state.get("momentum_buffer")
        sgd_update(param.array, grad, None if buffer is None else buffer.array, first_step=first_step,
                   lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                   weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"])
