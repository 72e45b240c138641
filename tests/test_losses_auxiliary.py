"""Auxiliary objectives (ACGAN, InfoGAN, feature matching, pulling-away) and the ebgan and began losses."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.losses import registry
from minigan.losses.auxiliary import (
    BEGANLoss,
    EBGANLoss,
    acgan_class_loss,
    feature_matching_loss,
    gaussian_nll,
    infogan_loss,
    pulling_away_term,
)
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst

checks = settings(max_examples=20)
sizes = st.integers(1, 4)


def tensor(array, requires_grad=True):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


@st.composite
def logits_and_labels(draw):
    n, k = draw(sizes), draw(st.integers(2, 4))
    labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return tensor(draw(mst.arrays((n, k)))), mg.tensor(labels)


@st.composite
def gaussian_codes(draw, learned_std=True):
    """Codes, means and (optionally) log-stds of shape (N, d); log-std kept moderate so e^{-2s} is tame."""
    shape = (draw(sizes), draw(sizes))
    codes, mu = (tensor(draw(mst.arrays(shape))) for _ in range(2))
    log_std = tensor(draw(mst.arrays(shape, min_value=-1.0, max_value=1.0))) if learned_std else None
    return codes, mu, log_std


# -- ACGAN and InfoGAN --------------------------------------------------------------------------------

@checks
@given(case=logits_and_labels())
def test_acgan_class_loss_gradient_and_value(case):
    logits, labels = case
    gradcheck(lambda z: acgan_class_loss(z, labels), [logits])
    z, y = logits.numpy(), labels.numpy()
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert acgan_class_loss(logits, labels).item() == pytest.approx(-log_p[np.arange(len(y)), y].mean())


@checks
@given(case=gaussian_codes(), broadcast_std=st.booleans())
def test_gaussian_nll_first_and_second_derivatives(case, broadcast_std):
    """The hand-written VJP, in codes, means and log-stds (also a per-dimension log-std that broadcasts)."""
    codes, mu, log_std = case
    if broadcast_std:
        log_std = tensor(log_std.numpy()[0])
    gradcheck(gaussian_nll, [codes, mu, log_std])
    gradgradcheck(gaussian_nll, [codes, mu, log_std])


def test_gaussian_nll_known_values():
    c, mu, s = 1.5, 0.5, math.log(2.0)
    expected = s + 0.5 * math.log(2 * math.pi) + 0.5 * (c - mu) ** 2 / 4.0
    assert gaussian_nll(tensor([c]), tensor([mu]), tensor([s])).item() == pytest.approx(expected, rel=1e-14)
    assert gaussian_nll(tensor([c]), tensor([mu])).item() == pytest.approx(0.5 + 0.5 * math.log(2 * math.pi))


@checks
@given(cat=logits_and_labels(), cont=gaussian_codes(), learned=st.booleans(), weights=st.sampled_from([0.5, 2.0]))
def test_infogan_loss_gradient(cat, cont, learned, weights):
    logits, labels = cat
    codes, mu, log_std = cont
    n = min(logits.shape[0], codes.shape[0])  # one batch for both parts
    logits, labels, codes = tensor(logits.numpy()[:n]), labels[:n], tensor(codes.numpy()[:n], requires_grad=False)
    mu, log_std = tensor(mu.numpy()[:n]), tensor(log_std.numpy()[:n]) if learned else None
    checked = [logits, mu] + ([log_std] if learned else [])

    def loss(z, m, s=None):
        return infogan_loss(z, labels, m, codes, s, lambda_cat=weights, lambda_cont=1 / weights)

    gradcheck(loss, checked)
    gradcheck(lambda z: infogan_loss(z, labels), [logits])
    gradcheck(lambda m, *s: infogan_loss(cont_mean=m, cont_codes=codes, cont_log_std=s[0] if s else None),
              checked[1:])


def test_infogan_loss_known_value():
    """Categorical part: cross-entropy; continuous part: NLL summed over code dimensions, averaged over the batch."""
    logits, labels = tensor([[0.0, 0.0], [0.0, math.log(3.0)]]), mg.tensor([0, 1])
    codes, mu = tensor([[1.0, 2.0], [0.0, 0.0]]), tensor([[0.0, 0.0], [0.0, 0.0]])
    cat = (math.log(2.0) + math.log(4.0 / 3.0)) / 2
    cont = (0.5 * 5.0 + 2 * math.log(2 * math.pi)) / 2  # (1 + 4) / 2 plus four halves of log 2 pi, over 2 samples
    loss = infogan_loss(logits, labels, mu, codes, lambda_cat=2.0, lambda_cont=3.0)
    assert loss.item() == pytest.approx(2.0 * cat + 3.0 * cont, rel=1e-14)


def test_infogan_loss_needs_matching_parts():
    with pytest.raises(ValueError, match="cat_logits and cat_codes go together"):
        infogan_loss(cat_logits=tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="give cat_logits and cat_codes, cont_mean and cont_codes, or both"):
        infogan_loss()


# -- feature matching and the pulling-away term --------------------------------------------------------

@checks
@given(n_real=sizes, n_fake=sizes, features=mst.shapes(min_dims=1, max_dims=2, max_side=3), data=st.data())
def test_feature_matching_gradient_and_value(n_real, n_fake, features, data):
    real = tensor(data.draw(mst.arrays((n_real, *features))))
    fake = tensor(data.draw(mst.arrays((n_fake, *features))))
    gradcheck(lambda f: feature_matching_loss(real, f), [fake])
    gap = real.numpy().mean(axis=0) - fake.numpy().mean(axis=0)
    assert feature_matching_loss(real, fake).item() == pytest.approx((gap ** 2).sum(), rel=1e-12, abs=1e-300)


def test_feature_matching_treats_real_features_as_constants():
    real, fake = tensor([[1.0, 2.0], [3.0, 4.0]]), tensor([[0.0, 1.0]])
    g_real, g_fake = mg.grad(feature_matching_loss(real, fake), [real, fake], allow_unused=True)
    assert g_real is None
    np.testing.assert_allclose(g_fake.numpy(), [[-4.0, -4.0]])  # 2 (mean fake - mean real) / 1


@checks
@given(n=st.integers(2, 4), d=st.integers(1, 3), data=st.data())
def test_pulling_away_term_gradient(n, d, data):
    s = tensor(data.draw(mst.arrays((n, d), min_value=0.2, max_value=2.0)) * data.draw(
        st.sampled_from([1.0, -1.0])))
    gradcheck(pulling_away_term, [s])


def test_pulling_away_term_known_values():
    assert pulling_away_term(tensor(np.eye(3) * [1.0, 2.0, 5.0])).item() == 0.0
    assert pulling_away_term(tensor(np.ones((4, 2, 2)) * 3.0)).item() == pytest.approx(1.0, rel=1e-14)
    pair = tensor([[1.0, 0.0], [1.0, 1.0]])  # cos^2 = 1/2 for both ordered pairs
    assert pulling_away_term(pair).item() == pytest.approx(0.5, rel=1e-14)
    assert pulling_away_term(tensor(-2.5 * pair.numpy())).item() == pytest.approx(0.5, rel=1e-14)
    with pytest.raises(ValueError, match="at least 2 embeddings"):
        pulling_away_term(tensor([[1.0, 2.0]]))


# -- ebgan and began ----------------------------------------------------------------------------------

def test_ebgan_and_began_are_registered():
    assert {"ebgan", "began"} <= set(registry.available())
    assert isinstance(registry.get("ebgan", margin=2.0), EBGANLoss) and registry.get("ebgan").margin == 1.0
    began = registry.get("began")
    assert (began.gamma, began.lambda_k, began.k) == (0.5, 0.001, 0.0)


@checks
@given(n_real=sizes, n_fake=sizes, margin=st.sampled_from([0.5, 2.0]), data=st.data())
def test_ebgan_gradients(n_real, n_fake, margin, data):
    """D's margin loss, away from its kink at energy = margin; G's mean energy."""
    loss = EBGANLoss(margin)
    real = tensor(data.draw(mst.positive_arrays((n_real,))))
    fake = tensor(data.draw(mst.arrays((n_fake, 1), min_value=0.0, max_value=3.0, avoid=(margin,))))
    gradcheck(loss.d_loss, [real, fake])
    gradcheck(loss.g_loss, [fake])
    expected = real.numpy().mean() + np.maximum(margin - fake.numpy(), 0).mean()
    assert loss.d_loss(real, fake).item() == pytest.approx(expected, rel=1e-12)
    assert loss.g_loss(fake).item() == pytest.approx(fake.numpy().mean(), rel=1e-12)


@checks
@given(n_real=sizes, n_fake=sizes, k=st.sampled_from([0.0, 0.3, 1.0]), data=st.data())
def test_began_gradients(n_real, n_fake, k, data):
    loss = BEGANLoss(k=k)
    real = tensor(data.draw(mst.positive_arrays((n_real,))))
    fake = tensor(data.draw(mst.positive_arrays((n_fake,))))
    gradcheck(loss.d_loss, [real, fake])
    gradcheck(loss.g_loss, [fake])
    assert loss.d_loss(real, fake).item() == pytest.approx(real.numpy().mean() - k * fake.numpy().mean())


def test_began_update_by_hand():
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1); M = L(x) + |gamma L(x) - L(G(z))|."""
    loss = BEGANLoss()  # gamma 0.5, lambda_k 0.001, k 0
    assert loss.update(0.4, 0.1) == pytest.approx(0.5)  # balance 0.5 * 0.4 - 0.1 = 0.1
    assert loss.k == pytest.approx(1e-4)
    assert loss.update(tensor([0.2, 0.4]), tensor([0.5, 0.7])) == pytest.approx(0.3 + 0.45)  # balance -0.45
    assert loss.k == 0.0  # 1e-4 - 4.5e-4 clipped at 0
    loss = BEGANLoss(gamma=1.0, lambda_k=0.5, k=0.9)
    assert loss.update(1.0, 0.0) == pytest.approx(2.0) and loss.k == 1.0  # 0.9 + 0.5 clipped at 1
    assert loss.d_loss(tensor([1.0]), tensor([0.25])).item() == pytest.approx(0.75)  # uses the new k


def test_began_state_round_trip():
    loss = BEGANLoss(k=0.25)
    fresh = BEGANLoss()
    fresh.load_state_dict(loss.state_dict())
    assert fresh.k == 0.25
