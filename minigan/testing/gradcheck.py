r"""Check gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

For inputs :math:`x` and a random upstream gradient :math:`v` (one standard
normal tensor per output, never all ones: an all-ones :math:`v` hides every
error whose gradient sums to zero, as batch-norm's input gradient does), the
checked scalar is

.. math:: L(x) = \sum_k \langle f_k(x), v_k \rangle .

Reverse mode gives :math:`\partial L / \partial x = \sum_k J_k^\top v_k`, the
VJP under test. Central differences give each of its elements independently,

.. math:: \frac{\partial L}{\partial x_i} \approx
          \frac{L(x + \epsilon e_i) - L(x - \epsilon e_i)}{2 \epsilon},

with error :math:`O(\epsilon^2 \, \partial^3 L)` from the Taylor series and
:math:`O(\text{roundoff} / \epsilon)` from float64 cancellation; both are far
below the default tolerance for well-conditioned inputs.

Kinks. ReLU, LeakyReLU, abs, clamp, max/min (at ties) and hinge losses are not
differentiable everywhere. At a kink the central difference averages the two
one-sided slopes, which no VJP needs to match, so a mismatch there is reported
as :class:`NonDifferentiableError` rather than as a wrong gradient; at a
symmetric kink (abs at 0, subgradient 0) the two agree by luck and the check
proves nothing. Draw test inputs with :func:`minigan.testing.strategies.arrays`
and ``avoid=(kink, ...)`` to keep every element at least ``margin`` (much
larger than ``eps``) away.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minigan.autograd import Tensor, enable_grad, grad
from minigan.autograd.tensor import to_device

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "NonDifferentiableError"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate.

    Attributes ``input_index``, ``element`` (a multi-index tuple), ``analytic``
    and ``numeric`` locate the first disagreeing element (None when the error
    is about a shape).
    """

    def __init__(self, message, input_index=None, element=None, analytic=None, numeric=None):
        super().__init__(message)
        self.input_index, self.element = input_index, element
        self.analytic, self.numeric = analytic, numeric


class NonDifferentiableError(GradcheckError):
    r"""The checked function is not differentiable at the point (a kink or a jump).

    ``forward`` and ``backward`` hold the one-sided differences
    :math:`(L(x + \epsilon e_i) - L(x)) / \epsilon` and
    :math:`(L(x) - L(x - \epsilon e_i)) / \epsilon`.
    """

    def __init__(self, message, input_index=None, element=None, analytic=None, numeric=None,
                 forward=None, backward=None):
        super().__init__(message, input_index, element, analytic, numeric)
        self.forward, self.backward = forward, backward


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, grad_outputs=None, seed=0,
              raise_exception=True) -> bool:
    r"""Check the VJP of ``fn`` against central differences, element by element.

    Parameters
    ----------
    fn : callable
        ``fn(*inputs)`` returns a Tensor or a tuple of Tensors. It may call
        :func:`minigan.grad` itself (gradient penalties): every evaluation runs
        with recording on, on fresh leaves.
    inputs : Tensor or sequence
        Each floating Tensor that requires grad is replaced by a float64 copy
        (``requires_grad=True``) and checked; anything else is passed as is.
    eps : float
        Finite-difference step.
    atol, rtol : float
        Element ``i`` passes when :math:`|a_i - n_i| \le \mathrm{atol} + \mathrm{rtol}\,|n_i|`
        for analytic :math:`a` and numeric :math:`n`.
    grad_outputs : Tensor or sequence of Tensors, optional
        The upstream gradients :math:`v_k`; by default standard normal draws
        from ``numpy.random.default_rng(seed)``.
    seed : int
        Seed of the default upstream gradients.
    raise_exception : bool
        Raise on failure (default) or return False.

    Returns
    -------
    bool
        True when every element agrees.

    Raises
    ------
    NonDifferentiableError
        A mismatch where ``fn`` is not differentiable: the one-sided slopes
        :math:`(L(x \pm \epsilon e_i) - L(x)) / \pm\epsilon` differ by more
        than the tolerance and by more than the mismatch (a kink), or the
        central difference changes when ``eps`` shrinks tenfold (a jump). The
        check says nothing there; draw inputs away from it (see the module
        docstring). ReLU, LeakyReLU, abs, clamp, max and hinge have kinks.
    GradcheckError
        Otherwise: names the input, the element as an index tuple, the
        analytic and the numeric value.
    """
    return _check(fn, inputs, eps, atol, rtol, grad_outputs, seed, raise_exception, labels=None)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0,
                  raise_exception=True) -> bool:
    r"""Check second derivatives: :func:`gradcheck` applied to the VJP of ``fn``.

    With an upstream gradient :math:`v` (random, or ``grad_outputs``) made a
    float64 tensor that requires grad, the first derivative

    .. math:: \mathrm{first}(x, v) = J_f(x)^\top v

    is computed with ``create_graph=True`` and checked by :func:`gradcheck`
    with respect to both :math:`x` and :math:`v`. Its derivative in :math:`x`
    is the Hessian-vector product that double backward must get right (WGAN-GP,
    R1); its derivative in :math:`v` catches a VJP that cuts the upstream
    gradient from the graph. Parameters, return value and errors are those of
    :func:`gradcheck`; messages say that the second derivative failed.
    """
    inputs = _as_list(inputs)
    points = [_checked_copy(x) if _is_checked(x) else x for x in inputs]
    with enable_grad():
        outputs = _floating(_outputs_of(fn(*points)))
    vs = [Tensor(v.array, requires_grad=True) for v in _upstream(outputs, grad_outputs, seed)]

    def first(*args):
        xs, vs_ = args[:len(inputs)], args[len(inputs):]
        wrt = [x for x in xs if _is_checked(x)]
        with enable_grad():
            ys = _floating(_outputs_of(fn(*xs)))
            live = [(y, v) for y, v in zip(ys, vs_) if y.requires_grad]
            grads = grad([y for y, _ in live], wrt, [v for _, v in live], create_graph=True,
                         allow_unused=True) if live else (None,) * len(wrt)
        return tuple(_zeros_like(x) if g is None else g for x, g in zip(wrt, grads))

    labels = [f"input {i}" for i in range(len(inputs))] + [f"upstream gradient {k}" for k in range(len(vs))]
    return _check(first, points + vs, eps, atol, rtol, None, seed + 1, raise_exception,
                  labels=labels, what="second derivative")


# -- the check -------------------------------------------------------------------------------------

def _check(fn, inputs, eps, atol, rtol, grad_outputs, seed, raise_exception, labels, what="gradient"):
    inputs = [_checked_copy(x) if _is_checked(x) else x for x in _as_list(inputs)]
    labels = labels or [f"input {i}" for i in range(len(inputs))]
    checked = [i for i, x in enumerate(inputs) if _is_checked(x)]
    try:
        with enable_grad():
            outputs = _floating(_outputs_of(fn(*inputs)))
        vs = _upstream(outputs, grad_outputs, seed)
        analytic = _analytic(outputs, vs, [inputs[i] for i in checked])
        for i, a in zip(checked, analytic):
            _compare(_Objective(fn, inputs, vs, i), labels[i], a, eps, atol, rtol, what)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _analytic(outputs, vs, wrt) -> list[np.ndarray]:
    r""":math:`\sum_k J_k^\top v_k` for every checked input, by reverse mode (zeros where unused)."""
    live = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
    grads = grad([y for y, _ in live], wrt, [v for _, v in live], allow_unused=True) if live else [None] * len(wrt)
    return [np.zeros(x.shape) if g is None else np.asarray(g.numpy(), np.float64) for x, g in zip(wrt, grads)]


class _Objective:
    """:math:`L` as a function of input ``i`` moved along one element, the other inputs held fixed."""

    def __init__(self, fn, inputs, vs, i):
        self.fn, self.inputs, self.vs, self.i = fn, inputs, vs, i
        self.base = inputs[i].array
        self.center = self(None, 0.0)

    def __call__(self, index, step) -> float:
        moved = self.base.copy()
        if index is not None:
            moved[index] += step
        args = list(self.inputs)
        args[self.i] = Tensor(moved, requires_grad=True)  # a fresh leaf: fn may differentiate internally
        with enable_grad():
            ys = _floating(_outputs_of(self.fn(*args)))
        return float(sum(float((y.array * v.array).sum()) for y, v in zip(ys, self.vs)))

    def differences(self, eps):
        """Central, forward and backward differences along every element."""
        plus, minus = np.empty(self.base.shape), np.empty(self.base.shape)
        for index in np.ndindex(self.base.shape):
            plus[index], minus[index] = self(index, eps), self(index, -eps)
        return (plus - minus) / (2 * eps), (plus - self.center) / eps, (self.center - minus) / eps

    def central(self, index, eps) -> float:
        return (self(index, eps) - self(index, -eps)) / (2 * eps)


def _compare(objective, label, analytic, eps, atol, rtol, what):
    numeric, forward, backward = objective.differences(eps)
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"{_caller(what)}: the {what} with respect to {label} has shape {analytic.shape}, "
                             f"expected {numeric.shape}", input_index=objective.i)
    bad = ~_close(analytic, numeric, atol, rtol)
    if not bad.any():
        return
    index = tuple(int(k) for k in np.argwhere(bad)[0])
    a, n, f, b = (float(arr[index]) for arr in (analytic, numeric, forward, backward))
    where = dict(input_index=objective.i, element=index, analytic=a, numeric=n)
    count = f"{int(bad.sum())} of {bad.size} elements disagree"
    if _is_kink(a, n, f, b, atol, rtol) or not _close(objective.central(index, eps / 10), n, atol, rtol):
        subject = "the function" if what == "gradient" else "the first derivative"
        raise NonDifferentiableError(
            f"{_caller(what)}: {subject} is not differentiable at {label}, element {index}, so its {what} "
            f"cannot be checked there: one-sided differences forward {f:.6g}, backward {b:.6g} "
            f"(analytic {a:.6g}, central {n:.6g}; {count}). Check at points away from kinks "
            "(minigan.testing.strategies.arrays(avoid=...)).", forward=f, backward=b, **where)
    raise GradcheckError(f"{_caller(what)}: wrong {what} with respect to {label} at element {index}: "
                         f"analytic {a:.6g}, numeric {n:.6g} (difference {abs(a - n):.3g}; {count}).", **where)


def _close(analytic, numeric, atol, rtol):
    return np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric)


def _is_kink(analytic, numeric, forward, backward, atol, rtol) -> bool:
    r"""Whether one-sided slopes that differ explain the mismatch better than a wrong gradient.

    For smooth :math:`L` the slopes differ only by curvature,
    :math:`\epsilon \, \partial^2 L`, which is tiny; a kink makes them jump.
    Any subgradient (a value between the slopes) lies within half the jump of
    the central difference, so a mismatch no larger than the jump is the
    kink's doing; a larger one is a wrong gradient even at a kink. (A jump in
    :math:`L` itself, as in the derivative of abs at 0, shows instead as a
    central difference that grows when the step shrinks, checked beside this.)
    """
    jump = abs(forward - backward)
    return jump > atol + rtol * max(abs(forward), abs(backward)) and jump >= abs(analytic - numeric)


def _caller(what) -> str:
    return "gradcheck" if what == "gradient" else "gradgradcheck"


# -- inputs and outputs --------------------------------------------------------------------------

def _as_list(inputs) -> list:
    if isinstance(inputs, Tensor):
        return [inputs]
    if isinstance(inputs, Sequence) and not isinstance(inputs, str):
        return list(inputs)
    raise TypeError(f"gradcheck: inputs must be a Tensor or a sequence, got {type(inputs).__name__}")


def _is_checked(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad and x.dtype.kind == "f"


def _checked_copy(x: Tensor) -> Tensor:
    return Tensor(x.array.astype(np.float64, copy=True), requires_grad=True)


def _outputs_of(result) -> list[Tensor]:
    outputs = [result] if isinstance(result, Tensor) else result
    if not isinstance(outputs, (tuple, list)) or not all(isinstance(y, Tensor) for y in outputs):
        raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got {type(result).__name__}")
    return list(outputs)


def _floating(outputs) -> list[Tensor]:
    """The outputs that have gradients at all (integer and boolean outputs do not)."""
    return [y for y in outputs if y.dtype.kind == "f"]


def _upstream(outputs, grad_outputs, seed) -> list[Tensor]:
    """One float64 upstream gradient per output: ``grad_outputs``, or standard normal draws."""
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        return [Tensor(to_device(rng.standard_normal(y.shape), y.device)) for y in outputs]
    given = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    if len(given) != len(outputs):
        raise ValueError(f"gradcheck: {len(given)} grad_outputs for {len(outputs)} floating outputs")
    vs = []
    for k, (y, v) in enumerate(zip(outputs, given)):
        v = Tensor(v.array if isinstance(v, Tensor) else to_device(np.asarray(v), y.device))
        if v.shape != y.shape:
            raise ValueError(f"gradcheck: grad_outputs[{k}] has shape {v.shape}, output {k} has shape {y.shape}")
        vs.append(Tensor(v.array.astype(np.float64)))
    return vs


def _zeros_like(x: Tensor) -> Tensor:
    """The gradient of an unused input: zeros that still behave as a float64 output."""
    return Tensor(x.xp.zeros(x.shape, dtype=np.float64))
