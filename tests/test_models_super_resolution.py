"""SRGAN's networks: the residual generator (SRResNet) and the VGG-style discriminator.

Shapes for drawn sizes, the paper's layouts, where the trunk runs (half the
resolution), the skips, whole-module gradient checks, and errors.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_module import module_gradchecks

import minigan as mg
from minigan import nn
from minigan.models import SRDiscriminator, SRGenerator, SRResidualBlock


def leaf(*shape, seed=0, requires_grad=True):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


def convs(module):
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


# -- shapes ----------------------------------------------------------------------------------------------

@settings(max_examples=15)
@given(half=st.tuples(st.integers(2, 6), st.integers(2, 6)), channels=st.integers(1, 3), width=st.integers(1, 3),
       blocks=st.integers(1, 2), batch=st.integers(1, 3), residual=st.booleans(), batch_norm=st.booleans())
def test_generator_maps_an_image_to_one_of_the_same_size(half, channels, width, blocks, batch, residual, batch_norm):
    G = SRGenerator(channels, width, blocks, residual, batch_norm)
    h, w = 2 * half[0], 2 * half[1]
    y = G(mg.randn(batch, channels, h, w))
    assert y.shape == (batch, channels, h, w)
    if not residual:
        assert np.abs(y.numpy()).max() <= 1.0  # tanh


@settings(max_examples=15)
@given(size=st.integers(1, 40), stages=st.integers(1, 4), width=st.integers(1, 3), channels=st.integers(1, 3),
       batch_norm=st.booleans())
def test_discriminator_gives_one_logit_per_image(size, stages, width, channels, batch_norm):
    D = SRDiscriminator(channels, size, width, stages, batch_norm=batch_norm)
    assert D(mg.randn(2, channels, size, size)).shape == (2, 1)
    side = size
    for _ in range(stages):
        side = (side + 1) // 2
    assert D.head[1].in_features == width * 2 ** (stages - 1) * side * side


# -- the paper's layouts --------------------------------------------------------------------------------

def test_residual_block_is_conv_bn_prelu_conv_bn_plus_the_input():
    block = SRResidualBlock(4)
    kinds = [type(m) for m in block.body]
    assert kinds == [nn.ReflectionPad2d, nn.Conv2d, nn.BatchNorm2d, nn.PReLU, nn.ReflectionPad2d, nn.Conv2d,
                     nn.BatchNorm2d]
    assert all(c.kernel_size == (3, 3) and c.stride == (1, 1) and c.bias is None for c in convs(block))  # BN shifts
    assert block.body[3].num_parameters == 4  # a slope per channel
    x = mg.randn(2, 4, 5, 5)
    np.testing.assert_allclose(block(x).numpy(), x.numpy() + block.body(x).numpy(), rtol=1e-6)
    assert nn.BatchNorm2d not in [type(m) for m in SRResidualBlock(4, batch_norm=False).body]


def test_generator_follows_the_paper_layout():
    G = SRGenerator(3, 8, 3)
    assert isinstance(G.unshuffle, nn.PixelUnshuffle) and G.unshuffle.downscale_factor == 2
    assert G.head[1].in_channels == 12 and isinstance(G.head[-1], nn.PReLU)       # 4 sub-pixels x 3 colours
    assert len(G.trunk) == 3 and all(isinstance(b, SRResidualBlock) for b in G.trunk)
    assert [type(m) for m in G.trunk_end] == [nn.ReflectionPad2d, nn.Conv2d, nn.BatchNorm2d]
    up = [type(m) for m in G.upsample]
    assert up == [nn.ReflectionPad2d, nn.Conv2d, nn.PixelShuffle, nn.PReLU] and G.upsample[1].out_channels == 32
    assert G.output[1].out_channels == 3
    assert all(c.kernel_size == (3, 3) and c.stride == (1, 1) and c.padding == (0, 0) for c in convs(G))
    assert [c.bias is not None for c in (G.head[1], G.upsample[1], G.output[1])] == [True] * 3


def test_the_trunk_runs_at_half_the_resolution():
    G = SRGenerator(3, 2, 2)
    h = G.head(G.unshuffle(mg.randn(2, 3, 12, 8)))
    for block in G.trunk:
        h = block(h)
        assert h.shape == (2, 2, 6, 4)


def test_discriminator_follows_the_paper_layout():
    D = SRDiscriminator(3, 96, 64, stages=4)  # the paper's: 96x96 crops, k3n64s1 ... k3n512s2, Dense1024
    body = convs(D.features)
    assert [c.out_channels for c in body] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [c.stride[0] for c in body] == [1, 2, 1, 2, 1, 2, 1, 2]
    assert all(c.kernel_size == (3, 3) for c in body)
    assert not isinstance(D.features[1], nn.BatchNorm2d) and sum(isinstance(m, nn.BatchNorm2d) for m in D.features) == 7
    assert all(m.negative_slope == 0.2 for m in D.modules() if isinstance(m, nn.LeakyReLU))
    dense = [m for m in D.head if isinstance(m, nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(512 * 6 * 6, 1024), (1024, 1)]


# -- the global residual -------------------------------------------------------------------------------------

def test_with_the_global_residual_g_adds_to_the_input_what_it_makes_of_the_detail():
    G = SRGenerator(3, 2, 1).double().eval()
    x = leaf(2, 3, 8, 8, requires_grad=False)
    detail = x.numpy() - x.numpy().mean(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(G(x).numpy(), x.numpy() + G.residual(mg.tensor(detail)).numpy(), rtol=1e-12)
    for p in G.output.parameters():
        p.numpy()[...] = 0
    np.testing.assert_array_equal(G(x).numpy(), x.numpy())  # a G that adds nothing returns the bilinear input


@pytest.mark.parametrize("batch_norm", [True, False])
def test_a_flat_image_gives_an_output_without_borders(batch_norm):
    """Reflection padding: a flat image gives flat maps at low resolution, so G's output only repeats the 2x2
    sub-pixels of one block (no zero border for G to correct on the photos' many flat crops)."""
    mg.manual_seed(0)
    G = SRGenerator(3, 4, 2, global_residual=False, batch_norm=batch_norm).double().eval()
    colour = np.array([0.3, -0.2, 0.7])[None, :, None, None]
    y = G(mg.tensor(np.broadcast_to(colour, (1, 3, 8, 8)).copy())).numpy()
    np.testing.assert_allclose(y, np.tile(y[:, :, :2, :2], (1, 1, 4, 4)), atol=1e-12)


@settings(max_examples=10)
@given(seed=st.integers(0, 2 ** 16), k=st.floats(0.01, 10), colour=st.floats(-1, 1))
def test_without_batch_norm_the_residual_is_positively_homogeneous_and_flat_crops_pass_untouched(seed, k, colour):
    mg.manual_seed(seed)
    G = SRGenerator(3, 3, 2, batch_norm=False).double()
    assert all(c.bias is None for c in convs(G))
    d = leaf(2, 3, 8, 8, seed=seed, requires_grad=False)
    np.testing.assert_allclose(G.residual(d * k).numpy(), k * G.residual(d).numpy(), rtol=1e-9, atol=1e-12)
    flat = mg.tensor(np.full((2, 3, 8, 8), colour))
    np.testing.assert_allclose(G(flat).numpy(), flat.numpy(), rtol=0, atol=1e-12)  # x - m(x) rounds to ~1e-16


def test_the_long_skip_and_every_block_reach_the_output():
    G = SRGenerator(1, 2, 2, batch_norm=False).double()
    x = leaf(1, 1, 8, 8, requires_grad=False)
    before = G(x).numpy()
    for block in G.trunk:
        weight = block.body[1].weight.numpy()
        kept = weight.copy()
        weight[...] = 0
        assert not np.allclose(G(x).numpy(), before)
        weight[...] = kept
    G.trunk_end[1].weight.numpy()[...] = 0  # cut the trunk: the long skip still carries h_0
    assert np.abs(G(x).numpy() - x.numpy()).max() > 0


# -- gradient checks -----------------------------------------------------------------------------------------

@settings(max_examples=5)
@given(channels=st.integers(1, 3), side=st.integers(2, 4), batch_norm=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_residual_block_gradcheck(channels, side, batch_norm, seed):
    mg.manual_seed(seed)
    module_gradchecks(SRResidualBlock(channels, batch_norm), leaf(2, channels, side, side, seed=seed), second=False)


@pytest.mark.parametrize("training, batch_norm, residual", [(True, True, True), (False, True, True),
                                                            (True, False, False)])
def test_generator_gradcheck_over_every_parameter(training, batch_norm, residual):
    mg.manual_seed(0)
    G = SRGenerator(2, 2, 1, residual, batch_norm).train(training)
    if not training:  # running statistics away from 0 and 1, so that eval mode differs from an identity
        for m in G.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.numpy()[...] = 0.3
                m.running_var.numpy()[...] = 2.0
    module_gradchecks(G, leaf(2, 2, 4, 4), second=False)


@settings(max_examples=4)
@given(size=st.integers(3, 6), stages=st.integers(1, 2), training=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_discriminator_gradcheck_over_every_parameter(size, stages, training, seed):
    mg.manual_seed(seed)
    D = SRDiscriminator(2, size, 1, stages, hidden=3).train(training)
    module_gradchecks(D, leaf(2, 2, size, size, seed=seed), second=False)


def test_discriminator_second_order_for_gradient_penalties():
    mg.manual_seed(0)
    module_gradchecks(SRDiscriminator(1, 4, 1, 1, hidden=2, batch_norm=False), leaf(1, 1, 4, 4))


# -- errors ----------------------------------------------------------------------------------------------------

def test_errors_name_the_network_and_the_shapes():
    with pytest.raises(ValueError, match="blocks must be >= 1"):
        SRGenerator(blocks=0)
    with pytest.raises(ValueError, match="stages must be >= 1"):
        SRDiscriminator(stages=0)
    G = SRGenerator(3, 1, 1)
    for shape in [(2, 3, 7, 8), (2, 1, 8, 8), (3, 8, 8), (2, 3, 2, 8)]:
        with pytest.raises(ValueError, match=r"SRGenerator: expected input of shape \(N, 3, H, W\), H and W "
                                             r"multiples of 2, at least 4, got"):
            G(mg.randn(*shape))
    D = SRDiscriminator(3, 8, 1)
    message = r"SRDiscriminator: expected input of shape \(N, 3, H, W\), got \(2, 1, 8, 8\)"
    with pytest.raises(ValueError, match=message):
        D(mg.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match="built for 8x8 images"):
        D(mg.randn(2, 3, 16, 16))
