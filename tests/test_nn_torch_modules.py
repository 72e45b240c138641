"""PyTorch's loss, softmax and channel-dropout modules: gradients in float64, values and gradients against torch."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.testing import gradcheck, strategies

FEW = settings(max_examples=10, deadline=None)
REDUCTIONS = st.sampled_from(["none", "mean", "sum"])


def rng(seed):
    return np.random.default_rng(seed)


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


@st.composite
def class_problems(draw, spatial=True):
    """Logits ``(N, C, *d)``, integer targets with some entries ignored, an optional class weight."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    dims = tuple(draw(st.lists(st.integers(1, 3), max_size=2 if spatial else 0)))
    seed = draw(st.integers(0, 2**16))
    r = rng(seed)
    logits = r.standard_normal((n, c, *dims))
    ignore_index = draw(st.sampled_from([-100, 0, c - 1]))
    target = r.integers(0, c, size=(n, *dims))
    ignored = r.random(target.shape) < 0.3
    target[ignored] = ignore_index
    first = (0,) * target.ndim
    target[first] = 1 if ignore_index == 0 else 0       # at least one counted target: 'mean' is never 0/0
    weight = r.uniform(0.2, 2.0, size=c) if draw(st.booleans()) else None
    return {"logits": logits, "target": target, "ignore_index": ignore_index, "weight": weight, "seed": seed}


def tensor_or_none(a):
    return None if a is None else mg.tensor(a)


# -- gradients in float64 ---------------------------------------------------------


@FEW
@given(shape=strategies.shapes(min_dims=1, max_dims=3, max_side=4), reduction=REDUCTIONS, data=st.data())
def test_mse_and_l1_gradients(shape, reduction, data):
    x = data.draw(strategies.arrays(shape))
    gap = data.draw(strategies.arrays(shape, avoid=(0.0,), margin=0.05))    # |x - t| away from L1's kink
    gradcheck(nn.MSELoss(reduction=reduction), [leaf(x), leaf(x - gap)])
    gradcheck(nn.L1Loss(reduction=reduction), [leaf(x), leaf(x - gap)])


@FEW
@given(shape=strategies.shapes(min_dims=1, max_dims=3, max_side=4), reduction=REDUCTIONS, weighted=st.booleans(),
       seed=st.integers(0, 2**16))
def test_bce_gradients(shape, reduction, weighted, seed):
    r = rng(seed)
    p, t = r.uniform(0.05, 0.95, shape), r.uniform(0, 1, shape)
    weight = mg.tensor(r.uniform(0.5, 2.0, shape[-1:])) if weighted else None
    gradcheck(nn.BCELoss(weight=weight, reduction=reduction), [leaf(p), leaf(t)])


@FEW
@given(shape=strategies.shapes(min_dims=1, max_dims=3, max_side=4), reduction=REDUCTIONS, weighted=st.booleans(),
       pos_weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_bce_with_logits_gradients(shape, reduction, weighted, pos_weighted, seed):
    r = rng(seed)
    x, t = 3 * r.standard_normal(shape), r.uniform(0, 1, shape)
    weight = mg.tensor(r.uniform(0.5, 2.0, shape[-1:])) if weighted else None
    pos_weight = mg.tensor(r.uniform(0.5, 3.0, shape[-1:])) if pos_weighted else None
    loss = nn.BCEWithLogitsLoss(weight=weight, reduction=reduction, pos_weight=pos_weight)
    gradcheck(loss, [leaf(x), leaf(t)])


@FEW
@given(problem=class_problems(), reduction=REDUCTIONS)
def test_nll_loss_gradients(problem, reduction):
    loss = nn.NLLLoss(weight=tensor_or_none(problem["weight"]), ignore_index=problem["ignore_index"],
                      reduction=reduction)
    gradcheck(lambda x: loss(x, problem["target"]), [leaf(problem["logits"])])


@FEW
@given(problem=class_problems(), reduction=REDUCTIONS, label_smoothing=st.sampled_from([0.0, 0.1, 0.5]))
def test_cross_entropy_gradients(problem, reduction, label_smoothing):
    loss = nn.CrossEntropyLoss(weight=tensor_or_none(problem["weight"]), ignore_index=problem["ignore_index"],
                               reduction=reduction, label_smoothing=label_smoothing)
    gradcheck(lambda x: loss(x, problem["target"]), [leaf(problem["logits"])])


@FEW
@given(problem=class_problems(), reduction=REDUCTIONS, label_smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_probability_target_gradients(problem, reduction, label_smoothing):
    x = problem["logits"]
    probs = np.exp(rng(problem["seed"]).standard_normal(x.shape))
    probs /= probs.sum(1, keepdims=True)
    loss = nn.CrossEntropyLoss(weight=tensor_or_none(problem["weight"]), reduction=reduction,
                               label_smoothing=label_smoothing)
    gradcheck(loss, [leaf(x), leaf(probs)])


@FEW
@given(shape=strategies.shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_softmax_and_log_softmax_gradients(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(data.draw(strategies.arrays(shape)))
    gradcheck(nn.Softmax(dim=dim), [x])
    gradcheck(nn.LogSoftmax(dim=dim), [x])


@FEW
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
       p=st.sampled_from([0.2, 0.5, 0.8]), seed=st.integers(0, 2**16))
def test_dropout2d_gradients(shape, p, seed):
    layer = nn.Dropout2d(p)

    def fn(x):
        mg.manual_seed(seed)                          # the same channel mask on every evaluation
        return layer(x)

    gradcheck(fn, [leaf(rng(seed).standard_normal(shape))])


# -- Dropout2d: the channel pattern -----------------------------------------------


@pytest.mark.parametrize("p", [0.25, 0.5, 0.75])
def test_dropout2d_drops_whole_channels_and_scales_survivors(p):
    x = rng(0).uniform(1, 2, (16, 32, 3, 4))             # no zeros in the input
    mg.manual_seed(3)
    y = nn.Dropout2d(p)(mg.tensor(x)).numpy()
    dropped = (y == 0).all(axis=(2, 3))
    kept = ~dropped
    assert ((y == 0).any(axis=(2, 3)) == dropped).all(), "a channel is zeroed in part"
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-6)
    n = dropped.size                                      # 512 independent Bernoulli(p) draws
    assert abs(dropped.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_dropout2d_gradient_is_the_mask():
    x = leaf(rng(1).standard_normal((4, 6, 2, 2)))
    mg.manual_seed(0)
    y = nn.Dropout2d(0.5)(x)
    g = rng(2).standard_normal(y.shape)
    y.backward(mg.tensor(g))
    scale = y.numpy() / x.numpy()                         # 0 or 2, constant per channel
    np.testing.assert_allclose(x.grad.numpy(), g * scale, rtol=1e-12)
    assert set(np.unique(np.round(scale, 12))) <= {0.0, 2.0}


def test_dropout2d_eval_identity_and_edge_probabilities():
    x = mg.tensor(rng(0).standard_normal((2, 3, 4, 4)))
    layer = nn.Dropout2d(0.9).eval()
    assert layer(x) is x
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    assert not F.dropout2d(x, 1.0).numpy().any()
    assert nn.Dropout2d(inplace=True).p == 0.5


def test_dropout2d_three_dims_and_errors():
    x = mg.tensor(rng(0).uniform(1, 2, (8, 16, 5)))      # (N, C, L): whole rows dropped
    mg.manual_seed(1)
    y = F.dropout2d(x, 0.5).numpy()
    assert ((y == 0).any(axis=2) == (y == 0).all(axis=2)).all()
    with pytest.raises(ValueError, match="dropout2d: expected a 4-D"):
        F.dropout2d(mg.zeros(2, 3), 0.5)
    with pytest.raises(ValueError, match="Dropout2d: probability"):
        nn.Dropout2d(1.5)


def test_dropout2d_seeded_generator_reproduces():
    x = mg.tensor(rng(0).standard_normal((3, 8, 2, 2)))
    a = F.dropout2d(x, 0.5, generator=mg.Generator(7)).numpy()
    b = F.dropout2d(x, 0.5, generator=mg.Generator(7)).numpy()
    assert np.array_equal(a, b)


# -- known answers and errors -----------------------------------------------------


def test_losses_known_values():
    x, t = mg.tensor([[1.0, 2.0], [3.0, 5.0]]), mg.tensor([[0.0, 2.0], [1.0, 1.0]])
    assert nn.MSELoss()(x, t).item() == pytest.approx((1 + 0 + 4 + 16) / 4)
    assert nn.L1Loss(reduction="sum")(x, t).item() == pytest.approx(1 + 0 + 2 + 4)
    logits = mg.tensor(np.zeros((3, 4)))                # uniform: every loss is log 4
    assert nn.CrossEntropyLoss()(logits, np.array([0, 1, 3])).item() == pytest.approx(np.log(4))
    assert nn.NLLLoss(reduction="sum")(logits, np.array([0, 1, 3])).item() == 0.0
    with np.errstate(invalid="ignore"):
        everything_ignored = nn.CrossEntropyLoss(ignore_index=0)(logits, np.array([0, 0, 0]))
    assert np.isnan(everything_ignored.item())           # 0/0, as torch


def test_loss_errors_name_the_problem():
    with pytest.raises(ValueError, match="MSELoss: reduction must be"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(NotImplementedError, match="size_average and reduce are deprecated"):
        nn.CrossEntropyLoss(size_average=False)
    with pytest.raises(NotImplementedError, match="size_average and reduce"):
        nn.L1Loss(None, False)
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    logits = mg.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"nll_loss: target values must lie in \[0, 3\)"):
        nn.NLLLoss()(logits, np.array([0, 3]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="needs a target of shape"):
        nn.CrossEntropyLoss()(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        nn.CrossEntropyLoss(weight=mg.ones(4))(logits, np.array([0, 1]))


def test_modules_register_weights_as_buffers_and_repr():
    loss = nn.CrossEntropyLoss(weight=mg.ones(3), ignore_index=2, label_smoothing=0.1)
    assert list(loss.state_dict()) == ["weight"]
    assert "ignore_index=2" in repr(loss) and "label_smoothing=0.1" in repr(loss)
    assert list(nn.BCEWithLogitsLoss(pos_weight=mg.ones(2)).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []


def test_softmax_implicit_dim_warns_like_torch():
    x = mg.tensor(rng(0).standard_normal((2, 3, 4)))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.numpy().sum(0), 1.0)      # 3-D: dim 0, as torch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LogSoftmax(dim=1)(x)


def test_activations_accept_torch_arguments_and_leave_the_input():
    x = mg.tensor(np.array([-1.0, 0.5, 2.0]))
    before = x.numpy().copy()
    for layer in (nn.ReLU(inplace=True), nn.LeakyReLU(0.2, inplace=True), nn.LeakyReLU(negative_slope=0.1),
                  nn.Tanh(), nn.Sigmoid(), nn.Identity(54, unused_argument_name=0.1)):
        layer(x)
        np.testing.assert_array_equal(x.numpy(), before)
    assert nn.LeakyReLU().negative_slope == 0.01
    assert nn.Identity("anything")(x) is x


# -- against PyTorch --------------------------------------------------------------


TOL = {"rtol": 1e-6, "atol": 1e-9}


def against_torch(ours, theirs, inputs, grad_wrt, targets=(), seed=0):
    """Forward both on the same float64 inputs, backward one random upstream gradient, compare values and grads."""
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(a, requires_grad=i in grad_wrt) for i, a in enumerate(inputs)]
    ms = [mg.tensor(a, requires_grad=i in grad_wrt) for i, a in enumerate(inputs)]
    y = theirs(*ts, *[torch.as_tensor(t) for t in targets])
    my = ours(*ms, *targets)
    np.testing.assert_allclose(my.numpy(), y.detach().numpy(), **TOL)
    g = rng(seed).standard_normal(y.shape)
    y.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    for i in grad_wrt:
        np.testing.assert_allclose(ms[i].grad.numpy(), ts[i].grad.numpy(), err_msg=f"input {i}", **TOL)


@FEW
@given(shape=strategies.shapes(min_dims=1, max_dims=3, max_side=4), reduction=REDUCTIONS, seed=st.integers(0, 2**16))
def test_regression_losses_match_torch(shape, reduction, seed):
    torch = pytest.importorskip("torch")
    r = rng(seed)
    x, t = r.standard_normal(shape), r.standard_normal(shape)
    against_torch(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), [x, t], {0, 1})
    against_torch(nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), [x, t], {0, 1})


@FEW
@given(shape=strategies.shapes(min_dims=1, max_dims=3, max_side=4), reduction=REDUCTIONS, weighted=st.booleans(),
       pos_weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_binary_losses_match_torch(shape, reduction, weighted, pos_weighted, seed):
    torch = pytest.importorskip("torch")
    r = rng(seed)
    x, t, p = 4 * r.standard_normal(shape), r.uniform(0, 1, shape), r.uniform(0.02, 0.98, shape)
    w = r.uniform(0.5, 2.0, shape[-1:]) if weighted else None
    pw = r.uniform(0.5, 3.0, shape[-1:]) if pos_weighted else None

    def both(a):
        return (None, None) if a is None else (mg.tensor(a), torch.tensor(a))

    (mw, tw), (mpw, tpw) = both(w), both(pw)
    against_torch(nn.BCEWithLogitsLoss(mw, reduction=reduction, pos_weight=mpw),
                  torch.nn.BCEWithLogitsLoss(tw, reduction=reduction, pos_weight=tpw), [x, t], {0, 1})
    against_torch(nn.BCELoss(mw, reduction=reduction), torch.nn.BCELoss(tw, reduction=reduction), [p, t], {0})


@FEW
@given(problem=class_problems(), reduction=REDUCTIONS, label_smoothing=st.sampled_from([0.0, 0.1, 0.5]))
def test_class_losses_match_torch(problem, reduction, label_smoothing):
    torch = pytest.importorskip("torch")
    x, target, ii, w = problem["logits"], problem["target"], problem["ignore_index"], problem["weight"]
    mw, tw = (None, None) if w is None else (mg.tensor(w), torch.tensor(w))
    against_torch(nn.CrossEntropyLoss(mw, ignore_index=ii, reduction=reduction, label_smoothing=label_smoothing),
                  torch.nn.CrossEntropyLoss(tw, ignore_index=ii, reduction=reduction,
                                            label_smoothing=label_smoothing), [x], {0}, targets=[target])
    log_probs = x - np.log(np.exp(x).sum(1, keepdims=True))
    against_torch(nn.NLLLoss(mw, ignore_index=ii, reduction=reduction),
                  torch.nn.NLLLoss(tw, ignore_index=ii, reduction=reduction), [log_probs], {0}, targets=[target])
    probs = np.exp(rng(problem["seed"] + 1).standard_normal(x.shape))
    probs /= probs.sum(1, keepdims=True)
    against_torch(nn.CrossEntropyLoss(mw, reduction=reduction, label_smoothing=label_smoothing),
                  torch.nn.CrossEntropyLoss(tw, reduction=reduction, label_smoothing=label_smoothing),
                  [x, probs], {0, 1})


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_unbatched_class_losses_match_torch(reduction):
    torch = pytest.importorskip("torch")
    x = rng(0).standard_normal(5)
    against_torch(nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1),
                  torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1), [x], {0},
                  targets=[np.array(3)])
    against_torch(nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction), [x], {0},
                  targets=[np.array(2)])


@FEW
@given(shape=strategies.shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_softmax_modules_match_torch(shape, data):
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = 3 * rng(data.draw(st.integers(0, 2**16))).standard_normal(shape)
    against_torch(nn.Softmax(dim), torch.nn.Softmax(dim), [x], {0})
    against_torch(nn.LogSoftmax(dim=dim), torch.nn.LogSoftmax(dim=dim), [x], {0})


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (2, 3, 2, 2)])
def test_implicit_softmax_dim_matches_torch(shape):
    torch = pytest.importorskip("torch")
    x = rng(1).standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        against_torch(nn.Softmax(), torch.nn.Softmax(), [x], {0})
        against_torch(nn.LogSoftmax(), torch.nn.LogSoftmax(), [x], {0})


def test_activations_and_identity_match_torch():
    torch = pytest.importorskip("torch")
    x = rng(0).standard_normal((3, 4))
    x[np.abs(x) < 1e-3] = 0.5                                # away from the kinks
    for ours, theirs in [(nn.ReLU(inplace=True), torch.nn.ReLU()), (nn.LeakyReLU(0.2, True), torch.nn.LeakyReLU(0.2)),
                         (nn.LeakyReLU(), torch.nn.LeakyReLU()), (nn.Tanh(), torch.nn.Tanh()),
                         (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Identity(3, k=1), torch.nn.Identity(3, k=1))]:
        against_torch(ours, theirs, [x], {0})


def test_dropout2d_eval_matches_torch_and_rate_is_torchs():
    torch = pytest.importorskip("torch")
    x = rng(0).standard_normal((2, 3, 4, 4))
    against_torch(nn.Dropout2d(0.3).eval(), torch.nn.Dropout2d(0.3).eval(), [x], {0})
    torch.manual_seed(0)
    y = torch.nn.Dropout2d(0.5)(torch.ones(64, 64, 2, 2, dtype=torch.float64)).numpy()
    mg.manual_seed(0)
    my = nn.Dropout2d(0.5)(mg.ones(64, 64, 2, 2, dtype=mg.float64)).numpy()
    assert set(np.unique(y)) == set(np.unique(my)) == {0.0, 2.0}   # same values: zeros and 1 / (1 - p)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_float32_stays_float32(reduction, label_smoothing):
    x = mg.tensor(rng(0).standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    target, probs = np.array([0, 1, 2, -100]), rng(1).dirichlet(np.ones(3), 4).astype(np.float32)
    for y in (nn.CrossEntropyLoss(mg.ones(3), reduction=reduction, label_smoothing=label_smoothing)(x, target),
              nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)(x, probs),
              nn.NLLLoss(reduction=reduction)(x, target), nn.MSELoss(reduction=reduction)(x, probs),
              nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=mg.ones(3))(x, probs),
              nn.Softmax(1)(x), nn.LogSoftmax(0)(x), nn.Dropout2d()(x.reshape(2, 2, 3))):
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
