"""Where minigan's time goes: self time per primitive (forward and backward apart), per layer and per phase.

::

    with mg.profiler.profile({"G": G, "D": D}) as prof:
        with mg.profiler.phase("D forward"):
            out = D(x)
        with mg.profiler.phase("D backward"):
            out.sum().backward()
    print(prof.table(steps=1))

A primitive's *self time* is its time less that of the primitives it called,
so the rows add up to the time spent in primitives. A call made by a VJP
(the matrix products of ``affine``'s VJP, say) is backward work: it counts
under its own name in the backward column, and with the VJP's layer. Forward
calls count with the innermost layer running them. Phases are wall time,
inclusive.

While no profile is open, each hook costs one module-attribute read.
"""

from __future__ import annotations

import contextlib
from time import perf_counter

__all__ = ["Profile", "profile", "phase", "active"]

active: Profile | None = None  # the open profile, read by the hooks in primitives, nodes and modules


class Profile:
    """Accumulated times, in seconds: ``primitives[(name, "forward" | "backward")] = [self time, calls]``,
    ``layers[(layer, "forward" | "backward")]`` and ``phases[name]``."""

    def __init__(self, modules: dict | None = None):
        self.primitives: dict[tuple[str, str], list] = {}
        self.layers: dict[tuple[str, str], float] = {}
        self.phases: dict[str, float] = {}
        self._names = {id(m): f"{prefix}.{name}".rstrip(".") + f" ({type(m).__name__})"
                       for prefix, network in (modules or {}).items() for name, m in network.named_modules()}
        self._frames: list[list[float]] = []  # per open primitive: [start, time spent in its children]
        self._layers: list[str] = []  # the layers whose forward is running, innermost last
        self._backward: list[str | None] = []  # the layers of the VJPs running, innermost last

    # -- hooks -----------------------------------------------------------------------------
    @property
    def layer(self) -> str | None:
        return self._layers[-1] if self._layers else None

    @contextlib.contextmanager
    def primitive(self, name: str, kind: str, layer: str | None):
        """Time one call: ``kind`` is "forward" for a primitive's forward, "backward" for a node's VJP."""
        if self._backward:  # called by a VJP: backward work, of the VJP's layer
            kind, layer = "backward", self._backward[-1]
        if kind == "backward":
            self._backward.append(layer)
        frame = [perf_counter(), 0.0]
        self._frames.append(frame)
        try:
            yield
        finally:
            self._frames.pop()
            if kind == "backward":
                self._backward.pop()
            elapsed = perf_counter() - frame[0]
            own = elapsed - frame[1]
            row = self.primitives.setdefault((name, kind), [0.0, 0])
            row[0] += own
            row[1] += 1
            if layer is not None:
                self.layers[(layer, kind)] = self.layers.get((layer, kind), 0.0) + own
            if self._frames:
                self._frames[-1][1] += elapsed

    @contextlib.contextmanager
    def module(self, module):
        self._layers.append(self._names.get(id(module), type(module).__name__))
        try:
            yield
        finally:
            self._layers.pop()

    # -- report ----------------------------------------------------------------------------
    def table(self, steps: int = 1, top: int = 25) -> str:
        """Markdown tables of phases, primitives and layers in milliseconds per step, largest first."""
        ms = 1e3 / steps
        in_primitives = sum(t for t, _ in self.primitives.values()) or 1.0
        lines = ["| phase | ms/step |", "|---|---|"]
        lines += [f"| {name} | {t * ms:.2f} |" for name, t in self.phases.items()]
        by_name: dict[str, dict] = {}
        for (name, kind), (t, calls) in self.primitives.items():
            row = by_name.setdefault(name, {"forward": 0.0, "backward": 0.0, "calls": 0})
            row[kind] += t
            row["calls"] += calls
        lines += ["", "| primitive | forward ms | backward ms | total ms | calls/step | share |",
                  "|---|---|---|---|---|---|"]
        for name, row in sorted(by_name.items(), key=lambda item: -(item[1]["forward"] + item[1]["backward"]))[:top]:
            total = row["forward"] + row["backward"]
            lines.append(f"| {name} | {row['forward'] * ms:.2f} | {row['backward'] * ms:.2f} | {total * ms:.2f} "
                         f"| {row['calls'] / steps:.1f} | {100 * total / in_primitives:.1f}% |")
        layers: dict[str, dict] = {}
        for (name, kind), t in self.layers.items():
            layers.setdefault(name, {"forward": 0.0, "backward": 0.0})[kind] += t
        lines += ["", "| layer | forward ms | backward ms | total ms |", "|---|---|---|---|"]
        for name, row in sorted(layers.items(), key=lambda item: -(item[1]["forward"] + item[1]["backward"]))[:top]:
            lines.append(f"| {name} | {row['forward'] * ms:.2f} | {row['backward'] * ms:.2f} "
                         f"| {(row['forward'] + row['backward']) * ms:.2f} |")
        return "\n".join(lines)


@contextlib.contextmanager
def profile(modules: dict | None = None):
    """Open a :class:`Profile` (``modules`` names the networks, for the layer table) and yield it."""
    global active
    if active is not None:
        raise RuntimeError("a profile is already open; profiles do not nest")
    active = Profile(modules)
    try:
        yield active
    finally:
        active = None


@contextlib.contextmanager
def phase(name: str):
    """Charge the wall time of the block to phase ``name`` of the open profile; nothing when none is open."""
    prof = active
    if prof is None:
        yield
        return
    start = perf_counter()
    try:
        yield
    finally:
        prof.phases[name] = prof.phases.get(name, 0.0) + perf_counter() - start
