"""pix2pix's networks: the U-Net generator and the PatchGAN discriminator.

Shapes for drawn sizes, the paper's layouts, the skip connections as a path
of information, whole-module gradient checks, the receptive field against
the network's actual dependence, and errors.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_module import module_gradchecks

import minigan as mg
from minigan import nn
from minigan.models import PatchDiscriminator, UNetGenerator, patch_receptive_field


def leaf(*shape, seed=0, requires_grad=True):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


# -- shapes ------------------------------------------------------------------------------------------

@settings(max_examples=20)
@given(levels=st.integers(1, 5), data=st.data(), in_channels=st.integers(1, 3), out_channels=st.integers(1, 3),
       width=st.integers(1, 3), batch=st.integers(1, 3), norm=st.sampled_from(["batch", "instance", "none"]))
def test_unet_maps_an_image_to_an_image_of_the_same_size(levels, data, in_channels, out_channels, width, batch,
                                                         norm):
    size = 2 ** levels
    depth = data.draw(st.none() | st.integers(1, levels), label="depth")
    G = UNetGenerator(in_channels, out_channels, size, width, depth=depth, norm=norm)
    assert G.depth == (levels if depth is None else depth)
    y = G(mg.randn(batch, in_channels, size, size))
    assert y.shape == (batch, out_channels, size, size)
    assert np.abs(y.numpy()).max() <= 1.0  # tanh


@settings(max_examples=20)
@given(layers=st.integers(0, 3), extra=st.tuples(st.integers(0, 9), st.integers(0, 9)), width=st.integers(1, 3),
       in_channels=st.integers(1, 6), norm=st.sampled_from(["batch", "instance", "none"]))
def test_patch_discriminator_gives_one_logit_per_patch(layers, extra, width, in_channels, norm):
    h, w = (3 * 2 ** layers + e for e in extra)  # 3 * 2**L is the smallest input
    D = PatchDiscriminator(in_channels, width, layers, norm)
    out = D(mg.randn(2, in_channels, h, w))
    assert out.shape == (2, 1, h // 2 ** layers - 2, w // 2 ** layers - 2)
    assert out.shape[2:] == (D.output_size(h), D.output_size(w))


def test_conditional_pix2pix_pair():
    G, D = UNetGenerator(3, 2, 16, 2), PatchDiscriminator(3 + 2, 2, 2)
    x = mg.randn(2, 3, 16, 16)
    assert D(mg.cat([x, G(x)], dim=1)).shape == (2, 1, 2, 2)


# -- the paper's layouts -------------------------------------------------------------------------------

def test_unet_follows_the_paper_layout_at_256():
    w = 8  # the paper's width 64, scaled down by 8 to keep the test light
    G = UNetGenerator(3, 3, 256, w)
    enc = [layer[0] for layer in G.encoder]
    assert [c.out_channels // w for c in enc] == [1, 2, 4, 8, 8, 8, 8, 8]  # C64-C128-C256-C512-C512-C512-C512-C512
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in enc)
    normed = [any(isinstance(m, nn.BatchNorm2d) for m in layer) for layer in G.encoder]
    assert normed == [False] + [True] * 6 + [False]  # none on the first layer, none on the 1x1 bottleneck
    assert all(isinstance(layer[-1], nn.LeakyReLU) and layer[-1].negative_slope == 0.2 for layer in G.encoder)
    dec = [layer[0] for layer in G.decoder] + [G.output[0]]
    assert all(isinstance(c, nn.ConvTranspose2d) and c.stride == (2, 2) for c in dec)
    # CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128: channels after concatenation, i.e. what the next layer reads
    assert [c.in_channels // w for c in dec[1:]] == [16, 16, 16, 16, 8, 4, 2]
    assert dec[0].in_channels == 8 * w and G.output[0].out_channels == 3 and isinstance(G.output[1], nn.Tanh)
    dropped = [any(isinstance(m, nn.Dropout) for m in layer) for layer in G.decoder]
    assert dropped == [True] * 3 + [False] * 4
    assert all(m.p == 0.5 for m in G.modules() if isinstance(m, nn.Dropout))
    assert not any(isinstance(m, nn.Dropout) for m in UNetGenerator(3, 3, 256, 1, dropout=0).modules())
    assert any(isinstance(m, nn.InstanceNorm2d) for m in UNetGenerator(3, 3, 8, 1, norm="instance").modules())


def test_patch_discriminator_follows_the_paper_layout():
    D = PatchDiscriminator(6, 64, 3)
    convs = [m for m in D.net if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1]  # C64-C128-C256-C512, then 1 channel
    assert [c.stride for c in convs] == [(2, 2)] * 3 + [(1, 1)] * 2
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert not isinstance(D.net[1], nn.BatchNorm2d)  # no norm on the first layer
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.net) == 3
    assert all(m.negative_slope == 0.2 for m in D.net if isinstance(m, nn.LeakyReLU))
    assert D.receptive_field == 70 and D.output_size(256) == 30  # the 70x70 PatchGAN, a 30x30 map at 256x256


def test_dropout_is_the_generators_noise_in_training_only():
    G = UNetGenerator(1, 1, 8, 4, norm="none")
    x = mg.randn(2, 1, 8, 8)
    assert not np.array_equal(G(x).numpy(), G(x).numpy())
    G.eval()
    np.testing.assert_array_equal(G(x).numpy(), G(x).numpy())


# -- skip connections ----------------------------------------------------------------------------------

def _input_support(fn, x, index):
    """Boolean map over ``x``'s pixels of those that output ``index`` depends on (nonzero gradient)."""
    g, = mg.grad(fn(x)[index], x)
    return np.abs(g.numpy()).sum(axis=(0, 1)) > 0


def test_skip_connections_carry_the_input_to_the_output():
    G = UNetGenerator(1, 1, 16, 2, norm="none").double().eval()
    x = leaf(1, 1, 16, 16)
    assert _input_support(G, x, (0, 0, 8, 8)).all()  # through the 1x1 bottleneck, every pixel counts
    for layer in G.decoder:  # cut the long path: each decoder layer outputs ReLU(bias), a constant
        layer[0].weight.numpy()[...] = 0
    near = _input_support(G, x, (0, 0, 8, 8))
    # what is left is the shortest path x -> e_1 -> [d_1; e_1] -> output: a 6x6 window, pixels 5..10
    rows, cols = np.nonzero(near)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (5, 10, 5, 10)
    G.output[0].weight.numpy()[2:] = 0  # weight (in, out, kh, kw): cut e_1 from the output layer too: nothing left
    assert not _input_support(G, x, (0, 0, 8, 8)).any()


def test_each_skip_connection_is_used():
    G = UNetGenerator(1, 1, 16, 2, norm="none").double().eval()
    x = leaf(1, 1, 16, 16)
    for j, layer in enumerate(G.decoder[1:]):  # the layer reading u_j = [d_j; e_j] for j = n-2, ..., 1
        skip = layer[0].weight.numpy()[layer[0].in_channels // 2:]
        kept = skip.copy()
        before = G(x).numpy()
        skip[...] = 0
        assert not np.allclose(G(x).numpy(), before), j
        skip[...] = kept


# -- gradient checks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("norm, training", [("batch", False), ("batch", True), ("instance", True), ("none", True)])
def test_unet_gradcheck_over_every_parameter(norm, training):
    mg.manual_seed(0)
    G = UNetGenerator(2, 1, 4, 2, norm=norm, dropout=0).train(training)
    if not training:  # running statistics away from 0 and 1, so that eval mode differs from an identity
        for m in G.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.numpy()[...] = 0.3
                m.running_var.numpy()[...] = 2.0
    module_gradchecks(G, leaf(2, 2, 4, 4), second=False)


def test_a_residual_unet_adds_its_input_to_the_plain_output_and_gradchecks():
    mg.manual_seed(2)
    plain = UNetGenerator(3, 3, 8, 2, dropout=0).double()
    mg.manual_seed(2)
    residual = UNetGenerator(3, 3, 8, 2, dropout=0, residual=True).double()
    x = leaf(2, 3, 8, 8, seed=3)
    np.testing.assert_allclose(residual(x).numpy(), x.numpy() + plain(x).numpy(), rtol=1e-12)
    module_gradchecks(residual, x, second=False)
    with pytest.raises(ValueError, match="in_channels and out_channels must be equal, got 1 and 3"):
        UNetGenerator(1, 3, 8, 2, residual=True)


def test_unet_with_dropout_gradchecks_in_eval_mode():
    mg.manual_seed(1)
    module_gradchecks(UNetGenerator(1, 1, 8, 1, depth=2).eval(), leaf(1, 1, 8, 8, seed=1), second=False)


@pytest.mark.parametrize("norm, training", [("batch", False), ("batch", True), ("instance", True)])
def test_patch_discriminator_gradcheck_over_every_parameter(norm, training):
    mg.manual_seed(0)
    D = PatchDiscriminator(2, 2, 1, norm).train(training)
    module_gradchecks(D, leaf(2, 2, 8, 8), second=False)


def test_patch_discriminator_second_order_for_gradient_penalties():
    mg.manual_seed(0)
    module_gradchecks(PatchDiscriminator(1, 1, 1, "none"), leaf(1, 1, 6, 6))


# -- receptive field -----------------------------------------------------------------------------------

def test_receptive_field_formula():
    assert [patch_receptive_field(L) for L in range(6)] == [7, 16, 34, 70, 142, 286]
    assert all(PatchDiscriminator(1, 1, L).receptive_field == patch_receptive_field(L) for L in range(6))


@settings(max_examples=8)
@given(layers=st.integers(0, 3), width=st.integers(1, 2), seed=st.integers(0, 2 ** 16))
def test_receptive_field_is_what_one_logit_depends_on(layers, width, seed):
    mg.manual_seed(seed)
    D = PatchDiscriminator(1, width, layers).double().eval()
    r, jump, offset = D.receptive_field, 2 ** layers, 3 * 2 ** layers - 1  # offset: the paddings, in input pixels
    size = jump * ((r + 2 * offset) // jump + 4)
    x = leaf(1, 1, size, size, seed=seed)
    o = D.output_size(size) // 2
    rows, cols = np.nonzero(_input_support(D, x, (0, 0, o, o)))
    assert 0 < rows.min() and rows.max() < size - 1  # the whole patch lies inside the image
    assert rows.max() - rows.min() + 1 == r and cols.max() - cols.min() + 1 == r
    assert rows.min() == cols.min() == o * jump - offset  # where the patch of logit o starts


def test_perturbing_one_pixel_changes_the_logits_whose_patch_holds_it():
    mg.manual_seed(0)
    D = PatchDiscriminator(1, 2, 2).double().eval()
    r, jump, offset, size, p = D.receptive_field, 4, 11, 96, 47
    x = np.random.default_rng(0).standard_normal((1, 1, size, size))
    before = D(mg.tensor(x)).numpy()[0, 0]
    x[0, 0, p, p] += 1.0
    changed = D(mg.tensor(x)).numpy()[0, 0] != before
    o = np.arange(before.shape[0])
    holds = (o * jump - offset <= p) & (p <= o * jump - offset + r - 1)  # patches [o*4 - 11, o*4 + 22]
    np.testing.assert_array_equal(changed, holds[:, None] & holds[None, :])
    assert holds.sum() in (r // jump, -(-r // jump))  # 34 / 4: eight or nine patches across hold a pixel


# -- errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 3, 12, 28, 48])
def test_unet_rejects_sizes_that_are_not_powers_of_two(size):
    with pytest.raises(ValueError, match="image_size must be a power of two"):
        UNetGenerator(image_size=size)


def test_unet_errors():
    with pytest.raises(ValueError, match=r"depth must be between 1 and log2\(image_size\) = 4, got 5"):
        UNetGenerator(image_size=16, depth=5)
    with pytest.raises(ValueError, match="depth must be between"):
        UNetGenerator(image_size=16, depth=0)
    with pytest.raises(ValueError, match="norm must be one of"):
        UNetGenerator(norm="layer")
    with pytest.raises(ValueError, match="dropout must be in"):
        UNetGenerator(dropout=1.0)
    G = UNetGenerator(3, 3, 8, 1)
    for shape in [(2, 3, 16, 16), (2, 1, 8, 8), (3, 8, 8), (2, 3, 8, 4)]:
        with pytest.raises(ValueError, match=r"UNetGenerator: expected input of shape \(N, 3, 8, 8\), got"):
            G(mg.randn(*shape))


def test_patch_discriminator_errors():
    with pytest.raises(ValueError, match="layers must be >= 0"):
        PatchDiscriminator(layers=-1)
    with pytest.raises(ValueError, match="layers must be >= 0"):
        patch_receptive_field(-1)
    with pytest.raises(ValueError, match="norm must be one of"):
        PatchDiscriminator(norm="spectral")
    D = PatchDiscriminator(6, 1, 3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 6, H, W\), got \(2, 3, 32, 32\)"):
        D(mg.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match="each side needs at least 24"):
        D(mg.randn(1, 6, 23, 64))
    assert D(mg.randn(1, 6, 24, 24)).shape == (1, 1, 1, 1)
