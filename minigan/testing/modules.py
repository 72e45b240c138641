"""Checking gradients with respect to modules' parameters."""

from __future__ import annotations

import contextlib

__all__ = ["functional_call", "parameters_replaced"]


@contextlib.contextmanager
def parameters_replaced(modules, params):
    """Within the block, ``params`` stand in for the parameters of ``modules`` (in their ``parameters()`` order).

    A parameter shared by two modules is replaced once, where it first appears.
    ``gradcheck`` differentiates with respect to its own float64 copies of the
    tensors it is given, so a check over several networks' weights runs them
    on those copies::

        with parameters_replaced([D, Q], params): ...
    """
    slots, seen = [], set()
    for module in modules:
        for m in module.modules():
            for name, p in m._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    slots.append((m, name))
    saved = [m._parameters[name] for m, name in slots]
    if len(params) != len(slots):
        raise ValueError(f"parameters_replaced: {len(slots)} parameters to replace, {len(params)} given")
    try:
        for (m, name), p in zip(slots, params):
            m._parameters[name] = p
        yield
    finally:
        for (m, name), p in zip(slots, saved):
            m._parameters[name] = p


def functional_call(module, params, *args):
    """``module(*args)`` with ``params`` standing in for its parameters (in ``parameters()`` order).

    ``gradcheck(lambda *p: functional_call(D, p, x).sum(), list(D.parameters()))``
    checks the gradient with respect to D's weights.
    """
    with parameters_replaced([module], list(params)):
        return module(*args)
