"""CycleGAN's generator: the residual network of Johnson et al.

Shapes for drawn sizes, the paper's layout, the residual blocks as an
identity plus a correction, the receptive field growing with the blocks,
whole-module gradient checks over every parameter, and errors.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_module import module_gradchecks

import minigan as mg
from minigan import nn
from minigan.models import ResidualBlock, ResnetGenerator


def leaf(*shape, seed=0, requires_grad=True):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


# -- shapes ------------------------------------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(h=st.integers(2, 5), w=st.integers(2, 5), in_channels=st.integers(1, 3), out_channels=st.integers(1, 3),
       width=st.integers(1, 3), blocks=st.integers(0, 3), batch=st.integers(1, 3),
       norm=st.sampled_from(["instance", "batch", "none"]))
def test_the_generator_maps_an_image_to_one_of_the_same_size(h, w, in_channels, out_channels, width, blocks, batch,
                                                              norm):
    G = ResnetGenerator(in_channels, out_channels, width, blocks, norm)
    y = G(mg.randn(batch, in_channels, 4 * h, 4 * w))
    assert y.shape == (batch, out_channels, 4 * h, 4 * w)
    assert np.abs(y.numpy()).max() <= 1.0  # tanh


@settings(max_examples=10, deadline=None)
@given(channels=st.integers(1, 4), h=st.integers(2, 6), w=st.integers(2, 6), norm=st.sampled_from(["instance", "none"]))
def test_a_residual_block_keeps_the_shape_and_is_the_identity_when_its_last_conv_is_zero(channels, h, w, norm):
    block = ResidualBlock(channels, norm).double()
    x = leaf(2, channels, h, w, requires_grad=False)
    assert block(x).shape == x.shape
    last = [m for m in block.body if isinstance(m, nn.Conv2d)][-1]
    last.weight.numpy()[...] = 0
    last.bias.numpy()[...] = 0
    np.testing.assert_allclose(block(x).numpy(), x.numpy(), atol=1e-12)


# -- the paper's layout --------------------------------------------------------------------------------

def test_the_generator_follows_the_papers_layout():
    """c7s1-64, d128, d256, R256 x 9, u128, u64, c7s1-3 at width 64 (here scaled down to 8)."""
    w = 8
    G = ResnetGenerator(3, 3, w, 9)
    convs = [m for m in G.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    outside = [m for m in G.net if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert [(c.kernel_size[0], c.stride[0], c.out_channels // w) for c in outside[:3]] == [(7, 1, 1), (3, 2, 2),
                                                                                         (3, 2, 4)]
    ups = outside[3:5]
    assert all(isinstance(c, nn.ConvTranspose2d) and c.stride == (2, 2) and c.output_padding == (1, 1) for c in ups)
    assert [c.out_channels // w for c in ups] == [2, 1]
    assert outside[5].kernel_size == (7, 7) and outside[5].out_channels == 3 and isinstance(G.net[-1], nn.Tanh)
    blocks = [m for m in G.net if isinstance(m, ResidualBlock)]
    assert len(blocks) == 9 and len(convs) == 6 + 2 * 9
    assert all(c.in_channels == c.out_channels == 4 * w and c.kernel_size == (3, 3)
               for block in blocks for c in block.body if isinstance(c, nn.Conv2d))
    pads = [m.padding for m in G.modules() if isinstance(m, nn.ReflectionPad2d)]
    assert pads == [(3,) * 4] + [(1,) * 4] * 18 + [(3,) * 4]  # reflection padding, not zeros
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in G.modules()) == 5 + 2 * 9  # all but the output layer
    assert not any(isinstance(m, nn.InstanceNorm2d) for m in ResnetGenerator(3, 3, 1, 1, norm="none").modules())


def test_a_residual_block_has_one_relu_between_its_convolutions_and_none_after_the_sum():
    kinds = [type(m) for m in ResidualBlock(4).body]
    assert kinds == [nn.ReflectionPad2d, nn.Conv2d, nn.InstanceNorm2d, nn.ReLU, nn.ReflectionPad2d, nn.Conv2d,
                     nn.InstanceNorm2d]


# -- receptive field -----------------------------------------------------------------------------------

def _support(G, size):
    """Rows of the input that the centre output pixel depends on, with every ReLU active (positive weights)."""
    for p in G.parameters():
        p.numpy()[...] = 0.01 + 0.01 * np.abs(p.numpy())
    x = mg.tensor(np.full((1, 1, size, size), 0.5), requires_grad=True)
    out = G(x)
    g, = mg.grad(out[0, 0, size // 2, size // 2], x)
    rows = np.nonzero(np.abs(g.numpy()[0, 0]).sum(axis=1) > 0)[0]
    return rows.max() - rows.min() + 1


def test_each_block_widens_what_an_output_pixel_sees_by_16_pixels():
    mg.manual_seed(0)
    sides = [_support(ResnetGenerator(1, 1, 1, blocks, norm="none").double(), 96) for blocks in (0, 1, 2)]
    assert sides[1] - sides[0] == 16 and sides[2] - sides[1] == 16


# -- gradient checks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("norm", ["instance", "batch", "none"])
def test_generator_gradcheck_over_every_parameter(norm):
    mg.manual_seed(0)
    G = ResnetGenerator(2, 1, 1, 1, norm)
    module_gradchecks(G, leaf(2, 2, 8, 8), second=False)


@settings(max_examples=4, deadline=None)
@given(channels=st.integers(1, 3), h=st.integers(2, 4), w=st.integers(2, 4), seed=st.integers(0, 2 ** 16))
def test_residual_block_gradcheck_first_and_second_order(channels, h, w, seed):
    mg.manual_seed(seed)
    module_gradchecks(ResidualBlock(channels, "instance"), leaf(2, channels, h, w, seed=seed))


# -- errors --------------------------------------------------------------------------------------------

def test_generator_errors():
    with pytest.raises(ValueError, match="width must be >= 1"):
        ResnetGenerator(width=0)
    with pytest.raises(ValueError, match="blocks must be >= 0"):
        ResnetGenerator(blocks=-1)
    with pytest.raises(ValueError, match="norm must be one of"):
        ResnetGenerator(norm="layer")
    with pytest.raises(ValueError, match="norm must be one of"):
        ResidualBlock(4, norm="layer")
    G = ResnetGenerator(3, 3, 1, 1)
    for shape in [(2, 1, 8, 8), (2, 3, 10, 8), (2, 3, 4, 4), (3, 8, 8)]:
        with pytest.raises(ValueError, match=r"ResnetGenerator: expected input of shape \(N, 3, H, W\) with H and W "
                                             r"multiples of 4, at least 8, got"):
            G(mg.randn(*shape))
