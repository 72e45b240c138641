"""The profiler: self time per primitive (forward and backward apart), per layer and per phase."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.autograd import profiler
from minigan.bench import run_profiles


def _net(depth: int) -> nn.Sequential:
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(4, 4), nn.Tanh()]
    return nn.Sequential(*layers)


@settings(deadline=None, max_examples=10)
@given(depth=st.integers(1, 4), steps=st.integers(1, 3))
def test_every_call_is_counted_under_its_primitive_layer_and_pass(depth, steps):
    net = _net(depth)
    x = mg.randn(5, 4)
    with profiler.profile({"G": net}) as prof:
        for _ in range(steps):
            with profiler.phase("forward"):
                y = net(x)
            with profiler.phase("backward"):
                y.sum().backward()
    calls = {key: n for key, (_, n) in prof.primitives.items()}
    assert calls[("affine", "forward")] == calls[("tanh", "forward")] == depth * steps
    assert calls[("affine", "backward")] == calls[("tanh", "backward")] == depth * steps
    assert all(t >= 0 for t, _ in prof.primitives.values()) and all(t >= 0 for t in prof.layers.values())
    names = {layer for layer, _ in prof.layers}
    assert {f"G.{2 * i} (Linear)" for i in range(depth)} | {f"G.{2 * i + 1} (Tanh)" for i in range(depth)} <= names
    assert {kind for _, kind in prof.layers} == {"forward", "backward"}
    in_primitives = sum(t for t, _ in prof.primitives.values())
    assert in_primitives <= sum(prof.phases.values())  # self times add up to no more than the wall time
    table = prof.table(steps)
    assert "| affine |" in table and "| forward |" in table and "G.0 (Linear)" in table


def test_calls_made_by_a_vjp_count_as_backward_work_of_its_layer():
    net = nn.Sequential(nn.Linear(3, 2))
    with profiler.profile({"D": net}) as prof:
        net(mg.randn(4, 3)).sum().backward()
    backward = {name for name, kind in prof.primitives if kind == "backward"}
    assert "matmul" in backward  # affine's VJP is two matrix products
    assert ("matmul", "forward") not in prof.primitives
    assert prof.layers[("D.0 (Linear)", "backward")] > 0


def test_closed_profiler_records_nothing_and_phases_are_no_ops():
    with profiler.phase("nothing open"):
        y = mg.randn(3, requires_grad=True).tanh()
    assert profiler.active is None and y.grad_fn.layer is None


def test_profiles_do_not_nest_and_close_after_an_error():
    with profiler.profile(), pytest.raises(RuntimeError, match="do not nest"), profiler.profile():
        pass
    assert profiler.active is None
    with pytest.raises(ValueError), profiler.profile() as prof:
        mg.ones(2, 3) @ mg.ones(2, 3)  # a primitive that raises inside the profile
    assert profiler.active is None and prof._frames == []


def test_the_gradients_are_the_same_with_the_profiler_on():
    net = _net(2)
    x = mg.randn(5, 4)
    net(x).square().sum().backward()
    plain = [p.grad.numpy().copy() for p in net.parameters()]
    net.zero_grad()
    with profiler.profile({"G": net}):
        net(x).square().sum().backward()
    for a, p in zip(plain, net.parameters()):
        np.testing.assert_array_equal(a, p.grad.numpy())


def test_bench_profile_reports_phases_primitives_and_layers():
    text = run_profiles(["mlp"], [8], steps=1, with_torch=False)
    for expected in ["## mlp, batch 8", "| D backward |", "| affine |", "| D.0 (Linear) |"]:
        assert expected in text
