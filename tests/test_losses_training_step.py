"""A whole training step, end to end, for every registered adversarial loss and every penalty.

Tiny float64 G and D built from Linear, ConvTranspose2d, Conv2d, BatchNorm2d and
LeakyReLU. Each step is written as a function of the parameters being updated
(D's for the D step, G's for the G step) and gradient-checked, so every
primitive on the path, the loss objects and the double backward of the
penalties are checked together, and a step that cuts its own graph fails.
"""

import importlib
import importlib.util

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.losses import registry
from minigan.losses.penalties import dragan_penalty, gradient_penalty, r1_penalty, r2_penalty
from minigan.testing import GradcheckError, NonDifferentiableError, gradcheck
from minigan.testing import functional_call


def _import_losses():
    """Every module that registers losses; the adversarial ones only once they exist in the tree."""
    for name in ("minigan.losses", "minigan.losses.adversarial", "minigan.losses.fgan", "minigan.losses.auxiliary"):
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


_import_losses()
LOSSES = registry.available()
PENALTIES = {
    "none": None,
    "gradient_penalty": lambda D, real, fake, gen: gradient_penalty(D, real, fake, generator=gen),
    "r1_penalty": lambda D, real, fake, gen: r1_penalty(D, real),
    "r2_penalty": lambda D, real, fake, gen: r2_penalty(D, fake),
    "dragan_penalty": lambda D, real, fake, gen: dragan_penalty(D, real, generator=gen),
}
LATENT = 3
step_settings = settings(max_examples=4)


def make_gan():
    """G: z (N, 3) -> (N, 1, 4, 4) images; D: images -> (N, 1) outputs."""
    G = nn.Sequential(nn.Linear(LATENT, 8), nn.Unflatten(1, (2, 2, 2)), nn.ConvTranspose2d(2, 2, 2, stride=2),
                      nn.BatchNorm2d(2), nn.LeakyReLU(0.2), nn.Conv2d(2, 1, 3, padding=1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.BatchNorm2d(2), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(8, 1))
    return G.double(), D.double()


def discriminator_for(name, D):
    """D as the loss reads it: catgan's loss reads class logits, so D's one output is mapped to three."""
    return nn.Sequential(D, nn.Linear(1, 3).double()) if name == "catgan" else D


def make_loss(name):
    loss = registry.get(name)
    if name == "began":
        loss.k = 0.5  # k_0 = 0 would leave the fake term out of D's loss
    return loss


@st.composite
def setups(draw):
    """A seeded G and D, a real batch and latents; hypothesis draws the seed and the batch size."""
    seed, n = draw(st.integers(0, 2**16)), draw(st.integers(2, 3))
    mg.manual_seed(seed)
    G, D = make_gan()
    real = mg.tanh(mg.randn(n, 1, 4, 4, dtype=mg.float64))
    return seed, G, D, real, mg.randn(n, LATENT, dtype=mg.float64)


# -- the steps, as functions of the parameters they update -------------------------------------------------

def d_step(loss, penalty, G, D, real, z, seed):
    """D's objective as a function of D's parameters: d_loss + penalty, with G's samples held fixed."""
    fake = G(z).detach()  # G is not updated in D's step

    def objective(*d_params):
        critic = lambda x: functional_call(D, d_params, x)
        total = loss.d_loss(critic(real), critic(fake))
        if penalty is not None:  # a fresh generator per call: finite differences see the same noise
            total = total + penalty(critic, real, fake, mg.Generator(seed))
        return total

    return objective


def g_step(loss, G, D, real, z):
    """G's objective as a function of G's parameters: g_loss of D's outputs on G(z), D frozen."""
    D.requires_grad_(False)  # the gradient flows through D into G, none is kept for D

    def objective(*g_params):
        fake_out = D(functional_call(G, g_params, z))
        return loss.g_loss(fake_out, D(real) if loss.needs_real_for_g else None)

    return objective


def check(objective, params):
    """gradcheck, discarding the rare draw where a LeakyReLU or hinge kink lies within a step of the point."""
    try:
        gradcheck(objective, params)
    except NonDifferentiableError:
        assume(False)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("name", LOSSES)
@step_settings
@given(setup=setups())
def test_discriminator_step(name, penalty, setup):
    seed, G, D, real, z = setup
    D = discriminator_for(name, D)
    check(d_step(make_loss(name), PENALTIES[penalty], G, D, real, z, seed), list(D.parameters()))


@pytest.mark.parametrize("name", LOSSES)
@step_settings
@given(setup=setups())
def test_generator_step(name, setup):
    _, G, D, real, z = setup
    check(g_step(make_loss(name), G, discriminator_for(name, D), real, z), list(G.parameters()))


@pytest.mark.skipif(importlib.util.find_spec("minigan.losses.adversarial") is None,
                    reason="the adversarial losses are not in the tree yet")
def test_every_adversarial_loss_takes_part():
    expected = {"minimax", "nonsaturating", "lsgan", "hinge", "wasserstein", "rsgan", "ragan", "ebgan", "began",
                *(f"fgan-{d}" for d in ("kl", "reverse-kl", "pearson", "hellinger", "js", "tv"))}
    assert expected <= set(LOSSES)


# -- the check catches steps that cut their own graph ------------------------------------------------------

def _interpolates(real, fake, generator):
    eps = mg.rand(real.shape[0], 1, 1, 1, dtype=real.dtype, generator=generator)
    return eps * real + (1 - eps) * fake


def penalty_without_create_graph(critic, real, fake, generator):
    """WGAN-GP whose input gradient is taken with create_graph=False: a constant of D's parameters."""
    x = mg.Tensor(_interpolates(real, fake, generator).data, requires_grad=True)
    (g,) = mg.grad(critic(x).sum(), x)
    return 10.0 * ((g.reshape(g.shape[0], -1).norm(axis=1) - 1) ** 2).mean()


def penalty_on_dot_grad(critic, real, fake, generator):
    """The input gradient read from ``x.grad`` after a plain backward(), which records nothing."""
    x = mg.Tensor(_interpolates(real, fake, generator).data, requires_grad=True)
    critic(x).sum().backward()
    return 10.0 * ((x.grad.reshape(x.shape[0], -1).norm(axis=1) - 1) ** 2).mean()


def g_step_bypassing_d(loss, G, D, real, z):
    """G's loss on D's outputs for a detached G(z): the gradient never reaches G through D."""
    D.requires_grad_(False)
    return lambda *g_params: loss.g_loss(D(functional_call(G, g_params, z).detach()))


@pytest.mark.parametrize("penalty", [penalty_without_create_graph, penalty_on_dot_grad])
def test_gradcheck_catches_a_penalty_cut_from_d_parameters(penalty):
    mg.manual_seed(1)
    G, D = make_gan()
    real, z = mg.tanh(mg.randn(3, 1, 4, 4, dtype=mg.float64)), mg.randn(3, LATENT, dtype=mg.float64)
    objective = d_step(registry.get("began"), penalty, G, D, real, z, seed=1)
    with pytest.raises(GradcheckError, match="wrong gradient"):
        gradcheck(objective, list(D.parameters()))


def test_gradcheck_catches_a_generator_step_that_bypasses_d():
    mg.manual_seed(1)
    G, D = make_gan()
    real, z = mg.tanh(mg.randn(3, 1, 4, 4, dtype=mg.float64)), mg.randn(3, LATENT, dtype=mg.float64)
    with pytest.raises(GradcheckError, match="wrong gradient"):
        gradcheck(g_step_bypassing_d(registry.get("ebgan"), G, D, real, z), list(G.parameters()))
