"""Optimisers: each update rule against an independent NumPy transcription and against torch.optim;
parameter groups, zero_grad, state-dict round trips, validation; EMA of weights."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import nn, optim
from minigan.nn import Parameter

STEPS = 5
few = settings(max_examples=20)

# -- the problem: two quadratics, one with a vector parameter, one with a matrix -------------------------

_rng = np.random.default_rng(0)
PROBLEMS = [(_rng.standard_normal((3, 4)), _rng.standard_normal(3), _rng.standard_normal(4)),
            (_rng.standard_normal((3, 4)), _rng.standard_normal((3, 2)), _rng.standard_normal((4, 2)))]


def fresh_params():
    return [Parameter(p0.copy()) for _, _, p0 in PROBLEMS]


def backward_quadratic(params):
    """Gradients of sum_k ||A_k p_k - b_k||^2 into each p_k.grad, by minigan's autograd."""
    loss = sum(((mg.tensor(A) @ p - mg.tensor(b)) ** 2).sum() for (A, b, _), p in zip(PROBLEMS, params))
    loss.backward()


def quadratic_grad(k, p):
    A, b, _ = PROBLEMS[k]
    return 2 * A.T @ (A @ p - b)


def train(optimizer, params, steps=STEPS):
    for _ in range(steps):
        optimizer.zero_grad()
        backward_quadratic(params)
        optimizer.step()
    return [p.numpy().copy() for p in params]


# -- independent transcriptions of the update rules (functional, float64) ----------------------------------

def sgd_reference(p, g, s, t, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    g = (-g if maximize else g) + weight_decay * p
    if momentum != 0:
        s["b"] = g if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def adam_reference(p, g, s, t, *, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=False):
    (b1, b2), g = betas, (-g if maximize else g)
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g**2
    s["v_max"] = np.maximum(s.get("v_max", 0), s["v"])
    m_hat = s["m"] / (1 - b1**t)
    v_hat = (s["v_max"] if amsgrad else s["v"]) / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw_reference(p, g, s, t, **hp):
    return adam_reference(p, g, s, t, decoupled=True, **hp)


def rmsprop_reference(p, g, s, t, *, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    g = (-g if maximize else g) + weight_decay * p
    s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g**2
    s["g_avg"] = alpha * s.get("g_avg", 0) + (1 - alpha) * g
    d = np.sqrt(s["v"] - s["g_avg"] ** 2 if centered else s["v"]) + eps
    if momentum > 0:
        s["b"] = momentum * s.get("b", 0) + g / d
        return p - lr * s["b"]
    return p - lr * g / d


def reference_train(update, hp, steps=STEPS):
    params, states = [p0.copy() for _, _, p0 in PROBLEMS], [{} for _ in PROBLEMS]
    for t in range(1, steps + 1):
        params = [update(p, quadratic_grad(k, p), states[k], t, **hp) for k, p in enumerate(params)]
    return params


# -- hyper-parameters drawn by hypothesis ------------------------------------------------------------------

rates = st.floats(1e-4, 0.05)
decays = st.sampled_from([0.0]) | st.floats(1e-3, 0.1)


@st.composite
def sgd_hparams(draw):
    nesterov = draw(st.booleans())
    return dict(lr=draw(rates), momentum=draw(st.floats(0.1, 0.95) if nesterov else st.sampled_from([0.0, 0.5, 0.9])),
                dampening=0.0 if nesterov else draw(st.floats(0.0, 0.9)), weight_decay=draw(decays),
                nesterov=nesterov, maximize=draw(st.booleans()))


adam_hparams = st.fixed_dictionaries(dict(
    lr=rates, betas=st.tuples(st.floats(0.0, 0.95), st.floats(0.5, 0.9999)), eps=st.floats(1e-10, 1e-3),
    weight_decay=decays, amsgrad=st.booleans(), maximize=st.booleans()))

rmsprop_hparams = st.fixed_dictionaries(dict(
    lr=rates, alpha=st.floats(0.5, 0.999), eps=st.floats(1e-10, 1e-3), weight_decay=decays,
    momentum=st.sampled_from([0.0]) | st.floats(0.1, 0.95), centered=st.booleans(), maximize=st.booleans()))

CASES = {
    "SGD": (optim.SGD, sgd_hparams(), sgd_reference),
    "Adam": (optim.Adam, adam_hparams, adam_reference),
    "AdamW": (optim.AdamW, adam_hparams, adamw_reference),
    "RMSprop": (optim.RMSprop, rmsprop_hparams, rmsprop_reference),
}


@few
@pytest.mark.parametrize("name", CASES)
@given(data=st.data())
def test_update_rule_matches_numpy_transcription(name, data):
    cls, hparams, reference = CASES[name]
    hp = data.draw(hparams, label="hyper-parameters")
    params = fresh_params()
    ours = train(cls(params, **hp), params)
    for got, expected in zip(ours, reference_train(reference, hp)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@few
@pytest.mark.parametrize("name", CASES)
@given(data=st.data())
def test_update_rule_matches_torch(name, data):
    torch = pytest.importorskip("torch")
    cls, hparams, _ = CASES[name]
    hp = data.draw(hparams, label="hyper-parameters")
    params = fresh_params()
    ours = train(cls(params, **hp), params)
    theirs = [torch.tensor(p0, requires_grad=True) for _, _, p0 in PROBLEMS]
    opt = getattr(torch.optim, name)(theirs, **hp)
    for _ in range(STEPS):
        opt.zero_grad()
        sum(((torch.tensor(A) @ p - torch.tensor(b)) ** 2).sum() for (A, b, _), p in zip(PROBLEMS, theirs)).backward()
        opt.step()
    for got, p in zip(ours, theirs):
        np.testing.assert_allclose(got, p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_defaults_match_torch():
    p = fresh_params()
    assert optim.SGD(p).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                                         maximize=False)
    assert optim.Adam(p).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                                          maximize=False, decoupled_weight_decay=False)
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    assert optim.RMSprop(p).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                                             centered=False, maximize=False)


# -- the Optimizer machinery -----------------------------------------------------------------------------

def test_each_group_uses_its_own_learning_rate():
    a, b = fresh_params()
    opt = optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b]}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    backward_quadratic([a, b])
    opt.step()
    np.testing.assert_allclose(a.numpy(), PROBLEMS[0][2] - 0.1 * quadratic_grad(0, PROBLEMS[0][2]), rtol=1e-14)
    np.testing.assert_allclose(b.numpy(), PROBLEMS[1][2] - 0.01 * quadratic_grad(1, PROBLEMS[1][2]), rtol=1e-14)


def test_add_param_group_fills_defaults_and_refuses_duplicates():
    a, b = fresh_params()
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "betas": (0.5, 0.9)})
    assert opt.param_groups[1]["params"] == [b]
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.5, 0.9)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(a)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    params = fresh_params()
    opt = optim.SGD(params[:1] + [Parameter(np.ones(2))])
    backward_quadratic(params)
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert params[0].grad is None
    else:
        assert params[0].grad.shape == params[0].shape and not params[0].grad.numpy().any()
    assert opt.param_groups[0]["params"][1].grad is None  # a missing gradient stays missing
    assert params[1].grad is not None  # not in this optimiser: untouched


@pytest.mark.parametrize("name", CASES)
def test_parameters_without_gradient_are_skipped(name):
    cls = CASES[name][0]
    used, unused = Parameter(np.ones(3)), Parameter(np.full(2, 5.0))
    opt = cls([used, unused], lr=0.1, weight_decay=0.1)
    (used**2).sum().backward()
    opt.step()
    assert not np.allclose(used.numpy(), 1.0)
    np.testing.assert_array_equal(unused.numpy(), 5.0)
    assert unused not in opt.state


def test_step_updates_the_arrays_in_place_without_recording():
    (p,) = fresh_params()[:1]
    array = p.array
    opt = optim.Adam([p], lr=0.1)
    backward_quadratic([p, Parameter(PROBLEMS[1][2])])
    opt.step()
    assert p.array is array and p.is_leaf and p.requires_grad
    assert opt.step(closure=lambda: 7.0) == 7.0


HPARAMS = {"SGD": dict(lr=0.05, momentum=0.9, weight_decay=0.01), "Adam": dict(lr=0.05, amsgrad=True),
           "AdamW": dict(lr=0.05), "RMSprop": dict(lr=0.01, momentum=0.5, centered=True)}


def grouped(cls, params, **hp):
    return cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.02}], **hp)


@pytest.mark.parametrize("name", CASES)
def test_state_dict_round_trip(name):
    cls, hp = CASES[name][0], HPARAMS[name]
    params = fresh_params()
    opt = grouped(cls, params, **hp)
    train(opt, params, steps=3)
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert set(saved["state"]) == {0, 1} and saved["param_groups"][1]["lr"] == 0.02

    copies = [Parameter(p.numpy().copy()) for p in params]
    restored = grouped(cls, copies, lr=0.5)  # the saved hyper-parameters replace these
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == hp["lr"] and restored.param_groups[0]["params"] == copies[:1]
    for p, q in zip(params, copies):  # loading copied the arrays
        for key, value in opt.state[p].items():
            if isinstance(value, mg.Tensor):
                assert not np.shares_memory(restored.state[q][key].array, value.array)
    for a, b in zip(train(opt, params), train(restored, copies)):
        np.testing.assert_array_equal(a, b)


def test_load_state_dict_checks_groups_and_sizes():
    params = fresh_params()
    saved = optim.SGD(params, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match=r"different number of parameter groups \(1\) than the optimizer \(2\)"):
        grouped(optim.SGD, fresh_params()).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters saved, 1 here"):
        optim.SGD(fresh_params()[:1]).load_state_dict(saved)
    opt = optim.SGD([params[1], params[0]], momentum=0.9)  # same count, shapes swapped
    train(opt, [params[0], params[1]], steps=1)
    with pytest.raises(ValueError, match="'momentum_buffer' has shape"):
        optim.SGD(params, momentum=0.9).load_state_dict(opt.state_dict())


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda p: optim.Adam(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.Adam(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.AdamW(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1"),
    (lambda p: optim.RMSprop(p, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.Adam([{"params": p, "lr": -2}]), "Invalid learning rate: -2"),
])
def test_invalid_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make(fresh_params())


def test_float32_parameters_stay_float32():
    p = Parameter(np.ones(3, np.float32))
    opt = optim.Adam([p], lr=0.1)
    (p**2).sum().backward()
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32


@pytest.mark.gpu
def test_cupy_parameters_match_numpy():
    cupy = pytest.importorskip("cupy")
    if cupy.cuda.runtime.getDeviceCount() == 0:
        pytest.skip("no CUDA device")
    for name, (cls, _, _) in CASES.items():
        cpu, gpu = fresh_params(), [Parameter(p.to("cuda")) for p in fresh_params()]
        opt_cpu, opt_gpu = cls(cpu, **HPARAMS[name]), cls(gpu, **HPARAMS[name])
        for p_cpu, p_gpu in zip(cpu, gpu):
            p_cpu.grad = mg.tensor(np.cos(np.arange(p_cpu.numel())).reshape(p_cpu.shape))
            p_gpu.grad = p_cpu.grad.to("cuda")
        opt_cpu.step()
        opt_gpu.step()
        for a, b in zip(cpu, gpu):
            assert b.device == "cuda"
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, err_msg=name)
        opt_cpu.load_state_dict(opt_gpu.state_dict())  # state moves to each parameter's device
        assert all(t.device == "cpu" for s in opt_cpu.state.values() for t in s.values() if isinstance(t, mg.Tensor))
    model = small_model().to("cuda")
    ema = optim.EMA(model, decay=0.5)
    ema.update()
    ema.copy_to(small_model())


# -- EMA ---------------------------------------------------------------------------------------------------

def small_model():
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).double()


def test_ema_shadow_follows_decay_power():
    model, decay, n = small_model(), 0.9, 7
    start = {name: p.numpy().copy() for name, p in model.named_parameters()}
    ema = optim.EMA(model, decay=decay)
    for p in model.parameters():
        p.data[...] = 3.0
    for _ in range(n):
        ema.update()
    for name, shadow in ema.shadow.items():  # shadow_n = c + decay^n (shadow_0 - c)
        np.testing.assert_allclose(shadow.numpy(), 3.0 + decay**n * (start[name] - 3.0), rtol=1e-13)


def test_ema_copy_to_writes_averages_and_buffers():
    model, sampler = small_model(), small_model()
    ema = optim.EMA(model, decay=0.5)
    for p in model.parameters():
        p.data = p.data + 1.0
    model[1].running_mean.data[...] = 7.0
    ema.update(model)
    ema.copy_to(sampler)
    for (name, p), (_, q) in zip(model.named_parameters(), sampler.named_parameters()):
        np.testing.assert_allclose(q.numpy(), p.numpy() - 0.5, rtol=1e-14, err_msg=name)
    np.testing.assert_array_equal(sampler[1].running_mean.numpy(), 7.0)
    sampler.weight_extra = Parameter(np.ones(1))
    with pytest.raises(ValueError, match=r"unexpected \['weight_extra'\]"):
        ema.copy_to(sampler)


def test_ema_state_dict_round_trip_and_validation():
    model = small_model()
    ema = optim.EMA(model, decay=0.8)
    for _ in range(3):
        for p in model.parameters():
            p.data = p.data * 1.5
        ema.update()
    saved = ema.state_dict()
    other = optim.EMA(small_model(), decay=0.1)
    other.load_state_dict(saved)
    assert other.decay == 0.8
    for t in saved["shadow"].values():  # loaded as copies
        t.data[...] = np.nan
    ema.update(model)
    other.update(model)
    for name in ema.shadow:
        np.testing.assert_array_equal(other.shadow[name].numpy(), ema.shadow[name].numpy())
    with pytest.raises(ValueError, match="decay must be in"):
        optim.EMA(model, decay=1.5)
    with pytest.raises(ValueError, match="missing"):
        optim.EMA(nn.Linear(3, 2)).load_state_dict(saved)


def test_ema_can_keep_its_average_in_a_copy_of_the_module():
    import copy

    model = small_model()
    average = copy.deepcopy(model)
    for p in average.parameters():
        p.data[...] = np.nan  # overwritten: the average starts at the model's weights
    ema, plain = optim.EMA(model, decay=0.7, average=average), optim.EMA(model, decay=0.7)
    for _ in range(4):
        for p in model.parameters():
            p.data = p.data * 1.3 + 0.1
        model[1].running_var.data = model[1].running_var.data + 1.0
        ema.update()
        plain.update()
    sampled = small_model()
    plain.copy_to(sampled)
    for (name, a), (_, b) in zip(average.state_dict().items(), sampled.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)  # no copy_to needed
    restored_into = copy.deepcopy(model)
    restored = optim.EMA(model, decay=0.1, average=restored_into)
    restored.load_state_dict(ema.state_dict())  # in place: the module holds the restored average
    for (name, a), (_, b) in zip(average.state_dict().items(), restored_into.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)
