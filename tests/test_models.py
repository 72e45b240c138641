import copy

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_init_,
                            dcgan_plan)


@pytest.mark.parametrize("size", [8, 16, 28, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_for_every_supported_size(size, channels):
    G = DCGANGenerator(latent_dim=8, image_size=size, channels=channels, width=4)
    D = DCGANDiscriminator(image_size=size, channels=channels, width=4)
    x = G(mg.randn(4, 8))
    assert x.shape == (4, channels, size, size)
    assert float(x.abs().max().item()) <= 1.0  # tanh output
    assert D(x).shape == (4, 1)


def test_dcgan_follows_the_radford_guidelines():
    G, D = DCGANGenerator(8, 28, 1, 8), DCGANDiscriminator(28, 1, 8)
    g_layers, d_layers = list(G.modules()), list(D.modules())
    assert isinstance(g_layers[-1], nn.Tanh) and any(isinstance(m, nn.ReLU) for m in g_layers)
    assert all(m.negative_slope == 0.2 for m in d_layers if isinstance(m, nn.LeakyReLU))
    assert any(isinstance(m, nn.ConvTranspose2d) and m.stride == (2, 2) for m in g_layers)
    assert all(m.stride == (2, 2) for m in d_layers if isinstance(m, nn.Conv2d) and m.kernel_size == (4, 4))
    d_convs = [m for m in D.net if isinstance(m, nn.Conv2d)]
    assert not isinstance(D.net[1], nn.BatchNorm2d) and isinstance(D.net[1], nn.LeakyReLU)  # no BN on D's input
    assert len(d_convs) == 3


def test_dcgan_discriminator_switches():
    x = mg.randn(8, 1, 16, 16)
    plain = DCGANDiscriminator(16, 1, 4, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    sn = DCGANDiscriminator(16, 1, 4, spectral_norm=True)
    assert "net.0.weight_orig" in sn.state_dict()
    assert DCGANDiscriminator(16, 1, 4, minibatch_std=True)(x).shape == (8, 1)
    assert any(isinstance(m, nn.SelfAttention2d) for m in DCGANDiscriminator(16, 1, 4, self_attention=True).modules())
    assert DCGANDiscriminator(16, 1, 4, pack=4)(x).shape == (2, 1)
    with pytest.raises(ValueError, match="multiple of the pack size"):
        DCGANDiscriminator(16, 1, 4, pack=3)(x)
    with pytest.raises(ValueError, match="image sizes"):
        dcgan_plan(12)


def test_mlp_models():
    G = MLPGenerator(4, (1, 8, 8), hidden=(16,), batch_norm=True)
    D = MLPDiscriminator((1, 8, 8), hidden=(16, 16), spectral_norm=True, minibatch_std=True, pack=2)
    x = G(mg.randn(6, 4))
    assert x.shape == (6, 1, 8, 8) and D(x).shape == (3, 1)
    toy = MLPGenerator(2, 2, hidden=(8,), output="linear")(mg.randn(5, 2))
    assert toy.shape == (5, 2) and np.abs(toy.numpy()).max() < 100


def test_packing_groups_consecutive_samples():
    from minigan.models.common import pack_samples

    x = mg.arange(12).reshape(6, 2).float()
    np.testing.assert_array_equal(pack_samples(x, 3).numpy(), np.arange(12).reshape(2, 6))


# -- body and head: D(x) = head(features(x)) ---------------------------------------------------------

BODY_HEAD_CASES = {
    "dcgan-8": (lambda: DCGANDiscriminator(8, 1, 4), (6, 1, 8, 8)),
    "dcgan-8-sn": (lambda: DCGANDiscriminator(8, 1, 4, spectral_norm=True), (6, 1, 8, 8)),
    "dcgan-8-mbstd": (lambda: DCGANDiscriminator(8, 1, 4, minibatch_std=True), (8, 1, 8, 8)),
    "dcgan-8-pack2": (lambda: DCGANDiscriminator(8, 1, 4, pack=2), (6, 1, 8, 8)),
    "dcgan-8-all": (lambda: DCGANDiscriminator(8, 1, 4, batch_norm=False, spectral_norm=True, minibatch_std=True,
                                               self_attention=True, pack=2), (8, 1, 8, 8)),
    "dcgan-28-rgb": (lambda: DCGANDiscriminator(28, 3, 2, minibatch_std=True), (4, 3, 28, 28)),
    "mlp-digits": (lambda: MLPDiscriminator((1, 8, 8), (16, 8)), (6, 1, 8, 8)),
    "mlp-digits-sn-mbstd-pack2": (lambda: MLPDiscriminator((1, 8, 8), (16, 8), spectral_norm=True,
                                                           minibatch_std=True, pack=2), (8, 1, 8, 8)),
    "mlp-2d": (lambda: MLPDiscriminator(2, (8, 8), layer_norm=True), (5, 2)),
    "mlp-2d-sn-pack2": (lambda: MLPDiscriminator(2, (8,), spectral_norm=True, pack=2), (6, 2)),
    "mlp-2d-no-hidden": (lambda: MLPDiscriminator(2, ()), (5, 2)),
}


@pytest.mark.parametrize("case", list(BODY_HEAD_CASES))
@pytest.mark.parametrize("training", [True, False])
def test_head_of_features_is_the_discriminator_to_the_last_bit(case, training):
    make, shape = BODY_HEAD_CASES[case]
    D = make().train(training)
    x = mg.randn(*shape)
    once, split = D, copy.deepcopy(D)  # two copies: each call refines spectral norm's u, v and the BN statistics
    out = once(x)
    h = split.features(x)
    pack = getattr(D, "pack", 1)
    assert h.shape == (shape[0] // pack, D.feature_dim) and out.shape == (shape[0] // pack, 1)
    np.testing.assert_array_equal(split.head(h).numpy(), out.numpy())
    for (name, a), b in zip(once.state_dict().items(), split.state_dict().values()):  # the same state afterwards
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


@pytest.mark.parametrize("size, width, minibatch_std, features", [(8, 4, False, 16 * 1 * 1), (16, 4, True, 9 * 4 * 4),
                                                                  (28, 2, False, 4 * 7 * 7), (32, 2, False, 8 * 4 * 4)])
def test_dcgan_feature_dim_is_the_map_before_the_last_conv(size, width, minibatch_std, features):
    D = DCGANDiscriminator(size, 1, width, minibatch_std=minibatch_std)
    assert D.feature_dim == features
    assert D.features(mg.randn(4, 1, size, size)).shape == (4, features)


def test_body_and_head_leave_names_and_state_dict_keys_unchanged():
    D = DCGANDiscriminator(8, 1, 4, spectral_norm=True)
    assert all(name.startswith("net.") for name in D.state_dict())
    assert "net.8.weight_orig" in D.state_dict()  # the last conv, after three strided convs, two BNs, three LeakyReLUs
    M = MLPDiscriminator(2, (8,))
    assert list(M.state_dict()) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]


def test_head_checks_the_feature_shape():
    with pytest.raises(ValueError, match=r"DCGANDiscriminator.head: expected features of shape \(N, 16\), got \(3, 4"):
        DCGANDiscriminator(8, 1, 4).head(mg.randn(3, 4))
    with pytest.raises(ValueError, match=r"MLPDiscriminator.head: expected features of shape \(N, 8\)"):
        MLPDiscriminator(2, (8,)).head(mg.randn(3, 1, 8))


# -- DCGAN initialisation ----------------------------------------------------------------------------

def test_dcgan_init_draws_weights_and_leaves_embeddings_alone():
    from minigan.models import ProjectionDiscriminator

    D = ProjectionDiscriminator(DCGANDiscriminator(16, 1, 8, spectral_norm=True), 10)
    table = D.embedding.weight.numpy().copy()
    assert D.apply(dcgan_init_) is D
    np.testing.assert_array_equal(D.embedding.weight.numpy(), table)
    weights = np.concatenate([m.weight_orig.numpy().ravel() for m in D.modules() if isinstance(m, nn.Conv2d)])
    assert abs(weights.std() - 0.02) < 0.003 and abs(weights.mean()) < 0.003
    assert all(np.all(m.bias.numpy() == 0) for m in D.modules() if isinstance(m, nn.Conv2d) and m.bias is not None)
    bn = [m for m in D.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bn and all(np.abs(m.weight.numpy() - 1).max() < 0.15 and np.all(m.bias.numpy() == 0) for m in bn)
    G = MLPGenerator(4, 2, hidden=(300,), batch_norm=True, output="linear").apply(dcgan_init_)
    assert abs(G.net[0].weight.numpy().std() - 0.02) < 0.002
    norm = nn.LayerNorm(50, bias=False)
    dcgan_init_(norm)
    assert 0 < np.abs(norm.weight.numpy() - 1).max() < 0.15
