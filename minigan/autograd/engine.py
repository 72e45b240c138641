r"""Reverse-mode differentiation: walk the recorded graph from the outputs back.

Given outputs :math:`y_k` with upstream gradients :math:`\bar y_k`, every
tensor :math:`t` receives :math:`\bar t = \sum_{\text{consumers } c} \mathrm{VJP}_c(\bar c)`.
The graph is visited once in reverse topological order, so a tensor's
gradient is complete (all consumers have contributed) before its own node
passes it on.

With ``create_graph=False`` the VJPs run under ``no_grad``: the gradients are
plain values. With ``create_graph=True`` they run recorded, so the gradients
are themselves differentiable functions of the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from minigan.autograd.grad_mode import is_grad_enabled, set_grad_enabled
from minigan.autograd.tensor import Tensor

__all__ = ["backward", "grad"]


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf that requires grad.

    As ``torch.autograd.backward``: a non-scalar output needs an explicit
    ``grad_tensors``; the graph is freed unless ``retain_graph`` (which
    defaults to ``create_graph``).
    """
    roots, seeds = _roots_and_seeds(tensors, grad_tensors, "backward")
    retain = create_graph if retain_graph is None else retain_graph
    taken = {id(_owner(g.array)) for g in seeds}  # memory that is not ours to give: the caller holds it

    def to_leaf(leaf: Tensor, g: Tensor) -> None:
        if leaf.grad is not None:
            leaf.grad = leaf.grad + g
            return
        # the leaf must own its gradient: a copy if it is a read-only broadcast or shares memory already given out
        if not create_graph and (not getattr(g.array.flags, "writeable", True) or id(_owner(g.array)) in taken):
            g = Tensor(g.array.copy())
        taken.add(id(_owner(g.array)))
        leaf.grad = g

    _propagate(roots, seeds, retain, create_graph, targets=None, on_leaf=to_leaf)


def tensor_backward(self: Tensor, gradient=None, retain_graph: bool | None = None,
                    create_graph: bool = False) -> None:
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see :func:`minigan.autograd.backward`)."""
    backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)


Tensor.backward = tensor_backward  # attached here, so that tensor.py does not import the engine built on it


def _owner(array):
    """The array that owns the memory of ``array`` (itself, or the base of a view)."""
    return array if array.base is None else array.base


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    r"""The gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    As ``torch.autograd.grad``: returns a tuple with one entry per input;
    ``create_graph=True`` makes them differentiable (for penalties such as
    :math:`\lambda(\lVert\nabla_x D(x)\rVert - 1)^2`). An input the outputs
    do not depend on is an error, or None with ``allow_unused=True``, or zeros
    with ``materialize_grads=True``. ``only_inputs`` is accepted and ignored,
    as PyTorch has done since it was deprecated.
    """
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused=True or left out")
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient")
    roots, seeds = _roots_and_seeds(outputs, grad_outputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    found: dict[int, Tensor] = {}

    def capture(t: Tensor, g: Tensor) -> None:
        found[id(t)] = found[id(t)] + g if id(t) in found else g

    _propagate(roots, seeds, retain, create_graph, targets={id(t) for t in inputs}, on_leaf=capture)
    result = tuple(found.get(id(t)) for t in inputs)
    if materialize_grads:
        result = tuple(Tensor(t.xp.zeros_like(t.array)) if g is None else g for t, g in zip(inputs, result))
    if not allow_unused:
        for i, g in enumerate(result):
            if g is None:
                raise RuntimeError(
                    f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
    return result


def _roots_and_seeds(tensors, grads, caller: str):
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grads is None or isinstance(grads, Tensor) or not isinstance(grads, Sequence):
        grads = [grads] * len(roots) if grads is None else [grads]
    if len(grads) != len(roots):
        raise ValueError(f"{caller}: got {len(grads)} gradients for {len(roots)} outputs")
    seeds = []
    for i, (root, g) in enumerate(zip(roots, grads)):
        if not root.requires_grad:
            raise RuntimeError(
                f"{caller}: output {i} does not require grad and has no graph "
                "(was it computed under no_grad, or from tensors without requires_grad=True?)"
            )
        if g is None:
            if root.array.size != 1:
                raise RuntimeError(
                    f"{caller}: a gradient can only be created implicitly for a scalar output, got "
                    f"shape {root.shape}; pass the upstream gradient explicitly (gradient=...)"
                )
            g = Tensor(root.xp.ones_like(root.array))
        else:
            g = g if isinstance(g, Tensor) else Tensor(root.xp.asarray(g, dtype=root.dtype))
            if g.shape != root.shape:
                raise RuntimeError(f"{caller}: gradient of shape {g.shape} for an output of shape {root.shape}")
        seeds.append(g)
    return roots, seeds


def _topological_order(roots: list[Tensor]) -> list[Tensor]:
    """Every tensor that requires grad and leads to ``roots``, consumers before producers."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        t, expanded = stack.pop()
        if expanded:  # every input of t is already in order: post-order
            order.append(t)
            continue
        if id(t) in seen:  # marked when expanded, not when pushed, or a shared input could come too early
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t._node is not None:
            stack.extend((p, False) for p in t._node.inputs if p.requires_grad and id(p) not in seen)
    order.reverse()
    return order


def _reaching(order: list[Tensor], targets: set[int]) -> set[int]:
    """ids of the tensors in ``order`` from which a target can be reached, the targets included."""
    reach: set[int] = set()
    for t in reversed(order):  # producers before consumers
        node = t._node
        # a freed node no longer knows its inputs: it counts as reaching, so that its VJP raises instead of
        # the traversal stopping there with silent zeros
        if id(t) in targets or (node is not None and (node.freed or any(id(x) in reach for x in node.inputs))):
            reach.add(id(t))
    return reach


def _propagate(roots, seeds, retain_graph, create_graph, targets, on_leaf) -> None:
    grads: dict[int, Tensor] = {}
    for root, g in zip(roots, seeds):
        grads[id(root)] = grads[id(root)] + g if id(root) in grads else g
    order = _topological_order(roots)  # holds every tensor alive while ids are keys
    useful = None if targets is None else _reaching(order, targets)
    previous = is_grad_enabled()
    set_grad_enabled(create_graph)
    try:
        for t in order:
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if targets is None:
                if t._node is None:
                    on_leaf(t, g)
            elif id(t) in targets:
                on_leaf(t, g)
            node = t._node
            if node is None or (useful is not None and not node.freed
                                and not any(id(x) in useful for x in node.inputs)):
                continue  # a leaf, or nothing below this node is asked for
            input_grads = node.vjp(g)
            inputs = node.inputs
            if not retain_graph:  # as PyTorch frees saved tensors: what the node held can go now
                node.freed, node.inputs, node.kwargs = True, (), {}
            for x, gx in zip(inputs, input_grads):
                if gx is None or not x.requires_grad:
                    continue
                if gx.shape != x.shape:
                    raise RuntimeError(
                        f"the VJP of {node.primitive.name} returned a gradient of shape {gx.shape} "
                        f"for an input of shape {x.shape}"
                    )
                if gx.dtype != x.dtype:  # as torch: a float32 leaf gets a float32 gradient beside float64 data
                    gx = gx.to(x.dtype)
                grads[id(x)] = grads[id(x)] + gx if id(x) in grads else gx
    finally:
        set_grad_enabled(previous)
