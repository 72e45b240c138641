"""The adversarial losses: values against the papers' formulas, gradients against finite differences
and against the closed forms of docs/losses.md, stability at huge logits, saturation, the registry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import losses, nn
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst

SEPARABLE = ["minimax", "nonsaturating", "lsgan", "hinge", "wasserstein",
             "fgan-kl", "fgan-reverse-kl", "fgan-pearson", "fgan-hellinger", "fgan-js", "fgan-tv"]
RELATIVISTIC = ["rsgan", "ragan"]
NAMES = SEPARABLE + RELATIVISTIC
EXPONENTIAL = {"fgan-kl", "fgan-reverse-kl", "fgan-hellinger"}


def sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))  # full relative precision in both tails, no overflow


def log_sigmoid(x):
    return -np.logaddexp(0, -x)


# -- NumPy references, transcribed from the papers -----------------------------------------------

# f-GAN rows of Nowozin et al. (2016), Table 2: output activation g_f and conjugate f*, composed naively
FGAN_TABLE = {
    "fgan-kl": (lambda v: v, lambda t: np.exp(t - 1)),
    "fgan-reverse-kl": (lambda v: -np.exp(-v), lambda t: -1 - np.log(-t)),
    "fgan-pearson": (lambda v: v, lambda t: t * t / 4 + t),
    "fgan-hellinger": (lambda v: 1 - np.exp(-v), lambda t: t / (1 - t)),
    "fgan-js": (lambda v: np.log(2) - np.log1p(np.exp(-v)), lambda t: -np.log(2 - np.exp(t))),
    "fgan-tv": (lambda v: 0.5 * np.tanh(v), lambda t: t),
}


def reference_losses(name, r, f, real_label=1.0):
    """(d_loss, g_loss) in NumPy float64, written as in the papers (log D, not softplus)."""
    t, m = real_label, np.mean
    if name in ("minimax", "nonsaturating"):
        d = -m(t * log_sigmoid(r) + (1 - t) * np.log(1 - sigmoid(r))) - m(np.log(1 - sigmoid(f)))
        return d, (m(np.log(1 - sigmoid(f))) if name == "minimax" else -m(log_sigmoid(f)))
    if name == "lsgan":
        return 0.5 * m((r - 1) ** 2) + 0.5 * m(f ** 2), 0.5 * m((f - 1) ** 2)
    if name == "hinge":
        return m(np.maximum(0, 1 - r)) + m(np.maximum(0, 1 + f)), -m(f)
    if name == "wasserstein":
        return m(f) - m(r), -m(f)
    if name == "rsgan":
        return -m(log_sigmoid(r - f)), -m(log_sigmoid(f - r))
    if name == "ragan":
        def relativistic_average(a, b):
            return -m(log_sigmoid(a - m(b))) - m(np.log(1 - sigmoid(b - m(a))))
        return relativistic_average(r, f), relativistic_average(f, r)
    g_f, conjugate = FGAN_TABLE[name]
    return -m(g_f(r)) + m(conjugate(g_f(f))), -m(g_f(f))


# the closed forms of docs/losses.md: per-element slopes of (L_D in r, L_D in f, L_G in f), before the 1/n
ONE = np.ones_like
SLOPES = {
    "minimax": (lambda r: -sigmoid(-r), sigmoid, lambda f: -sigmoid(f)),
    "nonsaturating": (lambda r: -sigmoid(-r), sigmoid, lambda f: -sigmoid(-f)),
    "lsgan": (lambda r: r - 1, lambda f: f, lambda f: f - 1),
    "hinge": (lambda r: -1.0 * (r < 1), lambda f: 1.0 * (f > -1), lambda f: -ONE(f)),
    "wasserstein": (lambda r: -ONE(r), ONE, lambda f: -ONE(f)),
    "fgan-kl": (lambda r: -ONE(r), lambda f: np.exp(f - 1), lambda f: -ONE(f)),
    "fgan-reverse-kl": (lambda r: -np.exp(-r), ONE, lambda f: -np.exp(-f)),
    "fgan-pearson": (lambda r: -ONE(r), lambda f: f / 2 + 1, lambda f: -ONE(f)),
    "fgan-hellinger": (lambda r: -np.exp(-r), np.exp, lambda f: -np.exp(-f)),
    "fgan-js": (lambda r: -sigmoid(-r), sigmoid, lambda f: -sigmoid(-f)),
    "fgan-tv": (lambda r: -0.5 / np.cosh(r) ** 2, lambda f: 0.5 / np.cosh(f) ** 2, lambda f: -0.5 / np.cosh(f) ** 2),
}


def relativistic_grads(name, a, b):
    """Gradients of L(a, b) (D's loss is L(r, f), G's is L(f, r)) in a and b."""
    if name == "rsgan":
        s = sigmoid(b - a)
        return -s / a.size, s / a.size
    p, q = sigmoid(b.mean() - a), sigmoid(b - a.mean())
    return -(p + q.mean()) / a.size, (q + p.mean()) / b.size


def reference_grads(name, r, f):
    """(dL_D/dr, dL_D/df, dL_G/df, dL_G/dr) in NumPy float64."""
    with np.errstate(over="ignore"):
        if name in RELATIVISTIC:
            d_r, d_f = relativistic_grads(name, r, f)
            g_f, g_r = relativistic_grads(name, f, r)
            return d_r, d_f, g_f, g_r
        real, fake, gen = SLOPES[name]
        return real(r) / r.size, fake(f) / f.size, gen(f) / f.size, np.zeros_like(r)


# -- drawing discriminator outputs ---------------------------------------------------------------

def logit_range(name):
    """Where finite differences stay accurate: the exponential f-GANs reach e^|v|, whose rounding
    error (1e-16 e^|v| / eps) would swamp the O(1) slopes of the other elements beyond |v| ~ 10."""
    return (-10.0, 10.0) if name in EXPONENTIAL else (-50.0, 50.0)


@st.composite
def outputs(draw, name):
    """D's outputs on a real and a fake batch, (n,) or (n, 1), as float64 leaves."""
    n = draw(st.integers(1, 6))
    m = n if name == "rsgan" else draw(st.integers(1, 6))  # rsgan compares pairs
    tail = draw(st.sampled_from([(), (1,)]))
    low, high = logit_range(name)
    avoid = (-1.0, 1.0) if name == "hinge" else ()  # the hinge kinks
    r, f = (draw(mst.arrays((k, *tail), min_value=low, max_value=high, avoid=avoid)) for k in (n, m))
    return mg.tensor(r, requires_grad=True), mg.tensor(f, requires_grad=True)


def make(name, data):
    kwargs = {"real_label": data.draw(st.floats(0.7, 1.0))} if name in ("minimax", "nonsaturating") else {}
    return losses.get(name, **kwargs)


# -- values and gradients -------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_values_match_the_papers_formulas(name, data):
    loss = make(name, data)
    r, f = (mg.tensor(x.numpy().clip(-8, 8)) for x in data.draw(outputs(name)))  # the naive forms' range
    d_ref, g_ref = reference_losses(name, r.numpy(), f.numpy(), getattr(loss, "real_label", 1.0))
    assert loss.d_loss(r, f).item() == pytest.approx(d_ref, rel=1e-9, abs=1e-9)
    assert loss.g_loss(f, r).item() == pytest.approx(g_ref, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_gradcheck(name, data):
    loss, (r, f) = make(name, data), data.draw(outputs(name))
    gradcheck(loss.d_loss, [r, f])
    gradcheck(lambda fake, real: loss.g_loss(fake, real), [f, r])  # real is used by relativistic losses only


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10)
@given(data=st.data())
def test_gradgradcheck(name, data):
    loss, (r, f) = make(name, data), data.draw(outputs(name))
    gradgradcheck(loss.d_loss, [r, f])
    gradgradcheck(lambda fake, real: loss.g_loss(fake, real), [f, r])


def gradients(loss, r, f):
    """(dL_D/dr, dL_D/df, dL_G/df, dL_G/dr) by minigan's reverse mode, with the loss values."""
    r, f = mg.tensor(r, requires_grad=True), mg.tensor(f, requires_grad=True)
    d, g = loss.d_loss(r, f), loss.g_loss(f, r)
    d_r, d_f = mg.grad(d, [r, f])
    g_f, g_r = mg.grad(g, [f, r], allow_unused=True)
    g_r = np.zeros(r.shape) if g_r is None else g_r.numpy()
    return (d_r.numpy(), d_f.numpy(), g_f.numpy(), g_r), (d.item(), g.item())


def assert_closed_forms(name, r, f, rtol, atol):
    """minigan's gradients equal the derived closed forms wherever those are finite.

    ``atol`` absorbs the absolute error (~1e-16) of sigmoid evaluated as 0.5 tanh(x/2) + 0.5 in its tails.
    """
    computed, values = gradients(losses.get(name), r, f)
    expected = reference_grads(name, r.astype(np.float64), f.astype(np.float64))
    for got, want in zip(computed, expected):
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=atol)
    if all(np.isfinite(w).all() for w in expected):
        assert all(np.isfinite(values)), values


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_gradients_are_the_derived_closed_forms(name, data):
    r, f = data.draw(outputs(name))
    assert_closed_forms(name, r.numpy(), f.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.filterwarnings("ignore:overflow encountered")  # the exponential f-GANs, on their infinite side
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_finite_and_correct_at_huge_logits(name, dtype):
    big = np.array([-1e4, 1e4, -1e4, 1e4, 0.5], dtype)
    r, f = big.copy(), np.array([-1e4, -1e4, 1e4, 1e4, -0.5], dtype)  # every sign pairing once
    assert_closed_forms(name, r, f, rtol=1e-6, atol=1e-12)


def test_nonsaturating_fake_gradient_at_minus_1e4_is_minus_one_over_n():
    (_, _, g_f, _), _ = gradients(losses.get("ns"), np.zeros(4, np.float32), np.full(4, -1e4, np.float32))
    np.testing.assert_array_equal(g_f, np.full(4, -0.25, np.float32))


def test_saturation():
    """As D(G(z)) -> 0 the minimax G gradient vanishes like e^f / n; the non-saturating one -> -1/n."""
    n = 4
    logits = [-1.0, -5.0, -10.0, -20.0, -40.0, -1e4]
    minimax, nonsat = [], []
    for v in logits:
        f = np.full(n, v)
        minimax.append(gradients(losses.get("minimax"), np.zeros(n), f)[0][2][0])
        nonsat.append(gradients(losses.get("nonsaturating"), np.zeros(n), f)[0][2][0])
    for v, slope in zip(logits, minimax):
        assert -np.exp(v) / n - 1e-16 <= slope <= 0  # sigma(f) < e^f
    assert np.all(np.diff(np.abs(minimax)) <= 0) and minimax[-1] == 0
    np.testing.assert_allclose(nonsat, -1 / n, atol=np.exp(-1) / n)
    assert nonsat[-1] == -1 / n and abs(nonsat[-2] + 1 / n) < 1e-17


# -- the registry and the rest of the API ---------------------------------------------------------

def test_registry_returns_instances_by_name_and_alias():
    for name in NAMES:
        loss = losses.get(name)
        assert isinstance(loss, losses.AdversarialLoss) and loss.name == name
    assert type(losses.get("ns")) is losses.NonSaturatingLoss
    assert type(losses.get("wgan")) is losses.WassersteinLoss
    assert set(NAMES) <= set(losses.available())
    assert losses.get("lsgan", a=-1, b=1, c=0).a == -1.0
    assert losses.get("minimax", real_label=0.9).real_label == 0.9
    assert losses.get("ragan").needs_real_for_g and not losses.get("hinge").needs_real_for_g


def test_unknown_name_raises_keyerror_listing_the_names():
    with pytest.raises(KeyError) as info:
        losses.get("vanilla-gan")
    assert "vanilla-gan" in str(info.value)
    assert all(name in str(info.value) for name in losses.available())


def test_bad_arguments_fail_early():
    r, f = mg.randn(3, 1), mg.randn(2, 1)
    with pytest.raises(ValueError, match="real_label"):
        losses.get("nonsaturating", real_label=1.5)
    with pytest.raises(ValueError, match="same shape"):
        losses.get("rsgan").d_loss(r, f)
    with pytest.raises(ValueError, match="real_out"):
        losses.get("ragan").g_loss(f)
    with pytest.raises(ValueError, match="empty"):
        losses.get("hinge").d_loss(r, mg.zeros(0, 1))


def test_float32_in_float32_out():
    r, f = mg.randn(4, 1, requires_grad=True), mg.randn(4, 1, requires_grad=True)
    for name in NAMES:
        loss = losses.get(name)
        for value in (loss.d_loss(r, f), loss.g_loss(f, r)):
            assert value.dtype == np.float32 and value.shape == ()
            value.backward()
            assert r.grad is None or r.grad.dtype == np.float32
        r.grad = f.grad = None


def test_clip_weights_clamps_every_parameter_in_place():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    before = [p.numpy().copy() for p in net.parameters()]
    arrays = [p.array for p in net.parameters()]
    assert losses.clip_weights_(net, 0.1) is net
    for p, old, array in zip(net.parameters(), before, arrays):
        assert p.array is array  # in place
        np.testing.assert_array_equal(p.numpy(), np.clip(old, -0.1, 0.1))
    weights = [mg.tensor([-3.0, 0.5, 2.0])]
    losses.clip_weights_(weights, 1.0)
    np.testing.assert_array_equal(weights[0].numpy(), [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="positive"):
        losses.clip_weights_(net, 0.0)
