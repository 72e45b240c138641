r"""The primitive mechanism: forward on arrays, vector-Jacobian product on Tensors.

A primitive ``f`` is a function of arrays together with its VJP. Calling it on
Tensors runs the forward on their arrays and, when recording, leaves a
:class:`Node` on the output that remembers ``f``, its inputs and its static
keyword arguments. Backward later asks the node for

.. math:: \bar x_i = \bar y \, \partial y / \partial x_i

by calling the VJP with the upstream gradient ``g`` (a Tensor), the output
``y`` (a Tensor) and the inputs (Tensors). Because the VJP is written with
minigan primitives, it is itself recorded when ``create_graph=True``, and the
gradient can be differentiated again.

Usage::

    @primitive
    def exp(x):
        return np.exp(x)

    @exp.vjp
    def _(g, y, x):
        return g * y

Static arguments are the forward's keyword-only parameters. As in PyTorch,
they may also follow the inputs positionally, in order: ``clamp(x, 0, 1)``
is ``clamp(x, min=0, max=1)``.
"""

from __future__ import annotations

import inspect
import types
import weakref
from numbers import Number

from minigan.autograd import profiler
from minigan.autograd.grad_mode import is_grad_enabled
from minigan.autograd.tensor import Tensor

__all__ = ["primitive", "Primitive", "Node"]


class Node:
    """One recorded application of a primitive: the edge from inputs to an output."""

    __slots__ = ("primitive", "inputs", "kwargs", "_output", "freed", "layer")

    def __init__(self, primitive: Primitive, inputs: tuple[Tensor, ...], kwargs: dict, output: Tensor):
        self.primitive = primitive
        self.inputs = inputs
        self.kwargs = kwargs
        self._output = weakref.ref(output)
        self.freed = False
        self.layer = None if profiler.active is None else profiler.active.layer  # for the profile's layer table

    @property
    def output(self) -> Tensor:
        return self._output()

    def vjp(self, g: Tensor) -> tuple[Tensor | None, ...]:
        """Input gradients for upstream gradient ``g``; ``None`` where an input needs none."""
        if profiler.active is not None:
            with profiler.active.primitive(self.primitive.name, "backward", self.layer):
                return self._vjp(g)
        return self._vjp(g)

    def _vjp(self, g: Tensor) -> tuple[Tensor | None, ...]:
        if self.freed:
            raise RuntimeError(
                f"backward through {self.primitive.name} a second time: its graph was freed by an "
                "earlier backward. Pass retain_graph=True to the first backward (or to grad) "
                "to differentiate the same graph again."
            )
        if self.primitive.vjp_fn is None:
            raise RuntimeError(f"{self.primitive.name} is not differentiable (it has no VJP)")
        grads = self.primitive.vjp_fn(g, self.output, *self.inputs, **self.kwargs)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(
                f"the VJP of {self.primitive.name} returned {len(grads)} gradients "
                f"for {len(self.inputs)} inputs"
            )
        return grads


class Primitive:
    """A differentiable function of arrays; see the module docstring."""

    def __init__(self, forward, name: str | None = None):
        self.forward = forward
        self.name = name or forward.__name__
        self.vjp_fn = None
        self.__doc__ = forward.__doc__
        self.__name__ = self.name
        self.__qualname__ = getattr(forward, "__qualname__", self.name)
        self.__module__ = getattr(forward, "__module__", None)
        self.__wrapped__ = forward
        parameters = inspect.signature(forward).parameters.values()
        inputs = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self._arity = None if any(p.kind is p.VAR_POSITIONAL for p in parameters) else len(inputs)
        self._static = tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)

    def vjp(self, fn):
        """Register ``fn(g, y, *inputs, **kwargs) -> input gradients`` as this primitive's VJP."""
        self.vjp_fn = fn
        return fn

    def __call__(self, *args, **kwargs):
        if profiler.active is not None:
            with profiler.active.primitive(self.name, "forward", profiler.active.layer):
                return self._apply(args, kwargs)
        return self._apply(args, kwargs)

    def _apply(self, args: tuple, kwargs: dict) -> Tensor:
        if self._arity is not None and len(args) > self._arity:
            args, kwargs = self._static_by_position(args, kwargs)
        inputs = _as_tensors(args, self.name)
        out = Tensor(self.forward(*[t.array for t in inputs], **kwargs))
        if is_grad_enabled() and any(t.requires_grad for t in inputs):
            out.requires_grad = True
            out._node = Node(self, inputs, kwargs, out)
        return out

    def _static_by_position(self, args, kwargs):
        """``f(x, 0, 1)`` as ``f(x, a=0, b=1)``: arguments past the inputs name the static parameters in order."""
        extra = args[self._arity:]
        if len(extra) > len(self._static):
            raise TypeError(f"{self.name}() takes {self._arity} input(s) and at most {len(self._static)} static "
                            f"argument(s) {self._static}, got {len(args)} positional arguments")
        named = dict(zip(self._static, extra))
        if clash := named.keys() & kwargs.keys():
            raise TypeError(f"{self.name}() got multiple values for argument {sorted(clash)[0]!r}")
        return args[:self._arity], {**kwargs, **named}

    def __get__(self, instance, owner):  # so a primitive can serve as a Tensor method
        return self if instance is None else types.MethodType(self, instance)

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(forward=None, *, name: str | None = None):
    """Decorator that turns an array function into a :class:`Primitive`."""
    if forward is None:
        return lambda f: Primitive(f, name)
    return Primitive(forward, name)


def _as_tensors(args, opname: str) -> tuple[Tensor, ...]:
    """Wrap non-Tensor arguments; a Python number takes the dtype of the Tensors beside it.

    Keeping numbers weakly typed (as NumPy 2 and PyTorch do) means ``x * 2``
    stays float32 when ``x`` is float32.
    """
    if all(isinstance(a, Tensor) for a in args):
        return args
    tensors = [a for a in args if isinstance(a, Tensor)]
    like = next((t for t in tensors if t.dtype.kind in "fc"), tensors[0] if tensors else None)
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, Number) and like is not None:
            out.append(Tensor(like.xp.asarray(a, dtype=_number_dtype(a, like.dtype))))
        else:
            try:
                out.append(Tensor(a))
            except TypeError as err:
                raise TypeError(f"{opname}: cannot use an argument of type {type(a).__name__} as a tensor") from err
    return tuple(out)


def _number_dtype(value, dtype):
    """The dtype a Python number takes beside a tensor of ``dtype``."""
    if dtype.kind in "fc" or isinstance(value, bool):
        return dtype
    if isinstance(value, float):
        import numpy as np

        return np.dtype(np.float32)  # int tensor times a float: float32, as torch's default
    return dtype
