"""Conditional networks (cGAN, projection D, ACGAN) and InfoGAN's Q head: shapes, formulas, gradients, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.models import (AuxiliaryClassifierDiscriminator, ConcatDiscriminator, ConditionalGenerator,
                            DCGANDiscriminator, DCGANGenerator, JointDiscriminator, LatentCodeHead, MLPDiscriminator,
                            MLPGenerator, ProjectionDiscriminator)
from minigan.testing import functional_call, gradcheck

few = settings(max_examples=15)


def labels(n, num_classes, seed=0):
    return mg.tensor(np.random.default_rng(seed).integers(0, num_classes, n))


def present(outputs):
    """The Tensors among a module's outputs (the Q head returns None for absent codes)."""
    return tuple(t for t in (outputs if isinstance(outputs, tuple) else (outputs,)) if t is not None)


def check_gradients(module, *inputs):
    """gradcheck of ``module(*inputs)`` in float64 w.r.t. its parameters and its float inputs (labels stay fixed)."""
    module.double()
    params = list(module.parameters())
    gradcheck(lambda *args: present(functional_call(module, args[:len(params)], *args[len(params):])),
              [*params, *inputs])


class Call(nn.Module):
    """``module.<method>(*args)`` as a module of its own, for ``functional_call``."""

    def __init__(self, module, method):
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *args):
        return getattr(self.module, self.method)(*args)


def x64(*shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).uniform(-1, 1, shape), requires_grad=True)


# -- shapes ------------------------------------------------------------------------------------------

def test_conditional_generator_shapes_and_formula():
    base = DCGANGenerator(latent_dim=12, image_size=8, channels=1, width=4)
    G = ConditionalGenerator(base, num_classes=10, embedding_dim=4)
    assert (G.latent_dim, G.num_classes, G.embedding_dim) == (8, 10, 4)
    z, y = mg.randn(5, 8), labels(5, 10)
    assert G(z, y).shape == (5, 1, 8, 8)
    G.eval()  # batch norm on running statistics, so two calls give the same
    np.testing.assert_array_equal(G(z, y).numpy(), base(mg.cat([z, G.embedding.weight[y.numpy()]], 1)).numpy())
    toy = ConditionalGenerator(MLPGenerator(5, 2, hidden=(8,), output="linear"), 3, 2)
    assert toy.latent_dim == 3 and toy(mg.randn(4, 3), [0, 1, 2, 1]).shape == (4, 2)


@pytest.mark.parametrize("base", ["dcgan", "mlp"])
def test_concat_discriminator_digit_shapes(base):
    k = 3
    D0 = DCGANDiscriminator(8, 1 + k, 4) if base == "dcgan" else MLPDiscriminator((1 + k, 8, 8), (16,))
    D = ConcatDiscriminator(D0, num_classes=10, embedding_dim=k)
    x, y = mg.randn(6, 1, 8, 8), labels(6, 10)
    assert D(x, y).shape == (6, 1) and D.feature_dim == D0.feature_dim
    h = D.features(x, y)
    assert h.shape == (6, D0.feature_dim) and D.head(h).shape == (6, 1)


def test_concat_discriminator_appends_label_maps_and_features():
    D = ConcatDiscriminator(nn.Identity(), num_classes=4, embedding_dim=2)
    x, y = mg.randn(3, 1, 2, 5), mg.tensor(np.array([2, 0, 2]))
    joined = D(x, y).numpy()
    assert joined.shape == (3, 3, 2, 5)
    np.testing.assert_array_equal(joined[:, :1], x.numpy())
    table = D.embedding.weight.numpy()
    np.testing.assert_array_equal(joined[:, 1:], np.broadcast_to(table[[2, 0, 2], :, None, None], (3, 2, 2, 5)))
    flat = D(mg.randn(3, 4), y).numpy()
    assert flat.shape == (3, 6)
    np.testing.assert_array_equal(flat[:, 4:], table[[2, 0, 2]])
    toy = ConcatDiscriminator(MLPDiscriminator(2 + 2, (8,)), 4, 2)
    assert toy(mg.randn(5, 2), labels(5, 4)).shape == (5, 1)


def test_concat_discriminator_labels_each_sample_before_packing():
    D = ConcatDiscriminator(DCGANDiscriminator(8, 1 + 2, 4, pack=2), 10, 2)
    assert D.pack == 2 and D(mg.randn(6, 1, 8, 8), labels(6, 10)).shape == (3, 1)


@pytest.mark.parametrize("base", ["dcgan", "mlp", "mlp-2d"])
def test_projection_and_auxiliary_classifier_shapes(base):
    D0 = {"dcgan": lambda: DCGANDiscriminator(8, 1, 4), "mlp": lambda: MLPDiscriminator((1, 8, 8), (16,)),
          "mlp-2d": lambda: MLPDiscriminator(2, (8, 8))}[base]
    x = mg.randn(4, 2) if base == "mlp-2d" else mg.randn(4, 1, 8, 8)
    P = ProjectionDiscriminator(D0(), num_classes=10)
    assert P(x, labels(4, 10)).shape == (4, 1) and P.features(x).shape == (4, P.feature_dim)
    A = AuxiliaryClassifierDiscriminator(D0(), num_classes=10)
    adversarial, logits = A(x)
    assert adversarial.shape == (4, 1) and logits.shape == (4, 10) and A.features(x).shape == (4, A.feature_dim)
    A.eval()  # batch norm on running statistics, so two calls give the same
    np.testing.assert_array_equal(A(x)[0].numpy(), A.base(x).numpy())  # the base's own logit, bit for bit


def test_auxiliary_head_and_base_share_the_body():
    A = AuxiliaryClassifierDiscriminator(MLPDiscriminator(2, (8,)), 3)
    _, logits = A(mg.randn(4, 2))
    logits.sum().backward()
    assert A.base.net[0].weight.grad is not None and A.base.net[-1].weight.grad is None  # body yes, psi no


@pytest.mark.parametrize("categories, continuous, learn_std", [(10, 2, False), (10, 0, False), (0, 3, True),
                                                               (4, 1, True)])
def test_latent_code_head_outputs(categories, continuous, learn_std):
    D = DCGANDiscriminator(8, 1, 4)
    Q = LatentCodeHead.for_discriminator(D, categories, continuous, hidden=16, learn_std=learn_std)
    logits, mean, log_std = Q(D.features(mg.randn(5, 1, 8, 8)))
    assert (logits is None) == (categories == 0) and (mean is None) == (continuous == 0)
    assert (log_std is None) == (not learn_std)
    assert logits is None or logits.shape == (5, categories)
    assert mean is None or mean.shape == (5, continuous)
    assert log_std is None or log_std.shape == (5, continuous)
    assert [type(m) for m in Q.net] == [nn.Linear, nn.LeakyReLU, nn.Linear] and Q.net[1].negative_slope == 0.2
    assert Q.net[2].out_features == categories + continuous * (2 if learn_std else 1)


# -- the projection formula --------------------------------------------------------------------------

def test_projection_matches_a_direct_numpy_computation():
    base = MLPDiscriminator(3, (5,))
    P = ProjectionDiscriminator(base, num_classes=4).double()
    x, y = np.random.default_rng(1).normal(size=(6, 3)), np.array([0, 3, 1, 3, 2, 0])
    (W1, b1), (w2, b2) = [(m.weight.numpy(), m.bias.numpy()) for m in (base.net[0], base.net[2])]
    a = x @ W1.T + b1
    h = np.where(a > 0, a, 0.2 * a)                                    # phi(x)
    E = P.embedding.weight.numpy()
    expected = h @ w2.T + b2 + (E[y] * h).sum(axis=1, keepdims=True)  # psi(phi(x)) + <E_y, phi(x)>
    np.testing.assert_allclose(P(mg.tensor(x), mg.tensor(y)).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_projection_on_a_dcgan_body():
    P = ProjectionDiscriminator(DCGANDiscriminator(8, 1, 4), 10).eval()
    x, y = mg.randn(4, 1, 8, 8), labels(4, 10)
    h = P.features(x).numpy()
    psi = P.base(x).numpy()
    expected = psi + (P.embedding.weight.numpy()[y.numpy()] * h).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(P(x, y).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_projection_table_starts_at_the_scale_of_psi():
    D0 = DCGANDiscriminator(28, 1, 16)
    P = ProjectionDiscriminator(D0, 10)
    bound = 1 / math.sqrt(D0.feature_dim)
    table = P.embedding.weight.numpy()
    assert np.abs(table).max() <= bound and table.std() > 0.5 * bound / math.sqrt(3)
    x, y = mg.randn(64, 1, 28, 28), labels(64, 10)
    with mg.no_grad():
        h = P.features(x)
        psi = P.base.head(h).numpy()
        projection = P(x, y).numpy() - psi
    assert projection.std() < 3 * psi.std()  # the label term does not swamp psi at the start


def test_spectrally_normalised_projection_table():
    P = ProjectionDiscriminator(MLPDiscriminator(2, (8,), spectral_norm=True), 5, spectral_norm=True)
    assert {"embedding.weight_orig", "embedding.weight_u", "embedding.weight_v"} <= set(P.state_dict())
    for _ in range(20):  # one power iteration per training call
        assert P(mg.randn(3, 2), labels(3, 5)).shape == (3, 1)
    assert np.linalg.norm(P.embedding.weight.numpy(), 2) == pytest.approx(1.0, rel=1e-3)
    A = AuxiliaryClassifierDiscriminator(MLPDiscriminator(2, (8,)), 5, spectral_norm=True)
    assert "classifier.weight_orig" in A.state_dict()


# -- gradients (float64, tiny networks) ------------------------------------------------------------

sizes = st.fixed_dictionaries({"n": st.integers(2, 3), "classes": st.integers(2, 4), "embed": st.integers(1, 3),
                               "width": st.integers(2, 4), "dim": st.integers(1, 3), "seed": st.integers(0, 99)})


@few
@given(s=sizes)
def test_conditional_generator_gradients(s):
    G = ConditionalGenerator(MLPGenerator(s["dim"] + s["embed"], (1, 2, 2), hidden=(s["width"],),
                                          activation_fn="tanh"), s["classes"], s["embed"])
    check_gradients(G, x64(s["n"], s["dim"], seed=s["seed"]), labels(s["n"], s["classes"], s["seed"]))


@few
@given(s=sizes, image=st.booleans())
def test_concat_discriminator_gradients(s, image):
    shape = (1, 2, s["dim"]) if image else (s["dim"],)
    joined = (1 + s["embed"], 2, s["dim"]) if image else (s["dim"] + s["embed"],)
    D = ConcatDiscriminator(MLPDiscriminator(joined, (s["width"],)), s["classes"], s["embed"])
    x, y = x64(s["n"], *shape, seed=s["seed"]), labels(s["n"], s["classes"], s["seed"])
    check_gradients(D, x, y)
    check_gradients(Call(D, "features"), x, y)


@few
@given(s=sizes, image=st.booleans())
def test_joint_discriminator_gradients_reach_the_sample_and_the_latent(s, image):
    """BiGAN's D(x, z): the latent joins as features or constant maps, and both arguments get gradients."""
    shape = (1, 2, s["dim"]) if image else (s["dim"],)
    joined = (1 + s["embed"], 2, s["dim"]) if image else (s["dim"] + s["embed"],)
    D = JointDiscriminator(MLPDiscriminator(joined, (s["width"],)), s["embed"])
    check_gradients(D, x64(s["n"], *shape, seed=s["seed"]), x64(s["n"], s["embed"], seed=s["seed"] + 1))


def test_joint_discriminator_refuses_latents_of_the_wrong_shape():
    D = JointDiscriminator(MLPDiscriminator(3 + 2, (4,)), 2)
    with pytest.raises(ValueError, match=r"latents of shape \(5, 2\) for 5 samples, got \(5, 3\)"):
        D(mg.zeros(5, 3), mg.zeros(5, 3))


@few
@given(s=sizes, minibatch_std=st.booleans())
def test_projection_discriminator_gradients(s, minibatch_std):
    D = ProjectionDiscriminator(MLPDiscriminator(s["dim"], (s["width"],), minibatch_std=minibatch_std), s["classes"])
    check_gradients(D, x64(s["n"], s["dim"], seed=s["seed"]), labels(s["n"], s["classes"], s["seed"]))


@few
@given(s=sizes)
def test_auxiliary_classifier_gradients(s):
    D = AuxiliaryClassifierDiscriminator(MLPDiscriminator((1, 2, s["dim"]), (s["width"], s["width"])), s["classes"])
    check_gradients(D, x64(s["n"], 1, 2, s["dim"], seed=s["seed"]))


@few
@given(s=sizes, categories=st.sampled_from([0, 2, 3]), continuous=st.integers(0, 2), learn_std=st.booleans())
def test_latent_code_head_gradients(s, categories, continuous, learn_std):
    continuous = max(continuous, 1) if learn_std or not categories else continuous
    Q = LatentCodeHead(s["dim"], categories, continuous, hidden=s["width"], learn_std=learn_std)
    check_gradients(Q, x64(s["n"], s["dim"], seed=s["seed"]))


@few
@given(s=sizes)
def test_body_and_head_gradients(s):
    D = MLPDiscriminator((1, 2, s["dim"]), (s["width"],), minibatch_std=True)
    x = x64(s["n"], 1, 2, s["dim"], seed=s["seed"])
    check_gradients(Call(D, "features"), x)
    check_gradients(Call(D, "head"), x64(s["n"], D.feature_dim, seed=s["seed"] + 1))


def test_gradients_through_dcgan_bodies():
    """One fixed case per convolutional path: label maps into a conv D, a projection on its flattened map, G."""
    y = labels(2, 3)
    concat = ConcatDiscriminator(DCGANDiscriminator(8, 1 + 1, 1, batch_norm=False), 3, 1)
    check_gradients(concat, x64(2, 1, 8, 8), y)
    projection = ProjectionDiscriminator(DCGANDiscriminator(8, 1, 1, minibatch_std=True), 3)
    check_gradients(projection, x64(2, 1, 8, 8), y)
    check_gradients(Call(projection.base, "head"), x64(2, projection.feature_dim))
    G = ConditionalGenerator(DCGANGenerator(3, 8, 1, 1, batch_norm=False), 3, 1)
    check_gradients(G, x64(2, 2), y)


# -- errors ------------------------------------------------------------------------------------------

def conditional_calls():
    x = mg.randn(4, 1, 8, 8)
    return {
        "ConditionalGenerator": lambda y: ConditionalGenerator(DCGANGenerator(6, 8, 1, 2), 3, 2)(mg.randn(4, 4), y),
        "ConcatDiscriminator": lambda y: ConcatDiscriminator(DCGANDiscriminator(8, 1 + 2, 2), 3, 2)(x, y),
        "ProjectionDiscriminator": lambda y: ProjectionDiscriminator(DCGANDiscriminator(8, 1, 2), 3)(x, y),
    }


@pytest.mark.parametrize("owner", list(conditional_calls()))
@pytest.mark.parametrize("bad, received", [(np.zeros((4, 1), np.int64), r"\(4, 1\)"),
                                           (np.zeros(3, np.int64), r"\(3,\)"),
                                           (np.zeros(4), r"\(4,\) and dtype float64"),
                                           (np.zeros((), np.int64), r"\(\)")])
def test_labels_must_be_one_integer_per_sample(owner, bad, received):
    call = conditional_calls()[owner]
    with pytest.raises(ValueError, match=rf"{owner}: labels must be integer class indices of shape \(4,\).*got shape "
                                         rf"{received}"):
        call(mg.tensor(bad))
    with pytest.raises(ValueError, match=owner):
        call(bad)  # an array as well as a Tensor
    assert call(mg.tensor(np.array([0, 1, 2, 1]))).shape[0] == 4


@pytest.mark.parametrize("make", [lambda: DCGANDiscriminator(8, 1, 4, pack=2),
                                  lambda: MLPDiscriminator(2, (8,), pack=4)])
def test_one_output_per_sample_refuses_packing(make):
    for build, owner in [(lambda D: ProjectionDiscriminator(D, 3), "ProjectionDiscriminator"),
                         (lambda D: AuxiliaryClassifierDiscriminator(D, 3), "AuxiliaryClassifierDiscriminator"),
                         (lambda D: LatentCodeHead.for_discriminator(D, 3, 1), "LatentCodeHead")]:
        with pytest.raises(ValueError, match=rf"{owner}: needs one discriminator output per sample.*packs "):
            build(make())


def test_bad_arguments():
    with pytest.raises(ValueError, match="ConditionalGenerator: the base generator's latent_dim 4 must exceed"):
        ConditionalGenerator(MLPGenerator(4, 2), 3, 4)
    with pytest.raises(ValueError, match=r"ConditionalGenerator: expected z of shape \(N, 2\), got \(3, 4\)"):
        ConditionalGenerator(MLPGenerator(4, 2), 3, 2)(mg.randn(3, 4), labels(3, 3))
    with pytest.raises(ValueError, match="ConcatDiscriminator: num_classes must be a positive integer"):
        ConcatDiscriminator(MLPDiscriminator(3, (4,)), 0, 1)
    with pytest.raises(ValueError, match="ConcatDiscriminator: expected samples"):
        ConcatDiscriminator(nn.Identity(), 3, 1)(mg.randn(3), labels(3, 3))
    with pytest.raises(TypeError, match="ProjectionDiscriminator: .* has no features, head, feature_dim"):
        ProjectionDiscriminator(nn.Linear(3, 1), 3)
    with pytest.raises(ValueError, match="LatentCodeHead: needs at least one code"):
        LatentCodeHead(8, 0, 0)
    with pytest.raises(ValueError, match="LatentCodeHead: categories must be a non-negative integer"):
        LatentCodeHead(8, -1, 2)
    with pytest.raises(ValueError, match="at least 2 categories"):
        LatentCodeHead(8, 1, 0)
    with pytest.raises(ValueError, match="learn_std=True needs continuous codes"):
        LatentCodeHead(8, 10, 0, learn_std=True)
    with pytest.raises(ValueError, match=r"LatentCodeHead: expected features of shape \(N, 8\), got \(3, 7\)"):
        LatentCodeHead(8, 10, 2)(mg.randn(3, 7))
