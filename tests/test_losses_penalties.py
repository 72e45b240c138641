"""Gradient penalties: known answers, and second derivatives through MLP and conv discriminators."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.losses.penalties import dragan_penalty, gradient_penalty, r1_penalty, r2_penalty
from minigan.testing import gradgradcheck
from minigan.testing import functional_call

PENALTIES = {
    "gradient_penalty": lambda D, real, fake, gen: gradient_penalty(D, real, fake, lambda_=2.0, generator=gen),
    "r1_penalty": lambda D, real, fake, gen: r1_penalty(D, real, gamma=3.0),
    "r2_penalty": lambda D, real, fake, gen: r2_penalty(D, fake, gamma=3.0),
    "dragan_penalty": lambda D, real, fake, gen: dragan_penalty(D, real, lambda_=2.0, generator=gen),
}


def mlp_critic():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double(), (2, 3)


def conv_critic():
    critic = nn.Sequential(nn.Conv2d(1, 2, 2), nn.Tanh(), nn.Flatten(), nn.Linear(8, 1))
    return critic.double(), (2, 1, 3, 3)


def quadratic(x):
    r""":math:`D(x) = \tfrac12\lVert x\rVert^2` per sample, whose input gradient is :math:`x`."""
    return 0.5 * (x * x).sum(axis=tuple(range(1, x.ndim)))


def batch(shape, seed):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape))


# -- second derivatives -----------------------------------------------------------------------------

@pytest.mark.parametrize("make_critic", [mlp_critic, conv_critic], ids=["mlp", "conv"])
@pytest.mark.parametrize("name", PENALTIES)
@settings(max_examples=4)
@given(seed=st.integers(0, 2**16))
def test_penalty_second_derivatives(name, make_critic, seed):
    """The penalty's gradient in D's parameters and in the batches is itself differentiated right."""
    mg.manual_seed(seed)
    critic, shape = make_critic()
    params = list(critic.parameters())
    real, fake = batch(shape, seed).requires_grad_(), batch(shape, seed + 1).requires_grad_()

    def penalty(*args):  # a fresh generator per call: finite differences see the same noise
        D = lambda x: functional_call(critic, args[:len(params)], x)
        return PENALTIES[name](D, *args[len(params):], mg.Generator(seed))

    gradgradcheck(penalty, [*params, real, fake])


# -- known answers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3, 3)])
def test_linear_critic_has_gradient_norm_w_everywhere(shape):
    """D(x) = w.x + b: the input gradient is w at every point, so GP = lambda (|w| - 1)^2 exactly."""
    critic = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(shape[1:])), 1)).double()
    w = np.linalg.norm(critic[1].weight.numpy())
    real, fake = batch(shape, 0), batch(shape, 1)
    value, mean_norm = gradient_penalty(critic, real, fake, lambda_=3.0, return_norm=True)
    assert value.item() == pytest.approx(3.0 * (w - 1) ** 2, rel=1e-12)
    assert mean_norm.item() == pytest.approx(w, rel=1e-12)
    assert dragan_penalty(critic, real, lambda_=3.0, k=0.5).item() == pytest.approx(3.0 * (w - 0.5) ** 2, rel=1e-12)
    assert gradient_penalty(critic, real, fake, target=0.0).item() == pytest.approx(10 * w ** 2, rel=1e-12)


def test_linear_critic_penalty_gradient_reaches_the_weights():
    """Double backward: d/dw lambda (|w| - 1)^2 = 2 lambda (|w| - 1) w / |w|."""
    critic = nn.Linear(4, 1).double()
    gradient_penalty(critic, batch((3, 4), 0), batch((3, 4), 1), lambda_=2.0).backward()
    w = critic.weight.numpy()
    expected = 4.0 * (np.linalg.norm(w) - 1) * w / np.linalg.norm(w)
    np.testing.assert_allclose(critic.weight.grad.numpy(), expected, rtol=1e-12)
    assert critic.bias.grad is None  # the input gradient w does not depend on b


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 2)])
def test_r1_and_r2_of_a_quadratic(shape):
    """D(x) = |x|^2 / 2 has input gradient x, so R1 = gamma/2 E|x|^2 on real data and R2 on fake."""
    real, fake = batch(shape, 0), batch(shape, 1)
    squared = lambda x: (x.numpy().reshape(shape[0], -1) ** 2).sum(axis=1)
    value, mean_norm = r1_penalty(quadratic, real, gamma=4.0, return_norm=True)
    assert value.item() == pytest.approx(2.0 * squared(real).mean(), rel=1e-12)
    assert mean_norm.item() == pytest.approx(np.sqrt(squared(real)).mean(), rel=1e-12)
    assert r2_penalty(quadratic, fake, gamma=4.0).item() == pytest.approx(2.0 * squared(fake).mean(), rel=1e-12)


def test_gradient_penalty_between_equal_batches_sees_the_batch():
    """Interpolating a batch with itself gives the batch, whatever epsilon is drawn."""
    x = batch((6, 3), 0)
    norms = np.linalg.norm(x.numpy(), axis=1)
    assert gradient_penalty(quadratic, x, x).item() == pytest.approx(10 * ((norms - 1) ** 2).mean(), rel=1e-12)


def test_interpolation_is_per_sample_and_seeded():
    """epsilon ~ U[0, 1] is one draw per sample: on the segment from 0 to a unit vector, |grad| = 1 - epsilon."""
    real = mg.zeros(64, 2, 2, dtype=mg.float64)
    fake = mg.tensor(np.full((64, 2, 2), 0.5))  # each sample has norm 1
    _, first = gradient_penalty(quadratic, real, fake, generator=mg.Generator(7), return_norm=True)
    _, again = gradient_penalty(quadratic, real, fake, generator=mg.Generator(7), return_norm=True)
    _, other = gradient_penalty(quadratic, real, fake, generator=mg.Generator(8), return_norm=True)
    assert first.item() == again.item() != other.item()
    eps = mg.rand(64, 1, 1, dtype=mg.float64, generator=mg.Generator(7)).numpy().ravel()
    assert first.item() == pytest.approx((1 - eps).mean(), rel=1e-12)


@pytest.mark.parametrize("name", PENALTIES)
def test_penalties_leave_detached_batches_alone_and_train_bn_critics(name):
    """Batches need not require grad (none is set on them); a BatchNorm critic still gets gradients."""
    critic = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.LeakyReLU(0.2), nn.Flatten(),
                           nn.Linear(18, 1)).double()
    real, fake = batch((4, 1, 3, 3), 0), batch((4, 1, 3, 3), 1)
    value = PENALTIES[name](critic, real, fake, None)
    assert value.shape == () and np.isfinite(value.item())
    value.backward()
    assert not real.requires_grad and real.grad is None and fake.grad is None
    assert all(np.any(p.grad.numpy() != 0) for p in (critic[0].weight, critic[1].weight, critic[4].weight))


def test_gradient_penalty_rejects_batches_of_different_shapes():
    with pytest.raises(ValueError, match=r"gradient_penalty: real \(2, 3\) and fake \(3, 3\)"):
        gradient_penalty(quadratic, batch((2, 3), 0), batch((3, 3), 1))
