r"""Exponential moving average of a module's weights, for sampling from a smoothed generator."""

from __future__ import annotations

from minigan.autograd import Tensor
from minigan.autograd.tensor import to_device

__all__ = ["EMA", "ema_update"]


class EMA:
    r"""A running average of a module's parameters, with copies of its buffers.

    After each optimiser step, :meth:`update` moves every shadow weight
    towards the current one:

    .. math:: \bar\theta_t = \beta \bar\theta_{t-1} + (1 - \beta)\, \theta_t,
              \qquad \bar\theta_0 = \theta_0,

    so :math:`\bar\theta_t` is an exponentially weighted mean of the recent
    iterates, with a horizon of about :math:`1 / (1 - \beta)` steps. Buffers
    (batch-norm statistics) are copied, not averaged: they describe the
    current weights' activations, as in StyleGAN's ``G_ema``.

    Why it helps GANs: the generator's iterates do not converge to the
    equilibrium but cycle or oscillate around it, so the last iterate is a
    noisy point of that orbit. Averaging the iterates damps the oscillation
    and gives a generator nearer the equilibrium, with better and more stable
    sample quality (FID, IS) at no training cost; only the sampled copy uses
    the average, training continues on the raw weights.

    Parameters
    ----------
    module : Module
        The model whose weights are averaged (usually the generator).
    decay : float, default 0.999
        :math:`\beta`, in :math:`[0, 1]`.
    average : Module, optional
        A copy of ``module`` (``copy.deepcopy(G)``) whose own parameters and
        buffers hold the average: :meth:`update` writes into them in place,
        so the copy is always ready to sample from and :meth:`copy_to` is not
        needed. By default the average lives in tensors of the EMA's own.

    Examples
    --------
    >>> ema = EMA(G, decay=0.999)              # doctest: +SKIP
    >>> opt_g.step(); ema.update()             # doctest: +SKIP
    >>> ema.copy_to(G_sample)                  # doctest: +SKIP

    References
    ----------
    Yazıcı, Foo, Winkler, Yap, Piliouras & Chandrasekhar, "The Unusual
    Effectiveness of Averaging in GAN Training", ICLR 2019.
    """

    def __init__(self, module, decay: float = 0.999, average=None):
        self.module, self.decay = module, _checked(decay)
        if average is None:
            self.shadow = {name: Tensor(p.array.copy()) for name, p in module.named_parameters()}
            self.buffers = {name: Tensor(b.array.copy()) for name, b in module.named_buffers()}
        else:
            self.shadow, self.buffers = dict(average.named_parameters()), dict(average.named_buffers())
            params, buffers = self._tensors_of(module, "__init__: the average's parameters")
            for own, current in ((self.shadow, params), (self.buffers, buffers)):
                for name, t in own.items():  # the average starts at the module's weights
                    t.array = _fresh(current[name], t)

    def update(self, module=None) -> None:
        """Average in the current parameters of ``module`` (by default the one given at construction)."""
        params, buffers = self._tensors_of(self.module if module is None else module, "update")
        for name, shadow in self.shadow.items():
            ema_update(shadow.array, params[name].array, decay=self.decay)
        for name, saved in self.buffers.items():
            saved.array = buffers[name].array.copy()

    def copy_to(self, module) -> None:
        """Write the averaged parameters and the buffers into ``module`` (e.g. a copy used for sampling)."""
        for source, target in zip((self.shadow, self.buffers), self._tensors_of(module, "copy_to")):
            for name, value in source.items():
                target[name].array = _fresh(value, target[name])

    def state_dict(self) -> dict:
        """``{"decay": float, "shadow": {name: Tensor}, "buffers": {name: Tensor}}`` (copies)."""
        return {"decay": self.decay,
                "shadow": {name: Tensor(t.array.copy()) for name, t in self.shadow.items()},
                "buffers": {name: Tensor(t.array.copy()) for name, t in self.buffers.items()}}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` saved (copied into this EMA's tensors); names and shapes must match."""
        decay = _checked(state_dict["decay"])
        for table in ("shadow", "buffers"):  # check everything before changing anything
            own, saved = getattr(self, table), state_dict[table]
            _check_same_names(own, saved, f"EMA.load_state_dict: {table}")
            for name, t in own.items():
                if tuple(saved[name].shape) != t.shape:
                    raise ValueError(f"EMA.load_state_dict: {table} {name!r} has shape {tuple(saved[name].shape)}, "
                                     f"expected {t.shape}")
        for table in ("shadow", "buffers"):
            for name, t in getattr(self, table).items():
                t.array = _fresh(state_dict[table][name], t)
        self.decay = decay

    def _tensors_of(self, module, caller: str) -> tuple[dict, dict]:
        params, buffers = dict(module.named_parameters()), dict(module.named_buffers())
        _check_same_names(self.shadow, params, f"EMA.{caller}: the module's parameters")
        _check_same_names(self.buffers, buffers, f"EMA.{caller}: the module's buffers")
        return params, buffers


def _checked(decay: float) -> float:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"EMA: decay must be in [0, 1], got {decay}")
    return decay


def _check_same_names(own: dict, theirs: dict, what: str) -> None:
    if set(own) != set(theirs):
        raise ValueError(f"{what} differ from the averaged ones: missing {sorted(set(own) - set(theirs))}, "
                         f"unexpected {sorted(set(theirs) - set(own))}")


def _fresh(value, like: Tensor):
    """A copy of ``value``'s array on ``like``'s device, in its dtype."""
    array = value.array if isinstance(value, Tensor) else value
    return to_device(array, like.device).astype(like.dtype, copy=True)

def ema_update(shadow, param, *, decay):
    """``shadow = decay * shadow + (1 - decay) * param``, in place on arrays."""
    shadow *= decay
    shadow += (1 - decay) * param
