"""Module, Parameter, Sequential and state dicts; weight initialisation; a DCGAN saved and stepped again.

``module_gradchecks`` and ``dcgan`` are shared with the other ``test_nn_*`` files.
"""

import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.models import dcgan_init_
from minigan.testing import gradcheck, gradgradcheck

# -- helpers shared with the other test_nn_* files ------------------------------------------------

def _owner(module, dotted):
    *path, leaf = dotted.split(".")
    for part in path:
        module = getattr(module, part)
    return module, leaf


def module_gradchecks(module, *inputs, second=True):
    """gradcheck (and gradgradcheck) of ``module(*inputs)`` w.r.t. every input and every parameter, in float64.

    The checker replaces each checked tensor by its own float64 copy, so the
    function it calls puts those copies into the module's parameter slots.
    """
    module.double()
    named = list(module.named_parameters())

    def run(*args):
        for (name, _), p in zip(named, args[len(inputs):]):
            owner, leaf = _owner(module, name)
            owner._parameters[leaf] = p
        return module(*args[:len(inputs)])

    args = [*inputs, *(p for _, p in named)]
    try:
        gradcheck(run, args)
        if second:
            gradgradcheck(run, args)
    finally:
        for name, p in named:
            owner, leaf = _owner(module, name)
            owner._parameters[leaf] = p


def dcgan(nn, image_size, nz=8, ngf=4, ndf=4, nc=1):
    """Radford et al. (2015) generator and discriminator, written as in the PyTorch DCGAN tutorial.

    ``nn`` is ``minigan.nn`` or ``torch.nn``: the same lines build either.
    """
    start, ups = {28: (7, 2), 32: (4, 3)}[image_size]
    g = [nn.ConvTranspose2d(nz, ngf * 2 ** (ups - 1), start, 1, 0, bias=False),
         nn.BatchNorm2d(ngf * 2 ** (ups - 1)), nn.ReLU(True)]
    for i in reversed(range(1, ups)):
        g += [nn.ConvTranspose2d(ngf * 2 ** i, ngf * 2 ** (i - 1), 4, 2, 1, bias=False),
              nn.BatchNorm2d(ngf * 2 ** (i - 1)), nn.ReLU(True)]
    g += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
    d = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    for i in range(1, ups):
        d += [nn.Conv2d(ndf * 2 ** (i - 1), ndf * 2 ** i, 4, 2, 1, bias=False),
              nn.BatchNorm2d(ndf * 2 ** i), nn.LeakyReLU(0.2, inplace=True)]
    d += [nn.Conv2d(ndf * 2 ** (ups - 1), 1, start, 1, 0, bias=False), nn.Flatten()]
    return nn.Sequential(*g), nn.Sequential(*d)


# -- a small model to exercise the API -------------------------------------------------------------

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.register_buffer("scale", mg.ones(4))
        self.register_buffer("scratch", mg.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def model():
    return nn.Sequential(Block(), nn.ReLU(), nn.Linear(4, 2))


KEYS = ["0.scale", "0.fc.weight", "0.fc.bias", "0.bn.weight", "0.bn.bias", "0.bn.running_mean", "0.bn.running_var",
        "0.bn.num_batches_tracked", "2.weight", "2.bias"]


def test_parameters_buffers_and_children_in_registration_order():
    m = model()
    assert [n for n, _ in m.named_parameters()] == ["0.fc.weight", "0.fc.bias", "0.bn.weight", "0.bn.bias",
                                                    "2.weight", "2.bias"]
    assert [p.shape for p in m.parameters()] == [(4, 3), (4,), (4,), (4,), (2, 4), (2,)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert [n for n, _ in m.named_buffers()] == ["0.scale", "0.scratch", "0.bn.running_mean", "0.bn.running_var",
                                                 "0.bn.num_batches_tracked"]
    assert len(list(m.buffers())) == 5 and list(m[0].parameters(recurse=False)) == []
    assert [type(c).__name__ for c in m.children()] == ["Block", "ReLU", "Linear"]
    assert [n for n, _ in m.named_modules()] == ["", "0", "0.fc", "0.bn", "1", "2"]
    assert len(list(m.modules())) == 6


def test_shared_parameters_are_listed_once():
    fc = nn.Linear(2, 2)
    m = nn.Sequential(fc, nn.Tanh(), fc)
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as torch


def test_assignment_registers_replaces_and_deletes():
    m = nn.Module()
    m.w = nn.Parameter(mg.zeros(2))
    m.child = nn.Linear(1, 1)
    m.register_buffer("b", mg.ones(1))
    m.b = mg.zeros(3)  # re-assigning a buffer keeps it a buffer
    assert dict(m.named_buffers())["b"].shape == (3,)
    m.w = 5  # a plain value replaces the parameter
    assert m.w == 5 and "w" not in dict(m.named_parameters())
    del m.child
    assert list(m.children()) == []
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        _ = m.missing

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.zeros(1))

    with pytest.raises(AttributeError, match="Module.__init__"):
        Early()


def test_train_eval_requires_grad_and_zero_grad():
    m = model()
    assert all(x.training for x in m.modules())
    assert m.eval() is m and not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m[0].train(False)
    assert m.training and not m[0].fc.training and m[2].training

    m.train()(mg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.requires_grad_(False) is m and not any(p.requires_grad for p in m.parameters())
    assert not m(mg.randn(5, 3)).requires_grad
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_to_dtype_casts_floating_parameters_buffers_and_gradients_in_place():
    m = model()
    m(mg.randn(5, 3)).sum().backward()
    weight = m[2].weight
    m.to(dtype=np.float64)
    assert m[2].weight is weight  # same Parameter objects
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in m.parameters())
    assert m[0].bn.running_var.dtype == np.float64 and m[0].bn.num_batches_tracked.dtype == np.int64
    assert m(mg.randn(5, 3, dtype=mg.float64)).dtype == np.float64
    m.float()
    assert all(t.dtype == np.float32 for t in [*m.parameters(), m[0].bn.running_mean])


@pytest.mark.parametrize("make", [lambda **f: nn.Linear(2, 3, **f), lambda **f: nn.Conv2d(1, 2, 3, **f),
                                  lambda **f: nn.ConvTranspose2d(1, 2, 3, **f), lambda **f: nn.BatchNorm2d(2, **f),
                                  lambda **f: nn.LayerNorm(3, **f), lambda **f: nn.Embedding(4, 2, **f),
                                  lambda **f: nn.MinibatchDiscrimination(3, 2, 2, **f)])
def test_layers_take_device_and_dtype_as_torch(make):
    layer = make(device="cpu", dtype=mg.float64)
    assert all(t.dtype == np.float64 and t.device == "cpu" for t in layer.parameters())
    assert all(t.dtype == np.float64 for t in layer.buffers() if t.dtype.kind == "f")
    assert all(t.dtype == np.float32 for t in make().parameters())


def test_apply_visits_children_before_parents():
    seen = []
    m = model()
    assert m.apply(lambda x: seen.append(type(x).__name__)) is m
    assert seen == ["Linear", "BatchNorm1d", "Block", "ReLU", "Linear", "Sequential"]


def test_repr_nests_children_with_their_settings():
    text = repr(model())
    assert text.splitlines()[0] == "Sequential("
    assert "(fc): Linear(in_features=3, out_features=4, bias=True)" in text
    assert "(bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)" in text
    assert "(1): ReLU()" in text and text.endswith(")")
    assert repr(nn.Conv2d(1, 2, 3, stride=2, bias=False)) == \
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2), bias=False)"
    assert repr(nn.ConvTranspose2d(1, 2, 3, 2, 1, 1, dilation=2)) == \
        ("ConvTranspose2d(1, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
         "output_padding=(1, 1))")
    assert repr(nn.LayerNorm((2, 3), bias=False)) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=False)"
    assert repr(nn.Parameter(mg.zeros(1))).startswith("Parameter containing:")


def test_sequential_indexing_iteration_slicing_and_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and list(s) == layers and s[0] is layers[0] and s[-1] is layers[2]
    tail = s[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    assert list(tail.state_dict()) == ["2.weight", "2.bias"]  # names kept, as torch
    x = mg.randn(4, 2)
    np.testing.assert_allclose(s(x).numpy(), tail(layers[0](x)).numpy())
    with pytest.raises(IndexError):
        s[3]
    s.append(nn.Sigmoid())
    assert len(s) == 4 and isinstance(s[3], nn.Sigmoid)
    named = nn.Sequential(OrderedDict(first=nn.Linear(1, 1), act=nn.Tanh()))
    assert [n for n, _ in named.named_children()] == ["first", "act"] and named.first is named[0]
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 2)])
    assert len(ml) == 2 and len(list(ml.parameters())) == 4 and ml[1:][0] is ml[1]


# -- state dicts ----------------------------------------------------------------------------------

def snapshot(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def test_state_dict_round_trip():
    a, b = model(), model()
    a(mg.randn(5, 3))  # moves the running statistics
    assert list(a.state_dict()) == KEYS  # as torch: each module's own entries, then its children's
    assert b.load_state_dict(a.state_dict()) == ([], [])
    for k, v in snapshot(a).items():
        np.testing.assert_array_equal(b.state_dict()[k].numpy(), v)
    x = mg.randn(5, 3)
    np.testing.assert_array_equal(a.eval()(x).numpy(), b.eval()(x).numpy())
    # plain NumPy arrays load too, into the existing tensors, in their dtype
    weight = b[2].weight
    b.load_state_dict({k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()})
    assert b[2].weight is weight and weight.dtype == np.float32


def test_load_state_dict_names_every_bad_key_and_changes_nothing():
    m = model()
    before = snapshot(m)
    state = {k: v.numpy().copy() for k, v in model().state_dict().items()}
    del state["0.bn.running_var"]
    state["0.extra"] = np.zeros((2, 2))
    state["2.weight"] = np.zeros((3, 4))
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(state)
    message = str(info.value)
    assert "0.bn.running_var" in message and "missing" in message and "(4,)" in message
    assert "0.extra" in message and "unexpected" in message and "(2, 2)" in message
    assert "2.weight" in message and "(2, 4)" in message and "(3, 4)" in message
    assert isinstance(info.value, KeyError)
    for k, v in snapshot(m).items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_reports_missing_and_unexpected():
    m = model()
    state = {k: v.numpy() + 1 for k, v in model().state_dict().items() if k != "2.bias"}
    state["head.weight"] = np.zeros(1)
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert missing == ["2.bias"] and unexpected == ["head.weight"]
    np.testing.assert_array_equal(m[2].weight.numpy(), state["2.weight"])
    state["2.weight"] = np.zeros((1, 1))  # a shape mismatch is an error even when not strict
    with pytest.raises(nn.StateDictError, match=r"2\.weight.*\(2, 4\).*\(1, 1\)"):
        m.load_state_dict(state, strict=False)


# -- a gradient-check helper for modules ------------------------------------------------------------

def test_module_gradchecks_sees_a_wrong_parameter_gradient():
    m = nn.Linear(3, 2)
    module_gradchecks(m, mg.randn(4, 3, dtype=mg.float64, requires_grad=True))
    assert all(isinstance(p, nn.Parameter) for p in m.parameters())  # restored

    class Wrong(nn.Linear):  # a bias whose gradient is lost by a detach
        def forward(self, x):
            return x @ self.weight.T + self.bias.detach() * self.bias

    with pytest.raises(AssertionError):
        module_gradchecks(Wrong(3, 2), mg.randn(4, 3, dtype=mg.float64, requires_grad=True), second=False)


# -- initialisation --------------------------------------------------------------------------------

def test_calculate_gain():
    assert all(nn.init.calculate_gain(name) == 1 for name in ("linear", "conv2d", "conv_transpose2d", "sigmoid"))
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.init.calculate_gain("swish")


def check_uniform(t, bound):
    a = t.numpy()
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    assert a.var() == pytest.approx(bound**2 / 3, rel=0.05)
    assert abs(a.mean()) < 0.02 * bound


def check_normal(t, std, mean=0.0):
    a = t.numpy()
    assert a.std() == pytest.approx(std, rel=0.05) and abs(a.mean() - mean) < 0.05 * std


@pytest.mark.parametrize("shape, fan_in, fan_out", [((200, 300), 300, 200), ((40, 30, 3, 5), 450, 600)])
def test_xavier_and_kaiming_statistics(shape, fan_in, fan_out):
    t = mg.empty(*shape)
    assert nn.init.fan_in_and_fan_out(t) == (fan_in, fan_out)
    check_uniform(nn.init.xavier_uniform_(t, gain=2.0), 2.0 * math.sqrt(6 / (fan_in + fan_out)))
    check_normal(nn.init.xavier_normal_(t), math.sqrt(2 / (fan_in + fan_out)))
    check_uniform(nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(6 / fan_in))
    check_normal(nn.init.kaiming_normal_(t, a=0.2, mode="fan_out"), math.sqrt(2 / 1.04 / fan_out))
    check_normal(nn.init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu"), math.sqrt(2 / fan_in))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(t, mode="fan_avg")
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.xavier_uniform_(mg.empty(5))


@pytest.mark.parametrize("make, fan_in", [(lambda: nn.Linear(400, 300), 400),
                                          (lambda: nn.Conv2d(30, 64, (3, 5)), 450),
                                          (lambda: nn.ConvTranspose2d(64, 30, (5, 3)), 450)])  # fan_in = out * kh * kw
def test_default_layer_init_is_uniform_one_over_sqrt_fan_in(make, fan_in):
    layer = make()
    check_uniform(layer.weight, 1 / math.sqrt(fan_in))
    b = layer.bias.numpy()
    assert np.abs(b).max() <= 1 / math.sqrt(fan_in) and b.std() > 0.3 / math.sqrt(fan_in)


def test_dcgan_init_via_apply():
    G, D = dcgan(nn, 32, ngf=64, ndf=64)
    D.apply(dcgan_init_)
    G.apply(dcgan_init_)
    for m in [*G.modules(), *D.modules()]:
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            check_normal(m.weight, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            assert np.abs(m.weight.numpy() - 1).max() < 0.15 and np.all(m.bias.numpy() == 0)
    sn = nn.utils.spectral_norm(nn.Linear(300, 200))
    dcgan_init_(sn)
    check_normal(sn.weight_orig, 0.02)
    assert np.all(sn.bias.numpy() == 0)


def test_same_seed_same_weights():
    def weights(seed):
        mg.manual_seed(seed)
        G, D = dcgan(nn, 28)
        G.apply(dcgan_init_)
        return [p.numpy().copy() for p in [*G.parameters(), *D.parameters()]]

    first, again, other = weights(7), weights(7), weights(8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])
    g = mg.Generator(3)
    a = nn.init.normal_(mg.empty(5), generator=g).numpy().copy()
    assert np.array_equal(a, nn.init.normal_(mg.empty(5), generator=mg.Generator(3)).numpy())


def test_constant_inits_keep_dtype():
    t = mg.empty(3, 2, dtype=mg.float64)
    assert nn.init.ones_(t) is t and t.dtype == np.float64 and np.all(t.numpy() == 1)
    assert np.all(nn.init.zeros_(t).numpy() == 0) and np.all(nn.init.constant_(t, 0.5).numpy() == 0.5)


def test_clip_grad_norm():
    a, b = nn.Parameter(mg.tensor([3.0, 0.0])), nn.Parameter(mg.tensor([4.0]))
    a.grad, b.grad = mg.tensor([3.0, 0.0]), mg.tensor([4.0])
    assert nn.utils.clip_grad_norm_([a, b], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate([a.grad.numpy(), b.grad.numpy()]), [0.6, 0, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([a, b], 10.0, norm_type=float("inf")) == pytest.approx(0.8, rel=1e-5)
    assert nn.utils.clip_grad_norm_(nn.Parameter(mg.zeros(2)), 1.0) == 0.0  # a single tensor without a gradient


# -- a DCGAN stepped, saved, loaded and stepped again ------------------------------------------------

def gan_step(G, D, z, real, lr=0.1):
    """One plain gradient-descent step of D, then of G (non-saturating loss), on ``p.data``."""
    bce = nn.functional.binary_cross_entropy_with_logits
    fake = G(z)
    d_loss = bce(D(real), mg.ones(len(real), 1)) + bce(D(fake.detach()), mg.zeros(len(z), 1))
    D.zero_grad()
    d_loss.backward()
    for p in D.parameters():
        p.data = p.data - lr * p.grad.data
    g_loss = bce(D(G(z)), mg.ones(len(z), 1))
    G.zero_grad()
    g_loss.backward()
    for p in G.parameters():
        p.data = p.data - lr * p.grad.data
    return float(d_loss.item()), float(g_loss.item())


@pytest.mark.parametrize("size", [28, 32])
def test_dcgan_step_save_load_step_again_is_identical(size):
    G, D = dcgan(nn, size)
    G.apply(dcgan_init_)
    D.apply(dcgan_init_)
    z, real = mg.randn(4, 8, 1, 1), mg.rand(4, 1, size, size) * 2 - 1
    assert G(z).shape == (4, 1, size, size) and D(real).shape == (4, 1)
    before = [p.numpy().copy() for p in G.parameters()]
    gan_step(G, D, z, real)
    assert any(not np.array_equal(a, p.numpy()) for a, p in zip(before, G.parameters()))

    saved = [copy.deepcopy({k: v.numpy().copy() for k, v in m.state_dict().items()}) for m in (G, D)]
    G2, D2 = dcgan(nn, size)
    G2.load_state_dict(saved[0])
    D2.load_state_dict(saved[1])
    assert int(D2.state_dict()["3.num_batches_tracked"].item()) == 4  # the shape check, real, fake, G's pass
    losses, losses2 = gan_step(G, D, z, real), gan_step(G2, D2, z, real)
    assert losses == losses2
    for m, m2 in ((G, G2), (D, D2)):
        for (k, v), v2 in zip(m.state_dict().items(), m2.state_dict().values()):
            assert np.array_equal(v.numpy(), v2.numpy()), k
