"""Checking gradients with respect to a module's parameters."""

from __future__ import annotations

__all__ = ["functional_call"]


def functional_call(module, params, *args):
    """``module(*args)`` with ``params`` standing in for its parameters (in ``parameters()`` order).

    ``gradcheck`` differentiates with respect to the tensors it is given (its
    own float64 copies), so a check over a module's weights runs the module
    on those copies: ``gradcheck(lambda *p: functional_call(D, p, x).sum(), list(D.parameters()))``.
    """
    slots = [(m, name) for m in module.modules() for name, p in m._parameters.items() if p is not None]
    saved = [m._parameters[name] for m, name in slots]
    try:
        for (m, name), p in zip(slots, params):
            m._parameters[name] = p
        return module(*args)
    finally:
        for (m, name), p in zip(slots, saved):
            m._parameters[name] = p
