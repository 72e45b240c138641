"""Reading a self-attention layer's map (SAGAN's beta) and drawing it: the layer's method, minigan.viz's picture,
and the run folder's attention.png."""

import numpy as np
import pytest
from PIL import Image

import minigan as mg
from minigan import nn, viz
from minigan.models import DCGANDiscriminator, DCGANGenerator
from minigan.runner import has_attention, save_attention
from minigan.train import config as cfg
from minigan.train.trainer import Trainer


def direct_attention(layer, x):
    r""":math:`\beta_{j,i} = \mathrm{softmax}_i(f(x)_i^\top g(x)_j)` in NumPy, as ``(N, L_j, L_i)``."""
    n, c, h, w = x.shape

    def conv1x1(conv):
        return np.einsum("oc,ncl->nol", conv.weight.numpy()[:, :, 0, 0], x.reshape(n, c, h * w)) + \
            conv.bias.numpy()[None, :, None]

    f, g = conv1x1(layer.query), conv1x1(layer.key)
    s = np.einsum("nci,ncj->nji", f, g)                          # s[n, j, i] = f_i . g_j
    beta = np.exp(s - s.max(axis=2, keepdims=True))
    return beta / beta.sum(axis=2, keepdims=True)


def test_the_attention_map_has_rows_summing_to_one_and_matches_a_direct_computation():
    mg.manual_seed(0)
    layer = nn.SelfAttention2d(16, reduction=4).double()
    x = mg.randn(3, 16, 4, 5, dtype=np.float64) * 3  # large enough that the maps are far from uniform
    beta = layer.attention(x).numpy()
    assert beta.shape == (3, 20, 20)
    np.testing.assert_allclose(beta.sum(axis=2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(beta, direct_attention(layer, x.numpy()), rtol=1e-10, atol=1e-14)
    assert beta.max() > 5 / 20  # not uniform: the test would not see a transposed map otherwise


def test_the_forward_pass_reads_the_values_through_the_same_map():
    layer = nn.SelfAttention2d(8, reduction=2).double()
    layer.gamma.data = np.array([0.3])
    x = mg.randn(2, 8, 3, 3, dtype=np.float64)
    v = layer.value(x).numpy().reshape(2, 8, 9)
    o = np.einsum("nji,nci->ncj", layer.attention(x).numpy(), v).reshape(2, 8, 3, 3)  # o_j = sum_i beta_ji v_i
    np.testing.assert_allclose(layer(x).numpy(), 0.3 * o + x.numpy(), rtol=1e-12)


def attention_generator(seed: int = 0) -> DCGANGenerator:
    mg.manual_seed(seed)
    G = DCGANGenerator(latent_dim=8, image_size=32, channels=3, width=4, self_attention=True)
    for m in G.modules():  # a trained-looking layer: non-zero gamma and sharper maps
        if isinstance(m, nn.SelfAttention2d):
            m.gamma.data = np.array([0.5], np.float32)
            m.query.weight.data = m.query.weight.numpy() * 20
    return G


def test_attention_maps_run_the_network_once_and_give_each_query_a_map_over_the_feature_map():
    G = attention_generator()
    z = mg.randn(2, 8)
    G.train()
    images, maps = viz.attention_maps(G, z)
    assert G.training and not G.modules().__next__()._forward_pre_hooks  # mode restored, no hook left behind
    assert images.shape == (2, 3, 32, 32) and maps.shape == (2, 16, 16, 16, 16)
    np.testing.assert_allclose(maps.sum(axis=(3, 4)), 1.0, rtol=1e-5)
    G.eval()
    with mg.no_grad():
        np.testing.assert_array_equal(images, G(z).numpy())
    layer = next(m for m in G.modules() if isinstance(m, nn.SelfAttention2d))
    with pytest.raises(ValueError, match="layer 1 out of range"):
        viz.attention_maps(G, z, layer=1)
    with pytest.raises(ValueError, match="has no SelfAttention2d"):
        viz.attention_maps(DCGANGenerator(8, 32, 3, 4), z)
    assert not layer._forward_pre_hooks


def test_self_attention_reads_16x16_feature_maps_in_the_32x32_dcgan_networks():
    G = attention_generator()
    _, maps = viz.attention_maps(G, mg.randn(1, 8))
    assert maps.shape[1:3] == (16, 16)
    D = DCGANDiscriminator(32, 3, 4, batch_norm=False, spectral_norm=True, self_attention=True)
    _, maps = viz.attention_maps(D, mg.randn(1, 3, 32, 32))
    assert maps.shape[1:3] == (16, 16)


def test_the_attention_picture_is_written(tmp_path):
    images, maps = viz.attention_maps(attention_generator(), mg.randn(3, 8))
    path = viz.plot_attention(images, maps, tmp_path / "attention.png", queries=[(0, 0), (31, 17)], title="t")
    with Image.open(path) as picture:
        assert picture.size == (480, 480)  # 3 rows (images) of 3 panels (the image, 2 queries), 160 pixels each
    with Image.open(viz.plot_attention(images[:1], maps[:1], tmp_path / "default.png")) as picture:
        assert picture.size == (800, 160)  # the 4 default queries


@pytest.mark.parametrize("kwargs,message", [
    ({"maps": np.ones((2, 16, 16, 16, 16))}, r"expected images \(N, C, H, W\) and maps"),
    ({"maps": np.ones((3, 16, 16, 8, 8))}, "do not tile"),
    ({"maps": np.ones((3, 5, 5, 5, 5))}, "do not tile"),
    ({"queries": [(32, 0)]}, r"query \(32, 0\) is outside the 32x32 image"),
    ({"queries": []}, "give 1 to 6 queries"),
])
def test_bad_pictures_are_refused_with_one_line(kwargs, message, tmp_path):
    arguments = {"images": np.zeros((3, 3, 32, 32)), "maps": np.ones((3, 16, 16, 16, 16)) / 256, **kwargs}
    with pytest.raises(ValueError, match=message):
        viz.plot_attention(path=tmp_path / "a.png", **arguments)


def test_a_game_with_self_attention_draws_its_generators_attention(tmp_path):
    config = cfg.apply_overrides(cfg.load_recipe("sagan-photos"), ["model.g_width=4", "model.d_width=4"])
    game = Trainer(config).game
    assert has_attention(game)
    assert save_attention(game, tmp_path / "a.png", n=2, seed=3).stat().st_size > 0
    plain = Trainer(cfg.apply_overrides(cfg.load_recipe("dcgan-photos"), ["model.g_width=4", "model.d_width=4"]))
    assert not has_attention(plain.game)
    with pytest.raises(ValueError, match="has no self-attention"):
        save_attention(plain.game, tmp_path / "b.png")
