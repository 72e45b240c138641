"""``Optimizer``: parameter groups, per-parameter state and checkpoints, as ``torch.optim.Optimizer``.

A subclass validates its hyper-parameters in :meth:`Optimizer._validate` and
updates one parameter in :meth:`Optimizer._update`, which creates that
parameter's state on first use and calls a per-parameter update function
working in place on raw arrays. Updates never touch the tape: they read
``p.grad.array`` and write ``p.array``.
"""

from __future__ import annotations

import copy
from collections import defaultdict

from minigan.autograd import Tensor, enable_grad
from minigan.autograd.tensor import to_device

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of every optimiser.

    Parameters
    ----------
    params : iterable of Parameter, or of dict
        The tensors to optimise, or parameter groups: dicts with a ``"params"``
        entry and any hyper-parameters that override ``defaults`` for that group.
    defaults : dict
        Hyper-parameters of groups that do not set their own.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        self._validate(defaults)
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    # -- what subclasses define -------------------------------------------------------
    def _validate(self, group: dict) -> None:
        """Raise ``ValueError`` for a hyper-parameter out of range (torch's messages)."""

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        """Update ``param.array`` in place from the gradient array ``grad``."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update()")

    # -- groups ---------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with optional hyper-parameters of its own), e.g. to unfreeze layers."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate(group)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # -- training -------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (the default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:  # a fresh array: the old one may be shared with another tensor
                    p.grad = Tensor(p.grad.xp.zeros_like(p.grad.array))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given.

        ``closure`` re-evaluates the model and returns the loss (it is run with
        gradients enabled, as in torch).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}.step: gradient of shape {p.grad.shape} "
                                     f"for a parameter of shape {p.shape}")
                grad = p.grad.array.astype(p.dtype, copy=False)  # the update runs in the parameter's dtype
                self._update(p, grad, self.state[p], group)
        return loss

    # -- checkpoints ----------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: Tensor or number}}, "param_groups": [{..., "params": [index]}]}``.

        Parameters are numbered across groups in order, as in torch. The state
        tensors are the optimiser's own (not copies), as in torch.
        """
        groups, state, index = [], {}, 0
        for group in self.param_groups:
            indices = list(range(index, index + len(group["params"])))
            for i, p in zip(indices, group["params"]):
                if self.state.get(p):
                    state[i] = dict(self.state[p])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
            index += len(indices)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict` (copied, cast to each parameter)."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has a different number of parameter "
                             f"groups ({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: loaded state dict contains a parameter group that "
                                 f"doesn't match the size of optimizer's group: group {i} has "
                                 f"{len(saved['params'])} parameters saved, {len(group['params'])} here")
        param_of = {i: p for saved, group in zip(saved_groups, self.param_groups)
                    for i, p in zip(saved["params"], group["params"])}
        state = defaultdict(dict)
        for i, entries in state_dict["state"].items():
            if i not in param_of:
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, which no group lists")
            state[param_of[i]] = {key: _restore(value, param_of[i], key, name) for key, value in entries.items()}
        groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new = {**self.defaults, **copy.deepcopy({k: v for k, v in saved.items() if k != "params"})}
            self._validate(new)
            groups.append({**new, "params": group["params"]})
        self.state, self.param_groups = state, groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join([*lines, ")"])


def _restore(value, param: Tensor, key: str, caller: str):
    """A saved state entry as this optimiser stores it: a fresh array on the parameter's device and dtype."""
    if not isinstance(value, Tensor) and not hasattr(value, "shape"):
        return value  # a number, such as the step count
    array = value.array if isinstance(value, Tensor) else value
    if array.shape != param.shape:
        raise ValueError(f"{caller}.load_state_dict: state {key!r} has shape {array.shape}, "
                         f"but its parameter has shape {param.shape}")
    array = to_device(array, param.device)
    dtype = param.dtype if array.dtype.kind == "f" else array.dtype
    return Tensor(array.astype(dtype, copy=True))
