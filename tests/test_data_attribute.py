"""``.data``: a tensor sharing the storage, outside the graph, as ``torch.Tensor.data``.

Each idiom GAN scripts use runs through the same function on ``minigan`` and,
when it is installed, on ``torch``, from the same values.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.testing import strategies

try:
    import torch
except ImportError:
    torch = None


def _idioms(lib, values: np.ndarray, c: float) -> dict:
    """``.data`` as community GAN code uses it; returns what a test can compare across libraries."""
    w = lib.nn.Parameter(lib.tensor(values.copy()))
    seen = {"size0": w.data.size(0), "requires_grad": w.data.requires_grad, "is_leaf": w.data.is_leaf}
    (w * w).sum().backward()
    grad = w.grad.clone()
    w.data.clamp_(-c, c)                                   # WGAN weight clipping
    seen["clamped"] = w.detach().numpy().copy()
    seen["grad_kept"] = bool((w.grad == grad).all())
    seen["still_a_parameter"] = w.requires_grad and w.is_leaf
    view = w.data.cpu().numpy()                            # shares memory on the CPU
    view[...] = 0.5
    seen["written_through_numpy"] = w.detach().numpy().copy()
    lib.nn.init.constant_(w.data, 0.25)                    # nn.init on .data initialises the parameter
    seen["init_through_data"] = w.detach().numpy().copy()
    w.data.fill_(0.0)
    seen["filled"] = w.detach().numpy().copy()
    w.data = w.data + 2.0                                  # rebinding: a hand-written SGD step
    seen["assigned"] = w.detach().numpy().copy()
    y = (w.data * 3).sum()                                 # nothing recorded
    seen["outside_graph"] = not y.requires_grad
    return seen


@given(values=strategies.arrays(strategies.shapes(min_dims=1, max_dims=3, max_side=4), np.float32),
       c=st.sampled_from([0.01, 0.5, 2.0]))
def test_data_shares_storage_outside_the_graph_as_in_pytorch(values, c):
    seen = _idioms(mg, values, c)
    np.testing.assert_array_equal(seen["clamped"], np.clip(values, -c, c))
    np.testing.assert_array_equal(seen["written_through_numpy"], np.full(values.shape, 0.5, np.float32))
    np.testing.assert_array_equal(seen["init_through_data"], np.full(values.shape, 0.25, np.float32))
    np.testing.assert_array_equal(seen["assigned"], np.full(values.shape, 2.0, np.float32))
    assert seen["size0"] == values.shape[0] and seen["grad_kept"] and seen["still_a_parameter"]
    assert seen["outside_graph"] and seen["is_leaf"] and not seen["requires_grad"]
    if torch is not None:
        expected = _idioms(torch, values, c)
        for key, value in expected.items():
            np.testing.assert_array_equal(seen[key], value, err_msg=key)


def test_dcgan_style_initialisation_through_data_changes_the_weights():
    mg.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))

    def weights_init(m):
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)

    conv_before = net[0].weight.numpy().copy()
    net[1].bias.data.fill_(5.0)
    net.apply(weights_init)
    conv, bn = net[0].weight.numpy(), net[1]
    assert not np.array_equal(conv, conv_before) and abs(conv.std() - 0.02) < 0.01
    assert not bn.bias.numpy().any() and abs(bn.weight.numpy().mean() - 1.0) < 0.05


def test_a_gradient_penalty_on_data_sees_no_graph_of_the_generator():
    G = nn.Linear(2, 3)
    fake = G(mg.randn(4, 2))
    detached = fake.data
    assert detached.size(0) == 4 and not detached.requires_grad and detached.grad_fn is None
    assert np.shares_memory(detached.numpy(), fake.numpy())


def test_raw_array_is_the_storage_itself():
    a = np.arange(3.0)
    t = mg.from_numpy(a)
    assert t.array is a and t.data.array is a
    with pytest.raises(TypeError, match="non-numeric"):
        t.data = [object()]
