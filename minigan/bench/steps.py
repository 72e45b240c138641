"""The workloads: one GAN training step, written for minigan, and the same for PyTorch and JAX.

Three workloads, each a full step (one discriminator update, one generator
update, Adam):

- ``mlp``: MLP GAN on 784-d data (G 64-256-512-784, D 784-512-256-1), BCE losses;
- ``dcgan``: DCGAN for 28x28 images (latent 64, width 64, batch norm);
- ``wgan-gp``: the MLP pair with a Wasserstein critic and a gradient penalty (lambda 10);
- the image-to-image workloads (``pix2pix``, ``srgan``, ``cyclegan``) of :mod:`minigan.bench.translation`,
  each at its recipe's batch.

PyTorch's version is the identical architecture and step; JAX's (the MLP
and WGAN-GP workloads) is one function compiled whole with ``jax.jit``, the
fastest way to run such a step on a CPU.
"""

from __future__ import annotations

from minigan.bench.translation import WORKLOADS as TRANSLATION

LATENT, IMAGE, HIDDEN = 64, 784, (256, 512)
WORKLOADS = ("mlp", "dcgan", "wgan-gp", *TRANSLATION)
BATCHES = (64, 256)  # the classic workloads' default batches


def batches_for(workload: str, batches=None) -> tuple[int, ...]:
    """The batches ``workload`` runs at: ``batches`` when given, else its default ones."""
    if batches:
        return tuple(batches)
    return (TRANSLATION[workload].batch,) if workload in TRANSLATION else BATCHES


def _mlp_pair(nn):
    """The MLP generator and discriminator, built from ``nn``: minigan's or PyTorch's, the same code."""
    G = nn.Sequential(nn.Linear(LATENT, HIDDEN[0]), nn.ReLU(), nn.Linear(HIDDEN[0], HIDDEN[1]), nn.ReLU(),
                      nn.Linear(HIDDEN[1], IMAGE), nn.Tanh())
    D = nn.Sequential(nn.Linear(IMAGE, HIDDEN[1]), nn.LeakyReLU(0.2), nn.Linear(HIDDEN[1], HIDDEN[0]),
                      nn.LeakyReLU(0.2), nn.Linear(HIDDEN[0], 1))
    return G, D


# -- minigan ------------------------------------------------------------------------------
def _minigan_step(workload: str, batch: int):
    if workload in TRANSLATION:
        return TRANSLATION[workload].minigan(batch)
    import minigan as mg
    import minigan.nn.functional as F
    from minigan import losses, nn, optim
    from minigan.autograd.profiler import phase
    from minigan.models import DCGANDiscriminator, DCGANGenerator

    mg.manual_seed(0)
    if workload == "dcgan":
        G, D = DCGANGenerator(LATENT, 28, 1, 64), DCGANDiscriminator(28, 1, 64)
        real = mg.randn(batch, 1, 28, 28).tanh()
    else:
        G, D = _mlp_pair(nn)
        real = mg.randn(batch, IMAGE).tanh()
    betas = (0.5, 0.9) if workload == "wgan-gp" else (0.5, 0.999)
    g_opt, d_opt = optim.Adam(G.parameters(), 2e-4, betas), optim.Adam(D.parameters(), 2e-4, betas)
    ones, zeros = mg.ones(batch, 1), mg.zeros(batch, 1)

    step = _step(workload, G, D, real, lambda: mg.randn(batch, LATENT), ones, zeros, g_opt, d_opt,
                 lambda fake: losses.gradient_penalty(D, real, fake, 10.0), F, mg.no_grad, phase)
    step.networks = {"G": G, "D": D}
    return step


def _step(workload, G, D, real, latent, ones, zeros, g_opt, d_opt, penalty, F, no_grad, phase):
    """One GAN step, the same code for minigan and PyTorch: each passes its own networks, functional module,
    ``no_grad`` and phase marker (minigan's profiler phase, PyTorch's ``record_function``)."""
    def step():
        with phase("D forward"):
            with no_grad():
                fake = G(latent())
            real_out, fake_out = D(real), D(fake)
            if workload == "wgan-gp":
                d_loss = fake_out.mean() - real_out.mean() + penalty(fake)
            else:
                d_loss = (F.binary_cross_entropy_with_logits(real_out, ones)
                          + F.binary_cross_entropy_with_logits(fake_out, zeros))
        with phase("D backward"):
            d_opt.zero_grad()
            d_loss.backward()
        with phase("D optimiser"):
            d_opt.step()
        with phase("G forward"):
            D.requires_grad_(False)
            fake_out = D(G(latent()))
            g_loss = -fake_out.mean() if workload == "wgan-gp" else F.binary_cross_entropy_with_logits(fake_out, ones)
        with phase("G backward"):
            g_opt.zero_grad()
            g_loss.backward()
        with phase("G optimiser"):
            g_opt.step()
            D.requires_grad_(True)

    return step


# -- PyTorch, the same thing ----------------------------------------------------------------
def _torch_step(workload: str, batch: int):
    if workload in TRANSLATION:
        return TRANSLATION[workload].torch(batch)
    import torch
    from torch import nn
    from torch.nn import functional as F
    from torch.autograd.profiler import record_function as phase

    torch.manual_seed(0)
    if workload == "dcgan":
        G = nn.Sequential(nn.ConvTranspose2d(LATENT, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                          nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                          nn.Conv2d(128, 1, 7, 1, 0), nn.Flatten())
        real = torch.randn(batch, 1, 28, 28).tanh()
        latent = lambda: torch.randn(batch, LATENT, 1, 1)  # noqa: E731
    else:
        G, D = _mlp_pair(nn)
        real = torch.randn(batch, IMAGE).tanh()
        latent = lambda: torch.randn(batch, LATENT)  # noqa: E731
    betas = (0.5, 0.9) if workload == "wgan-gp" else (0.5, 0.999)
    try:
        g_opt = torch.optim.Adam(G.parameters(), 2e-4, betas, fused=True)
        d_opt = torch.optim.Adam(D.parameters(), 2e-4, betas, fused=True)
    except (RuntimeError, TypeError):
        g_opt, d_opt = torch.optim.Adam(G.parameters(), 2e-4, betas), torch.optim.Adam(D.parameters(), 2e-4, betas)
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def penalty(fake):
        eps = torch.rand(batch, *([1] * (real.ndim - 1)))
        mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)
        return 10.0 * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()

    return _step(workload, G, D, real, latent, ones, zeros, g_opt, d_opt, penalty, F, torch.no_grad, phase)


_TORCH_DEFAULT_THREADS: int | None = None


def _set_torch_threads(torch, threads: int | None) -> None:
    """PyTorch with ``threads`` intra-op threads, or with its own default (what it had when first seen)."""
    global _TORCH_DEFAULT_THREADS
    if _TORCH_DEFAULT_THREADS is None:
        _TORCH_DEFAULT_THREADS = torch.get_num_threads()
    torch.set_num_threads(threads or _TORCH_DEFAULT_THREADS)


def _set_threads(threads: int | None) -> None:
    """Both libraries with ``threads`` threads, or each with its default (minigan's policy, PyTorch's own)."""
    from minigan import kernels

    kernels.set_num_threads(threads or kernels.threads.policy_threads())
    if _torch_available():
        import torch

        _set_torch_threads(torch, threads)


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# -- JAX, the same MLP steps compiled whole with jax.jit -------------------------------------
def _jax_step(workload: str, batch: int):
    """The MLP or WGAN-GP step as one ``jax.jit``-compiled function of parameters, Adam state and key."""
    import jax
    import jax.numpy as jnp

    def linear(key, fan_in, fan_out):  # PyTorch's default initialisation
        bound = 1 / fan_in ** 0.5
        kw, kb = jax.random.split(key)
        return (jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -bound, bound),
                jax.random.uniform(kb, (fan_out,), jnp.float32, -bound, bound))

    def network(key, sizes):
        return [linear(k, a, b) for k, a, b in zip(jax.random.split(key, len(sizes) - 1), sizes, sizes[1:])]

    def G(params, z):
        for w, b in params[:-1]:
            z = jax.nn.relu(z @ w + b)
        return jnp.tanh(z @ params[-1][0] + params[-1][1])

    def D(params, x):
        for w, b in params[:-1]:
            x = jax.nn.leaky_relu(x @ w + b, 0.2)
        return x @ params[-1][0] + params[-1][1]

    wgan = workload == "wgan-gp"
    beta1, beta2 = (0.5, 0.9) if wgan else (0.5, 0.999)

    def adam(params, grads, state, t):
        m, v = state
        m = jax.tree.map(lambda m, g: beta1 * m + (1 - beta1) * g, m, grads)
        v = jax.tree.map(lambda v, g: beta2 * v + (1 - beta2) * g * g, v, grads)
        step = lambda p, m, v: p - 2e-4 * (m / (1 - beta1 ** t)) / (jnp.sqrt(v / (1 - beta2 ** t)) + 1e-8)  # noqa: E731
        return jax.tree.map(step, params, m, v), (m, v)

    def bce(logits, target):
        return jnp.mean(jnp.maximum(logits, 0) - logits * target + jnp.log1p(jnp.exp(-jnp.abs(logits))))

    def d_loss(d, real, fake, eps):
        if not wgan:
            return bce(D(d, real), 1.0) + bce(D(d, fake), 0.0)
        mixed = eps * real + (1 - eps) * fake
        grads = jax.grad(lambda x: D(d, x).sum())(mixed)
        penalty = 10.0 * jnp.mean((jnp.linalg.norm(grads, axis=1) - 1) ** 2)
        return jnp.mean(D(d, fake)) - jnp.mean(D(d, real)) + penalty

    def g_loss(g, d, z):
        out = D(d, G(g, z))
        return -jnp.mean(out) if wgan else bce(out, 1.0)

    @jax.jit
    def step(state, real, key, t):
        g, d, g_opt, d_opt = state
        k1, k2, k3 = jax.random.split(key, 3)
        fake = jax.lax.stop_gradient(G(g, jax.random.normal(k1, (batch, LATENT))))
        d, d_opt = adam(d, jax.grad(d_loss)(d, real, fake, jax.random.uniform(k3, (batch, 1))), d_opt, t)
        g, g_opt = adam(g, jax.grad(g_loss)(g, d, jax.random.normal(k2, (batch, LATENT))), g_opt, t)
        return g, d, g_opt, d_opt

    key = jax.random.PRNGKey(0)
    kg, kd, kx = jax.random.split(key, 3)
    g, d = network(kg, (LATENT, *HIDDEN, IMAGE)), network(kd, (IMAGE, *reversed(HIDDEN), 1))
    zeros = lambda p: (jax.tree.map(jnp.zeros_like, p), jax.tree.map(jnp.zeros_like, p))  # noqa: E731
    state = [(g, d, zeros(g), zeros(d))]
    real, t = jnp.tanh(jax.random.normal(kx, (batch, IMAGE))), [0]

    def run():
        t[0] += 1
        state[0] = jax.block_until_ready(step(state[0], real, jax.random.fold_in(key, t[0]), t[0]))

    return run


JAX_WORKLOADS = ("mlp", "wgan-gp")
