"""Layers do not promote dtypes: an input whose dtype differs from the parameters' is rejected, as in PyTorch.

A float64 batch through a float32 layer raises ``TypeError`` naming both
dtypes and leaves the model's state (dtypes, values, batch count) as it was;
the same layer made float64 with ``.double()`` computes, and gradchecks, in
float64. Image layers given a single ``(C, H, W)`` image say that the batch
dimension is missing.
"""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.testing import functional_call, gradcheck, strategies


def normal(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def snapshot(module):
    return {k: (v.dtype, v.numpy().copy()) for k, v in module.state_dict().items()}


def assert_unchanged(module, before):
    after = snapshot(module)
    assert list(after) == list(before)
    for k, (dtype, value) in before.items():
        assert after[k][0] == dtype, k
        np.testing.assert_array_equal(after[k][1], value, err_msg=k)


# (layer, float32 input shape, op named in the message, parameter named in the message)
LAYERS = {
    "Linear": (lambda: nn.Linear(3, 2), (4, 3), "linear", "weight"),
    "Linear-no-bias": (lambda: nn.Linear(3, 2, bias=False), (2, 5, 3), "linear", "weight"),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 4, 4), "conv2d", "weight"),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2), (2, 2, 3, 3), "conv_transpose2d", "weight"),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (4, 3), "batch_norm", "weight"),
    "BatchNorm1d-sequence": (lambda: nn.BatchNorm1d(3), (2, 3, 4), "batch_norm", "weight"),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (2, 2, 3, 3), "batch_norm", "weight"),
    "BatchNorm2d-no-affine": (lambda: nn.BatchNorm2d(2, affine=False), (2, 2, 3, 3), "batch_norm", "running_mean"),
    "BatchNorm1d-cumulative": (lambda: nn.BatchNorm1d(3, momentum=None), (4, 3), "batch_norm", "weight"),
    "LayerNorm": (lambda: nn.LayerNorm((2, 3)), (4, 2, 3), "layer_norm", "weight"),
    "MinibatchDiscrimination": (lambda: nn.MinibatchDiscrimination(3, 2, 2), (4, 3), "MinibatchDiscrimination", "T"),
    "SelfAttention2d": (lambda: nn.SelfAttention2d(8), (2, 8, 2, 2), "conv2d", "weight"),
}


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("as_tensor", [True, False], ids=["tensor", "ndarray"])
def test_a_float64_input_to_a_float32_layer_raises_and_changes_nothing(name, training, as_tensor):
    make, shape, op, param = LAYERS[name]
    layer = make().train(training)
    before = snapshot(layer)
    assert all(dtype == np.float32 for dtype, _ in before.values() if dtype.kind == "f")
    x = normal(shape)
    message = (f"{op}: input has dtype float64 but {param} has dtype float32; "
               "convert one of them (model.double(), or x.astype(np.float32) / x.float())")
    with pytest.raises(TypeError, match=re.escape(message)):
        layer(mg.tensor(x) if as_tensor else x)
    assert_unchanged(layer, before)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("training", [True, False])
def test_either_conversion_the_message_suggests_makes_the_layer_run(name, training):
    make, shape, _, _ = LAYERS[name]
    x = mg.tensor(normal(shape))
    layer = make().train(training)
    assert layer(x.float()).dtype == np.float32
    assert layer.double()(x).dtype == np.float64
    assert all(v.dtype == np.float64 for v in layer.state_dict().values() if v.dtype.kind == "f")
    assert layer.float()(x.float()).dtype == np.float32
    assert all(v.dtype == np.float32 for v in layer.state_dict().values() if v.dtype.kind == "f")


@pytest.mark.parametrize("name", LAYERS)
def test_a_float32_input_to_a_float64_layer_raises(name):
    make, shape, op, param = LAYERS[name]
    layer = make().double()
    before = snapshot(layer)
    with pytest.raises(TypeError, match=re.escape(f"{op}: input has dtype float32 but {param} has dtype float64; "
                                                  "convert one of them (model.float(), or x.astype(np.float64) "
                                                  "/ x.double())")):
        layer(mg.tensor(normal(shape, dtype=np.float32)))
    assert_unchanged(layer, before)


def test_integer_and_half_inputs_are_not_promoted_either():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=re.escape("linear: input has dtype int64 but weight has dtype float32; "
                                                  "convert one of them (x.astype(np.float32) / x.float())")):
        layer(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match=re.escape("linear: input has dtype float16 but weight has dtype float32; "
                                                  "convert one of them (model.to(dtype=np.float16), or ")):
        layer(mg.tensor(normal((2, 3), dtype=np.float16)))


def test_the_functional_forms_check_every_parameter_they_are_given():
    x32, w32 = mg.tensor(normal((4, 3), dtype=np.float32)), mg.tensor(normal((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="linear: input has dtype float32 but bias has dtype float64"):
        F.linear(x32, w32, mg.zeros(2, dtype=np.float64))
    img = mg.tensor(normal((1, 2, 4, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="conv2d: input has dtype float32 but bias has dtype float64"):
        F.conv2d(img, mg.tensor(normal((3, 2, 3, 3), dtype=np.float32)), mg.zeros(3, dtype=np.float64))
    with pytest.raises(TypeError, match="conv_transpose2d: input has dtype float32 but bias has dtype float64"):
        F.conv_transpose2d(img, mg.tensor(normal((2, 3, 3, 3), dtype=np.float32)), mg.zeros(3, dtype=np.float64))
    stats64 = (mg.zeros(3, dtype=np.float64), mg.ones(3, dtype=np.float64))
    for training in (True, False):  # running statistics are checked too, with or without an affine map
        with pytest.raises(TypeError, match="batch_norm: input has dtype float32 but running_mean has dtype float64"):
            F.batch_norm(x32, *stats64, training=training)
        assert all(s.dtype == np.float64 for s in stats64)
    with pytest.raises(TypeError, match="layer_norm: input has dtype float32 but bias has dtype float64"):
        F.layer_norm(x32, 3, mg.ones(3), mg.zeros(3, dtype=np.float64))
    # what has no parameter to disagree with still takes any floating dtype
    assert F.batch_norm(x32, None, None, training=True).dtype == np.float32
    assert F.layer_norm(mg.tensor(normal((4, 3))), 3).dtype == np.float64


def test_a_whole_model_rejects_a_float64_batch_at_its_first_layer_and_keeps_its_state():
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    before = snapshot(model)
    with pytest.raises(TypeError, match=r"linear: input has dtype float64 but weight has dtype float32"):
        model(normal((8, 2)))
    assert_unchanged(model, before)
    model.to(dtype=np.float64)
    assert model(normal((8, 2))).dtype == np.float64
    assert int(model[1].num_batches_tracked.item()) == 1
    assert model[1].running_mean.dtype == np.float64


def test_a_batch_norm_batch_rejected_for_its_shape_is_not_counted():
    bn = nn.BatchNorm1d(3, momentum=None)
    before = snapshot(bn)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(mg.randn(1, 3))
    assert_unchanged(bn, before)
    bn(mg.randn(4, 3))
    assert int(bn.num_batches_tracked.item()) == 1


# -- float64 layers compute and gradcheck in float64 ---------------------------------------------------------

def gradchecks_in_float64(module, x):
    """The output is float64 and the gradient w.r.t. the input and every parameter matches finite differences."""
    params = list(module.parameters())
    assert all(p.dtype == np.float64 for p in params)
    assert module(x).dtype == np.float64
    gradcheck(lambda x_, *ps: functional_call(module, ps, x_), [x, *params])
    assert all(v.dtype == np.float64 for v in module.state_dict().values() if v.dtype.kind == "f")


def leaf(shape, seed):
    return mg.tensor(normal(shape, seed), requires_grad=True)


@settings(max_examples=15)
@given(batch=st.sampled_from([(), (1,), (3,), (2, 2)]), sizes=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       bias=st.booleans(), seed=st.integers(0, 99))
def test_float64_linear(batch, sizes, bias, seed):
    gradchecks_in_float64(nn.Linear(*sizes, bias=bias).double(), leaf((*batch, sizes[0]), seed))


@settings(max_examples=15)
@given(g=strategies.conv_geometries(max_size=4, max_kernel=2, max_stride=2, max_padding=1), bias=st.booleans(),
       seed=st.integers(0, 99))
def test_float64_conv2d(g, bias, seed):
    conv = nn.Conv2d(g.c_in, g.c_out, g.kernel_size, bias=bias, **g.kwargs).double()
    gradchecks_in_float64(conv, leaf(g.input_shape, seed))


@settings(max_examples=15)
@given(g=strategies.conv_geometries(transposed=True, max_size=3, max_kernel=2, max_stride=2, max_padding=1),
       bias=st.booleans(), seed=st.integers(0, 99))
def test_float64_conv_transpose2d(g, bias, seed):
    conv = nn.ConvTranspose2d(g.c_in, g.c_out, g.kernel_size, bias=bias, **g.kwargs).double()
    gradchecks_in_float64(conv, leaf(g.input_shape, seed))


@settings(max_examples=15)
@given(shape=st.sampled_from([(4, 3), (2, 2, 3), (3, 1, 2), (2, 3, 2, 2), (3, 1, 1, 2)]), training=st.booleans(),
       affine=st.booleans(), seed=st.integers(0, 99))
def test_float64_batch_norm(shape, training, affine, seed):
    bn = (nn.BatchNorm1d if len(shape) < 4 else nn.BatchNorm2d)(shape[1], affine=affine).double().train(training)
    bn.running_mean.data = normal(shape[1], seed + 1)  # running statistics other than (0, 1) in evaluation
    bn.running_var.data = 1 + normal(shape[1], seed + 2) ** 2
    gradchecks_in_float64(bn, leaf(shape, seed))


@settings(max_examples=15)
@given(shape=st.sampled_from([(3,), (2, 3), (2, 2, 2), (1, 3, 2)]), k=st.integers(1, 2), seed=st.integers(0, 99))
def test_float64_layer_norm(shape, k, seed):
    k = min(k, len(shape))
    gradchecks_in_float64(nn.LayerNorm(shape[len(shape) - k:]).double(), leaf(shape, seed))


# -- a single image is not a batch ---------------------------------------------------------------------------

ADD_BATCH = "x[None] or x.unsqueeze(0)"


@pytest.mark.parametrize("layer, op, layout", [(nn.Conv2d(1, 2, 3), "conv2d", "(N, C, H, W)"),
                                               (nn.ConvTranspose2d(1, 2, 3), "conv_transpose2d", "(N, C_in, H, W)")])
def test_conv_layers_given_one_image_ask_for_the_batch_dimension(layer, op, layout):
    x = mg.randn(1, 8, 8)
    with pytest.raises(ValueError) as info:
        layer(x)
    message = str(info.value)
    assert message.startswith(f"{op}: expected a 4-D input {layout}, got a 3-D input of shape (1, 8, 8)")
    assert ADD_BATCH in message and "channel" not in message and "agree" not in message
    assert layer(x[None]).shape[:2] == (1, 2) and layer(x.unsqueeze(0)).ndim == 4
    with pytest.raises(ValueError, match=rf"{op}: expected a 4-D input .* got a 2-D input of shape \(8, 8\)$"):
        layer(mg.randn(8, 8))  # two dimensions short: no single-image hint


def test_norm_and_resampling_layers_given_one_sample_ask_for_the_batch_dimension():
    with pytest.raises(ValueError, match=rf"BatchNorm2d\(2\): .*4-d.* got 3-d \(2, 4, 4\); .*{re.escape(ADD_BATCH)}"):
        nn.BatchNorm2d(2)(mg.randn(2, 4, 4))
    with pytest.raises(ValueError, match=rf"BatchNorm1d\(3\): .*2-d or 3-d.* got 1-d \(3,\); .*{re.escape(ADD_BATCH)}"):
        nn.BatchNorm1d(3)(mg.randn(3))
    with pytest.raises(ValueError, match=re.escape(f"interpolate: expected a 4-D input (N, C, H, W), got a 3-D "
                                                   f"input of shape (1, 2, 2); for a single image add the batch "
                                                   f"dimension: {ADD_BATCH}")):
        F.interpolate(mg.randn(1, 2, 2), scale_factor=2)


# -- PyTorch rejects the same calls -------------------------------------------------------------------------

TORCH_CALLS = {
    "linear": lambda t, F_, x, p: F_.linear(x((4, 3)), p((2, 3)), p((2,))),
    "linear-no-bias": lambda t, F_, x, p: F_.linear(x((4, 3)), p((2, 3))),
    "conv2d": lambda t, F_, x, p: F_.conv2d(x((1, 2, 4, 4)), p((3, 2, 3, 3)), p((3,))),
    "conv_transpose2d": lambda t, F_, x, p: F_.conv_transpose2d(x((1, 2, 4, 4)), p((2, 3, 3, 3)), p((3,))),
    "batch_norm-train": lambda t, F_, x, p: F_.batch_norm(x((4, 3)), t.zeros(3), t.ones(3), p((3,)), p((3,)),
                                                          training=True),
    "batch_norm-eval": lambda t, F_, x, p: F_.batch_norm(x((4, 3)), t.zeros(3), t.ones(3), training=False),
    "layer_norm": lambda t, F_, x, p: F_.layer_norm(x((4, 3)), (3,), p((3,)), p((3,))),
}


@pytest.mark.parametrize("call", TORCH_CALLS)
def test_pytorch_rejects_the_same_mixed_dtype_calls(call):
    torch = pytest.importorskip("torch")

    def x(shape):
        return torch.tensor(normal(shape))  # float64

    def p(shape):
        return torch.tensor(normal(shape, seed=1, dtype=np.float32))

    with pytest.raises(RuntimeError):
        TORCH_CALLS[call](torch, torch.nn.functional, x, p)
    # and ours, given the same arrays
    ours = {"x": lambda shape: mg.tensor(normal(shape)), "p": lambda shape: mg.tensor(normal(shape, 1, np.float32))}
    with pytest.raises(TypeError, match="has dtype float64 but .* has dtype float32"):
        TORCH_CALLS[call](mg, F, ours["x"], ours["p"])
