"""Adam and AdamW, as ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

from __future__ import annotations

from minigan.autograd import Tensor
from minigan.kernels import adam_update  # the update rule on arrays: a NumPy reference with a numba twin
from minigan.optim.optimizer import Optimizer

__all__ = ["Adam", "AdamW", "adam_update"]


class Adam(Optimizer):
    r"""Adam: steps scaled by running estimates of the gradient's first and second moments.

    With gradient :math:`g_t`, learning rate :math:`\gamma`, betas
    :math:`(\beta_1, \beta_2)` and weight decay :math:`\lambda`, at step
    :math:`t = 1, 2, \dots` (from :math:`m_0 = v_0 = 0`):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ if amsgrad, else } v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
                    \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    The factors :math:`1 - \beta^t` correct the bias of averages started at
    zero. Weight decay here is an L2 penalty added to the gradient, so it is
    rescaled by :math:`\hat v_t` like the rest of it; with
    ``decoupled_weight_decay`` (see :class:`AdamW`) the first line becomes
    :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)\theta_{t-1}` instead.
    ``maximize`` negates :math:`g_t` first.

    Parameters
    ----------
    params : iterable of Parameter or dict
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moment averages.
    eps : float, default 1e-8
        Added to the denominator for stability.
    weight_decay : float, default 0
    amsgrad : bool, default False
        Use the maximum of the second moments so far (Reddi et al. 2018).
    maximize : bool, default False
    decoupled_weight_decay : bool, default False

    Notes
    -----
    State per parameter: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq``
    (:math:`v`) and, with amsgrad, ``max_exp_avg_sq`` (:math:`\hat v`).

    References
    ----------
    Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _validate(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= beta1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = Tensor(param.xp.zeros_like(param.array))
            state["exp_avg_sq"] = Tensor(param.xp.zeros_like(param.array))
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = Tensor(param.xp.zeros_like(param.array))
        state["step"] += 1
        beta1, beta2 = group["betas"]
        max_exp_avg_sq = state["max_exp_avg_sq"].array if group["amsgrad"] else None
        adam_update(param.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array, max_exp_avg_sq,
                    step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], amsgrad=group["amsgrad"], maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"])


class AdamW(Adam):
    r"""Adam with decoupled weight decay: the weights shrink by :math:`(1 - \gamma\lambda)` each step.

    .. math:: \theta_{t-1} \leftarrow (1 - \gamma \lambda)\, \theta_{t-1},

    then the :class:`Adam` step with :math:`\lambda = 0` in the gradient.
    Decay applied to the weights directly, rather than through the gradient,
    is not divided by :math:`\sqrt{\hat v_t}`, so every weight decays at the
    same rate whatever its gradient history. Same parameters and state as
    :class:`Adam`, with ``weight_decay`` defaulting to ``1e-2``.

    References
    ----------
    Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
