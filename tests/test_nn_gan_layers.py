"""Spectral normalisation and the GAN layers (minibatch std-dev, minibatch discrimination, self-attention)."""

import numpy as np
import pytest
from test_nn_module import module_gradchecks

import minigan as mg
from minigan import nn
from minigan.nn.utils import remove_spectral_norm, spectral_norm
from minigan.testing import gradcheck, gradgradcheck


def leaf(*shape, seed=0, requires_grad=True):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


# -- spectral normalisation --------------------------------------------------------------------------

LAYERS = {
    "linear": (lambda: nn.Linear(5, 4), (3, 5), 0),
    "conv": (lambda: nn.Conv2d(2, 3, (2, 3), stride=2, padding=1), (2, 2, 4, 5), 0),
    "conv_transpose": (lambda: nn.ConvTranspose2d(3, 2, (3, 2), stride=2, padding=1, output_padding=1),
                       (2, 3, 3, 2), 1),
}


def matrix(weight, dim):
    """The weight as the matrix spectral norm sees: dimension ``dim`` as rows."""
    w = np.moveaxis(np.asarray(weight), dim, 0)
    return w.reshape(w.shape[0], -1)


@pytest.mark.parametrize("kind", LAYERS)
def test_spectral_norm_converges_to_unit_largest_singular_value(kind):
    make, shape, dim = LAYERS[kind]
    layer = spectral_norm(make())
    x = mg.randn(*shape)
    for _ in range(200):
        layer(x)  # training mode: one power iteration per forward
    sigma = np.linalg.svd(matrix(layer.weight.numpy(), dim), compute_uv=False)
    assert sigma[0] == pytest.approx(1.0, abs=1e-3)
    raw = np.linalg.svd(matrix(layer.weight_orig.numpy(), dim), compute_uv=False)[0]
    np.testing.assert_allclose(layer.weight.numpy() * raw, layer.weight_orig.numpy(), rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("kind", LAYERS)
def test_spectral_norm_state_and_eval_mode(kind):
    make, shape, dim = LAYERS[kind]
    layer = spectral_norm(make())
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]  # torch's keys and order
    rows, cols = matrix(layer.weight_orig.numpy(), dim).shape
    assert layer.weight_u.shape == (rows,) and layer.weight_v.shape == (cols,)
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    x = mg.randn(*shape)
    layer(x)
    u, v = layer.weight_u.numpy().copy(), layer.weight_v.numpy().copy()
    layer.eval()
    first = layer(x).numpy()
    np.testing.assert_array_equal(layer(x).numpy(), first)
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)
    np.testing.assert_array_equal(layer.weight_v.numpy(), v)
    sigma = u @ matrix(layer.weight_orig.numpy(), dim) @ v
    np.testing.assert_allclose(layer.weight.numpy(), layer.weight_orig.numpy() / sigma, rtol=1e-5)
    layer.train()(x)
    assert not np.array_equal(layer.weight_u.numpy(), u)

    fresh = spectral_norm(make()).eval()
    fresh.load_state_dict(layer.state_dict())
    np.testing.assert_allclose(fresh(x).numpy(), layer.eval()(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("kind", LAYERS)
def test_spectral_norm_gradients_with_respect_to_weight_orig(kind):
    make, shape, _ = LAYERS[kind]
    layer = spectral_norm(make(), n_power_iterations=3)
    layer(mg.randn(*shape))
    module_gradchecks(layer.eval(), leaf(*shape))  # eval: u and v stay fixed


def test_spectral_norm_gradient_formula():
    r""":math:`\bar W = (\bar W_{SN} - (\bar W_{SN} \cdot W_{SN})\, u v^\top) / \sigma` for a Linear weight."""
    layer = spectral_norm(nn.Linear(4, 3).double()).eval()
    g = np.random.default_rng(1).standard_normal((3, 4))
    layer(leaf(2, 4))
    (layer.weight * mg.tensor(g)).sum().backward()
    w, u, v = layer.weight_orig.numpy(), layer.weight_u.numpy(), layer.weight_v.numpy()
    sigma = u @ w @ v
    expected = (g - (g * (w / sigma)).sum() * np.outer(u, v)) / sigma
    np.testing.assert_allclose(layer.weight_orig.grad.numpy(), expected, rtol=1e-10)


def test_spectral_norm_options_and_removal():
    layer = spectral_norm(nn.Linear(5, 4), n_power_iterations=0)
    u = layer.weight_u.numpy().copy()
    layer(mg.randn(2, 5))
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)  # no iteration asked for
    with pytest.raises(RuntimeError, match="already"):
        spectral_norm(layer)
    with pytest.raises(ValueError, match="no parameter 'kernel'"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(ValueError, match="n_power_iterations"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=-1)
    normalised = layer.weight.numpy().copy()
    remove_spectral_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"] and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.numpy(), normalised, rtol=1e-6)
    with pytest.raises(ValueError, match="not found"):
        remove_spectral_norm(layer)


def test_spectral_norm_in_a_model_trains_and_converts_dtype():
    D = nn.Sequential(spectral_norm(nn.Conv2d(1, 2, 3)), nn.LeakyReLU(0.2), nn.Flatten(),
                      spectral_norm(nn.Linear(8, 1)))
    D(mg.randn(2, 1, 4, 4)).sum().backward()
    assert D[0].weight_orig.grad.shape == (2, 1, 3, 3) and D[3].weight_u.grad is None
    D.double()
    assert D(mg.randn(2, 1, 4, 4, dtype=mg.float64)).dtype == np.float64
    assert D[3].weight_v.dtype == np.float64


# -- minibatch standard deviation ------------------------------------------------------------------

def minibatch_std_reference(x, group):
    n = x.shape[0]
    g = min(group, n)
    y = x.reshape(g, n // g, *x.shape[1:])
    s = np.sqrt(y.var(0) + 1e-8).reshape(n // g, -1).mean(1)  # one value per group
    tile = np.broadcast_to(s.reshape((1, n // g) + (1,) * (x.ndim - 1)), (g, n // g, 1) + x.shape[2:])
    return np.concatenate([x, tile.reshape((n, 1) + x.shape[2:])], 1)


@pytest.mark.parametrize("shape, group", [((4, 2, 3, 2), 2), ((4, 2, 2, 2), 4), ((3, 2, 2, 3), 4), ((6, 3), 3)])
def test_minibatch_stddev(shape, group):
    layer = nn.MinibatchStdDev(group)
    x = leaf(*shape)
    y = layer(x)
    assert y.shape == (shape[0], shape[1] + 1) + shape[2:]
    np.testing.assert_allclose(y.numpy(), minibatch_std_reference(x.numpy(), group), rtol=1e-12)
    module_gradchecks(layer, x)


def test_minibatch_stddev_sees_collapse_and_checks_the_batch():
    same = mg.ones(4, 2, 3, 3) * 0.7
    assert np.allclose(nn.MinibatchStdDev()(same).numpy()[:, 2], 1e-4)  # sqrt(eps): a collapsed batch
    with pytest.raises(ValueError, match="divisible by group size 4"):
        nn.MinibatchStdDev(4)(mg.randn(6, 2))


# -- minibatch discrimination -------------------------------------------------------------------------

def test_minibatch_discrimination():
    layer = nn.MinibatchDiscrimination(3, 4, kernel_dims=2)
    assert layer.T.shape == (3, 4, 2)
    x = leaf(5, 3)
    y = layer.double()(x)
    m = np.einsum("na,abc->nbc", x.numpy(), layer.T.numpy())
    c = np.exp(-np.abs(m[:, None] - m[None]).sum(-1))          # (N, N, B)
    o = c.sum(1) - 1                                            # j != i
    np.testing.assert_allclose(y.numpy(), np.concatenate([x.numpy(), o], 1), rtol=1e-12)
    module_gradchecks(layer, x)
    module_gradchecks(layer, leaf(1, 3, seed=1))  # one sample: nothing to compare with, o = 0
    with pytest.raises(ValueError, match=r"MinibatchDiscrimination: expected input \(N, 3\)"):
        layer(mg.randn(5, 4))


# -- self-attention ------------------------------------------------------------------------------------

def self_attention_reference(layer, x):
    n, c, h, w = x.shape

    def conv1x1(conv):
        return np.einsum("oc,ncl->nol", conv.weight.numpy()[:, :, 0, 0], x.reshape(n, c, h * w)) \
            + conv.bias.numpy()[None, :, None]

    q, k, v = conv1x1(layer.query), conv1x1(layer.key), conv1x1(layer.value)
    s = np.einsum("nci,ncj->nij", q, k)                         # s_ij = f(x_i) . g(x_j)
    beta = np.exp(s - s.max(1, keepdims=True))
    beta /= beta.sum(1, keepdims=True)                          # softmax over i
    o = np.einsum("nci,nij->ncj", v, beta)
    return layer.gamma.numpy() * o.reshape(x.shape) + x


def test_self_attention_starts_as_identity():
    layer = nn.SelfAttention2d(16)
    assert layer.query.weight.shape == (2, 16, 1, 1) and layer.value.weight.shape == (16, 16, 1, 1)
    assert np.all(layer.gamma.numpy() == 0)
    x = mg.randn(2, 16, 3, 3)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


def test_self_attention_forward_and_gradients():
    layer = nn.SelfAttention2d(4, reduction=2).double()
    layer.gamma.data = np.array([0.7])
    x = leaf(2, 4, 2, 3)
    np.testing.assert_allclose(layer(x).numpy(), self_attention_reference(layer, x.numpy()), rtol=1e-10)
    module_gradchecks(layer, x)


def test_gan_layers_support_gradient_penalties():
    """A gradient penalty differentiates D's input gradient again, through every GAN layer."""
    D = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.SelfAttention2d(4, reduction=2),
                      nn.MinibatchStdDev(2), nn.Flatten(), nn.MinibatchDiscrimination(20, 2, 2), nn.Linear(22, 1))
    D.double()[2].gamma.data = np.array([0.5])

    def penalty(x):
        (g,) = mg.grad(D(x).sum(), [x], create_graph=True)
        return ((g * g).sum((1, 2, 3)) - 1) ** 2

    gradcheck(penalty, [leaf(2, 1, 2, 2)], atol=1e-4)
    gradgradcheck(lambda x: D(x), [leaf(2, 1, 2, 2)])
