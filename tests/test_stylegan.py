"""StyleGAN: the style layers (values and gradients), the mapping and synthesis networks, style mixing in the
objectives and in the picture, and a short run."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_games import tiny_game

import minigan as mg
from minigan import nn
from minigan.models import MappingNetwork, StyleGenerator, style_plan
from minigan.registry import ConfigError
from minigan.runner import run_training
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst
from minigan.train import config as cfg
from minigan.train.setup import build_data, build_game

checks = settings(max_examples=8, deadline=None)


def tensor(array, requires_grad=True):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def with_parameters(module, *inputs):
    """``module(*inputs)`` as a function of the inputs and of every parameter (float64 copies put in their slots)."""
    module.double()
    named = list(module.named_parameters())

    def run(*args):
        for (name, _), p in zip(named, args[len(inputs):]):
            *path, leaf = name.split(".")
            owner = module
            for part in path:
                owner = getattr(owner, part)
            owner._parameters[leaf] = p
        return module(*args[:len(inputs)])

    return run, [*inputs, *(p for _, p in named)]


def tiny_stylegan(*extra: str, model: str = "mlp"):
    return tiny_game("stylegan-digits", "model.g_width=2", "model.latent_dim=3", "game.w_dim=4", *extra,
                     model=model)[0]


# -- the layers ---------------------------------------------------------------------------------------------------

@checks
@given(n=st.integers(1, 3), c=st.integers(1, 4), side=st.integers(1, 3), data=st.data())
def test_pixel_norm_scales_to_unit_rms_and_its_derivatives_check(n, c, side, data):
    x = tensor(data.draw(mst.arrays((n, c, side, side), min_value=0.2, max_value=3.0)))
    y = nn.PixelNorm()(x).numpy()
    np.testing.assert_allclose((y ** 2).mean(axis=1), 1.0, rtol=1e-6)
    gradcheck(nn.PixelNorm(), [x])
    gradgradcheck(nn.PixelNorm(), [x])


@checks
@given(n=st.integers(1, 3), fan_in=st.integers(1, 4), fan_out=st.integers(1, 4),
       lr_multiplier=st.sampled_from([1.0, 0.1]), bias_init=st.sampled_from([0.0, 1.0]), data=st.data())
def test_equalized_linear_is_the_scaled_affine_map_and_its_gradients_check(n, fan_in, fan_out, lr_multiplier,
                                                                           bias_init, data):
    mg.manual_seed(data.draw(st.integers(0, 99)))
    layer = nn.EqualizedLinear(fan_in, fan_out, bias_init=bias_init, lr_multiplier=lr_multiplier)
    x = tensor(data.draw(mst.arrays((n, fan_in))))
    w, b = layer.weight.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)
    np.testing.assert_allclose(b * lr_multiplier, bias_init)
    expected = x.numpy() @ w.T * lr_multiplier / np.sqrt(fan_in) + b * lr_multiplier
    np.testing.assert_allclose(layer.double()(x).numpy(), expected, rtol=1e-12, atol=1e-12)
    gradcheck(*with_parameters(layer, x))


def modulated_reference(x, style, weight, demodulate, eps=1e-8):
    """StyleGAN2's grouped form, one sample at a time: the weight scaled by the style, demodulated, convolved."""
    out, _, k, _ = weight.shape
    pad = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    y = np.zeros((x.shape[0], out, *x.shape[2:]))
    for n in range(x.shape[0]):
        w = weight * style[n][None, :, None, None]
        if demodulate:
            w = w / np.sqrt((w ** 2).sum(axis=(1, 2, 3), keepdims=True) + eps)
        for i in range(x.shape[2]):
            for j in range(x.shape[3]):
                y[n, :, i, j] = np.einsum("oikl,ikl->o", w, xp[n, :, i:i + k, j:j + k])
    return y


@checks
@given(n=st.integers(1, 3), cin=st.integers(1, 3), cout=st.integers(1, 3), k=st.sampled_from([1, 3]),
       side=st.integers(1, 4), style_dim=st.integers(1, 3), demodulate=st.booleans(), data=st.data())
def test_modulated_conv_is_the_per_sample_demodulated_convolution_and_its_gradients_check(
        n, cin, cout, k, side, style_dim, demodulate, data):
    mg.manual_seed(data.draw(st.integers(0, 99)))
    layer = nn.ModulatedConv2d(cin, cout, k, style_dim, demodulate=demodulate).double()
    x, w = tensor(data.draw(mst.arrays((n, cin, side, side)))), tensor(data.draw(mst.arrays((n, style_dim))))
    style = layer.affine(w).numpy()
    expected = modulated_reference(x.numpy(), style, layer.weight.numpy() * layer.scale, demodulate)
    np.testing.assert_allclose(layer(x, w).numpy(), expected, rtol=1e-9, atol=1e-12)
    gradcheck(*with_parameters(layer, x, w))


def test_modulated_conv_demodulation_keeps_unit_variance_and_second_derivatives_check():
    mg.manual_seed(0)
    layer = nn.ModulatedConv2d(16, 8, 3, 4)
    y = layer(mg.randn(64, 16, 6, 6), mg.randn(64, 4) * 3).numpy()[:, :, 1:-1, 1:-1]  # away from the zero padding
    assert y.std() == pytest.approx(1.0, abs=0.1)
    small = nn.ModulatedConv2d(2, 2, 3, 2)
    gradgradcheck(*with_parameters(small, tensor(np.random.default_rng(0).standard_normal((2, 2, 3, 3))),
                                   tensor(np.random.default_rng(1).standard_normal((2, 2)))))


def test_modulated_conv_refuses_bad_input():
    layer = nn.ModulatedConv2d(3, 2, 3, 4)
    with pytest.raises(ValueError, match=r"ModulatedConv2d: expected input \(N, 3, H, W\), got \(2, 4, 5, 5\)"):
        layer(mg.randn(2, 4, 5, 5), mg.randn(2, 4))
    with pytest.raises(ValueError, match=r"expected styles \(2, 4\) for 2 inputs, got \(3, 4\)"):
        layer(mg.randn(2, 3, 5, 5), mg.randn(3, 4))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        nn.ModulatedConv2d(3, 2, 2, 4)


@checks
@given(n=st.integers(1, 3), c=st.integers(1, 3), side=st.integers(1, 3), seed=st.integers(0, 99), data=st.data())
def test_noise_injection_adds_scaled_noise_and_its_gradients_check(n, c, side, seed, data):
    layer = nn.NoiseInjection(c).double()
    x = tensor(data.draw(mst.arrays((n, c, side, side))))
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())  # strength 0 at the start
    layer.weight = nn.Parameter(tensor(data.draw(mst.arrays((c,)))))
    noise = tensor(data.draw(mst.arrays((n, 1, side, side))), requires_grad=False)
    expected = x.numpy() + layer.weight.numpy()[None, :, None, None] * noise.numpy()
    np.testing.assert_allclose(layer(x, noise).numpy(), expected, rtol=1e-12)

    def drawn(x, weight):  # noise from the default generator, re-seeded so every evaluation draws the same
        mg.manual_seed(seed)
        layer._parameters["weight"] = weight
        return layer(x)

    gradcheck(drawn, [x, layer.weight])
    with pytest.raises(ValueError, match=rf"expected noise \({n}, 1, {side}, {side}\)"):
        layer(x, mg.zeros(n, 2, side, side, dtype=np.float64))


# -- the networks ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [8, 16, 28, 32])
def test_style_generator_makes_images_of_each_supported_size_from_its_layers_styles(size):
    mg.manual_seed(0)
    G = StyleGenerator(latent_dim=3, image_size=size, channels=3, width=2, w_dim=4, mapping_depth=1)
    start, ups = style_plan(size)
    assert G.num_ws == 2 * ups + 2 and G.coarse_ws == 2 * ups - 1
    assert G.noise_dim == start ** 2 + 2 * sum((start * 2 ** i) ** 2 for i in range(1, ups + 1))
    images = G(mg.randn(2, 3)).numpy()
    assert images.shape == (2, 3, size, size) and np.abs(images).max() <= 1


def test_style_generator_forward_is_synthesis_of_one_w_for_every_layer_and_mixing_changes_it():
    mg.manual_seed(0)
    G = StyleGenerator(latent_dim=3, image_size=8, width=2, w_dim=4, mapping_depth=2)
    z, other, noise = mg.randn(2, 3), mg.randn(2, 3), mg.randn(2, G.noise_dim)
    w = G.mapping(z)
    np.testing.assert_array_equal(G(z, noise).numpy(), G.synthesis(G.mix(w, w, 2), noise).numpy())
    ws = G.mix(w, G.mapping(other), G.coarse_ws).numpy()
    np.testing.assert_array_equal(ws[:, :G.coarse_ws], np.repeat(w.numpy()[:, None], G.coarse_ws, 1))
    assert not np.allclose(ws[:, -1], w.numpy())
    assert not np.allclose(G.synthesis(mg.tensor(ws), noise).numpy(), G(z, noise).numpy())


def test_mapping_network_pixel_normalises_z_first():
    mg.manual_seed(0)
    f = MappingNetwork(3, 4, depth=2)
    z = mg.randn(5, 3)
    np.testing.assert_allclose(f(z * 7.0).numpy(), f(z).numpy(), rtol=1e-5, atol=1e-6)


def test_style_networks_refuse_bad_input():
    G = StyleGenerator(latent_dim=3, image_size=8, width=2, w_dim=4, mapping_depth=1)
    with pytest.raises(ValueError, match=r"MappingNetwork: expected latents \(N, 3\), got \(2, 4\)"):
        G(mg.randn(2, 4))
    with pytest.raises(ValueError, match=r"synthesis: expected ws \(N, 6, 4\), got \(2, 5, 4\)"):
        G.synthesis(mg.randn(2, 5, 4))
    with pytest.raises(ValueError, match=rf"expected noise \(2, {G.noise_dim}\), got \(2, 3\)"):
        G(mg.randn(2, 3), mg.randn(2, 3))
    with pytest.raises(ValueError, match=r"cutoff must lie in \[0, 6\]"):
        G.mix(mg.randn(2, 4), mg.randn(2, 4), 7)
    with pytest.raises(ValueError, match="supports image sizes"):
        StyleGenerator(image_size=12)
    with pytest.raises(ValueError, match="depth must be at least 1"):
        MappingNetwork(3, 4, depth=0)


# -- the game ------------------------------------------------------------------------------------------------------

def test_fakes_are_style_mixed_with_the_mixing_probability():
    game = tiny_stylegan("game.mixing=1.0")
    mg.manual_seed(3)
    mixed = game.fake(2).numpy()
    mg.manual_seed(3)
    assert mg.rand(1).item() < 1.0
    cutoff = mg.randint(1, game.G.num_ws, ()).item()
    coarse, fine = game.G.mapping(game.z(2)), game.G.mapping(game.z(2))
    np.testing.assert_array_equal(mixed, game.G.synthesis(game.G.mix(coarse, fine, cutoff)).numpy())

    game = tiny_stylegan("game.mixing=0.0")
    mg.manual_seed(3)
    plain = game.fake(2).numpy()
    mg.manual_seed(3)
    mg.rand(1)
    np.testing.assert_array_equal(plain, game.G(game.z(2)).numpy())


def test_objectives_are_the_adversarial_loss_on_the_style_mixed_fakes_and_reach_every_weight_of_g():
    game = tiny_stylegan("game.mixing=0.5")
    batch = game.data.loader.next_batch()
    x = batch.x[:3].double()
    batch = type(batch)(x, None)
    for seed in range(4):  # mixed batches and plain ones
        mg.manual_seed(seed)
        d_value = game.d_objective(batch).loss.item()
        mg.manual_seed(seed)
        g_value = game.g_objective(batch).loss.item()
        mg.manual_seed(seed)
        with mg.no_grad():
            real_out, fake_out = game.D(x).numpy(), game.D(game.fake(3)).numpy()
        assert d_value == pytest.approx(np.logaddexp(0, -real_out).mean() + np.logaddexp(0, fake_out).mean(),
                                        rel=1e-12)
        assert g_value == pytest.approx(np.logaddexp(0, -fake_out).mean(), rel=1e-12)
    game.D.requires_grad_(False)
    game.g_objective(batch).loss.backward()
    for name, p in game.G.named_parameters():
        assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, name


def test_sampling_draws_the_noise_from_the_generator_given():
    game = tiny_stylegan()
    np.testing.assert_array_equal(game.sample(3, mg.Generator(1)), game.sample(3, mg.Generator(1)))
    z = np.zeros((3, game.latent_dim))
    for layer in game.G.layers:  # the noise strengths start at 0: give the noise a part to play
        nn.init.constant_(layer.noise.weight, 0.5)
    assert not np.allclose(game.sample(3, z=z), game.sample(3, z=z, noise=np.ones((3, game.G.noise_dim))))
    with pytest.raises(ValueError, match=rf"noise must have shape \(3, {game.G.noise_dim}\)"):
        game.sample(3, noise=np.zeros((3, 2)))


def test_the_picture_is_the_style_mixing_grid_with_its_sources_on_top_and_left():
    game = tiny_stylegan()
    grid, side = game.sample_grid(16, mg.Generator(0))
    assert side == 4 and grid.shape == (16, 1, 8, 8)
    cells = grid.reshape(4, 4, 1, 8, 8)
    np.testing.assert_array_equal(cells[0, 0], -1.0)
    generator = mg.Generator(0)
    rows, columns = np.split(game.z(6, generator).numpy(), 2)
    noise = mg.randn(1, game.G.noise_dim, generator=generator, dtype=game.dtype).numpy().repeat(3, 0)
    np.testing.assert_allclose(cells[0, 1:], game.sample(3, z=columns, noise=noise), rtol=1e-12)
    np.testing.assert_allclose(cells[1:, 0], game.sample(3, z=rows, noise=noise), rtol=1e-12)
    np.testing.assert_allclose(cells[2, 1:], game.mixed(np.repeat(rows[1:2], 3, 0), columns, noise), rtol=1e-12)
    assert not np.allclose(cells[1, 1], cells[1, 2]) and not np.allclose(cells[1, 1], cells[2, 1])
    with pytest.raises(ValueError, match=r"mixed\(\) takes two latents of shape \(n, 3\)"):
        game.mixed(rows, columns[:2])


def test_sampling_and_the_picture_leave_the_default_generator_alone():
    """So that drawing pictures during training does not change the run."""
    game = tiny_stylegan()
    mg.manual_seed(5)
    expected = mg.rand(3).numpy()
    mg.manual_seed(5)
    game.sample_grid(9, mg.Generator(0))
    game.sample(2, mg.Generator(0))
    np.testing.assert_array_equal(mg.rand(3).numpy(), expected)


def test_the_picture_uses_the_sampling_copy_of_g():
    game = tiny_stylegan()
    own = game.sample_grid(9, mg.Generator(0))[0]
    mg.manual_seed(1)
    game.averaged["G"] = StyleGenerator(3, 8, 1, 2, 4, 2).double()  # as the trainer's EMA copy
    averaged = game.sample_grid(9, mg.Generator(0))[0]
    assert not np.allclose(averaged, own)
    game.G = StyleGenerator(3, 8, 1, 2, 4, 2).double()  # the trained network no longer matters
    np.testing.assert_array_equal(game.sample_grid(9, mg.Generator(0))[0], averaged)


@pytest.mark.parametrize("extra,message", [
    (["data.name=ring8"], "makes square images"),
    (["loss.name=ebgan"], "set game.name = 'ebgan'"),
    (["game.mixing=1.5"], "mixing"),
])
def test_stylegan_refuses_settings_it_cannot_play(extra, message):
    with pytest.raises(ConfigError, match=message):
        config = cfg.apply_overrides(cfg.load_recipe("stylegan-digits"), extra)
        build_game(config, build_data(config))


def test_a_short_run_writes_the_style_mixing_picture(tmp_path):
    config = cfg.apply_overrides(cfg.load_recipe("stylegan-digits"), [
        "model.g_width=2", "model.d_width=4", "model.latent_dim=4", "game.w_dim=4", "train.steps=3",
        "train.sample_every=3", "train.checkpoint_every=3", "train.n_samples=16"])
    run_training(config, tmp_path, progress=False)
    assert (tmp_path / "samples.png").is_file()
    records = [line for line in (tmp_path / "metrics.jsonl").read_text().splitlines() if line]
    assert '"d_loss"' in records[-1] and '"g_loss"' in records[-1]
