"""The theory behind the losses, as known answers on finite supports.

p_data and p_g are random distributions over k = 2..6 points, each probability
a count over the total (so bounded away from 0). D is tabular: one free logit
per support point, a Parameter trained by Adam on the library's d_loss. The
batches hold every support point as many times as its count, so the batch
mean that d_loss takes is exactly the expectation under the distribution.
The optimum of each loss is then known in closed form, and the divergences
are computed independently in NumPy.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import losses, nn, optim

theory_settings = settings(max_examples=8)


@st.composite
def distributions(draw, max_count=5):
    """(p_data counts, p_g counts) over a support of 2..6 points, every count at least 1."""
    k = draw(st.integers(2, 6))
    counts = st.lists(st.integers(1, max_count), min_size=k, max_size=k).map(np.array)
    return draw(counts), draw(counts)


def train_tabular_discriminator(loss, real_counts, fake_counts, steps=400, lr=0.2):
    """D's logits after Adam on loss.d_loss, with the learning rate decayed linearly to zero."""
    logits = nn.Parameter(mg.zeros(len(real_counts), dtype=mg.float64))
    real = np.repeat(np.arange(len(real_counts)), real_counts)  # the batch that *is* p_data
    fake = np.repeat(np.arange(len(fake_counts)), fake_counts)
    opt = optim.Adam([logits], lr=lr)
    for step in range(steps):
        opt.param_groups[0]["lr"] = lr * (1 - step / steps)
        opt.zero_grad()
        loss.d_loss(logits[real], logits[fake]).backward()
        opt.step()
    value = loss.d_loss(logits[real], logits[fake]).item()
    return logits.numpy(), value


def probabilities(counts):
    return counts / counts.sum()


def kl(p, q):
    return float(np.sum(p * np.log(p / q)))


def jsd(p, q):
    m = (p + q) / 2
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


@theory_settings
@given(counts=distributions())
def test_minimax_optimal_discriminator_and_jensen_shannon(counts):
    p, q = map(probabilities, counts)
    logits, d_loss = train_tabular_discriminator(losses.get("minimax"), *counts)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), p / (p + q), atol=1e-3)  # D* = p / (p + q)
    assert -d_loss == pytest.approx(-np.log(4) + 2 * jsd(p, q), abs=1e-6)


@theory_settings
@given(counts=distributions(), smoothing=st.floats(0.7, 1.0))
def test_label_smoothing_scales_the_optimal_discriminator(counts, smoothing):
    p, q = map(probabilities, counts)
    logits, _ = train_tabular_discriminator(losses.get("nonsaturating", real_label=smoothing), *counts)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), smoothing * p / (p + q), atol=1e-3)


@theory_settings
@given(counts=distributions(), a=st.floats(-1.0, 0.5), b=st.floats(0.5, 2.0))
def test_lsgan_optimal_discriminator(counts, a, b):
    p, q = map(probabilities, counts)
    logits, _ = train_tabular_discriminator(losses.get("lsgan", a=a, b=b), *counts)
    np.testing.assert_allclose(logits, (b * p + a * q) / (p + q), atol=1e-3)


# f (the generator of the divergence) and f' (the optimal critic T* = f'(p/q)), Nowozin et al. Table 1
F_DIVERGENCES = {
    "fgan-kl": (lambda u: u * np.log(u), lambda u: 1 + np.log(u)),
    "fgan-reverse-kl": (lambda u: -np.log(u), lambda u: -1 / u),
    "fgan-pearson": (lambda u: (u - 1) ** 2, lambda u: 2 * (u - 1)),
    "fgan-hellinger": (lambda u: (np.sqrt(u) - 1) ** 2, lambda u: 1 - 1 / np.sqrt(u)),
    "fgan-js": (lambda u: u * np.log(u) - (u + 1) * np.log((u + 1) / 2), lambda u: np.log(2 * u / (1 + u))),
    "fgan-tv": (lambda u: 0.5 * np.abs(u - 1), lambda u: 0.5 * np.sign(u - 1)),
}


def test_the_f_divergences_are_the_named_ones():
    """The generators f give KL, reverse KL, chi^2, squared Hellinger, 2 JSD and TV."""
    p, q = np.array([0.2, 0.5, 0.3]), np.array([0.4, 0.4, 0.2])
    divergence = {name: float(np.sum(q * f(p / q))) for name, (f, _) in F_DIVERGENCES.items()}
    assert divergence["fgan-kl"] == pytest.approx(kl(p, q))
    assert divergence["fgan-reverse-kl"] == pytest.approx(kl(q, p))
    assert divergence["fgan-pearson"] == pytest.approx(np.sum((p - q) ** 2 / q))
    assert divergence["fgan-hellinger"] == pytest.approx(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))
    assert divergence["fgan-js"] == pytest.approx(2 * jsd(p, q))
    assert divergence["fgan-tv"] == pytest.approx(0.5 * np.sum(np.abs(p - q)))


@pytest.mark.parametrize("name", F_DIVERGENCES)
@theory_settings
@given(counts=distributions())
def test_fgan_critic_and_variational_bound(name, counts):
    """The learned T = g_f(V) is f'(p/q) and the bound -d_loss reaches D_f(p || q).

    TV's optimum T* = sign(p - q)/2 is reached only as V -> +-inf, and the
    gap of the bound, sum |p - q| (1 - |tanh V|)/2, shrinks like e^{-2|V|}
    while its gradient shrinks as fast (Adam's step, normalised by a memory
    of the earlier, larger gradients, slows with it), so TV gets a looser
    tolerance. Where p == q any T in [-1/2, 1/2] is optimal (a subgradient
    of |u - 1| at 1), so T is not checked there.
    """
    f, f_prime = F_DIVERGENCES[name]
    p, q = map(probabilities, counts)
    loss = losses.get(name)
    logits, d_loss = train_tabular_discriminator(loss, *counts)
    critic = loss.critic(mg.tensor(logits)).numpy()
    determined = p != q if name == "fgan-tv" else np.ones_like(p, dtype=bool)
    np.testing.assert_allclose(critic[determined], f_prime(p / q)[determined], rtol=1e-3, atol=1e-3)
    tolerance = 1e-3 if name == "fgan-tv" else 1e-6
    assert -d_loss == pytest.approx(np.sum(q * f(p / q)), rel=tolerance, abs=tolerance)
    assert -d_loss <= np.sum(q * f(p / q)) + 1e-9  # a lower bound, for any critic
