import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_plan


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
