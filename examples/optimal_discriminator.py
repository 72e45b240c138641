r"""The optimal discriminator, and the Jensen-Shannon divergence it measures.

For a fixed generator distribution p_g, the GAN value function

    V(D, G) = E_{p_data}[log D(x)] + E_{p_g}[log(1 - D(x))]

is maximised pointwise by D*(x) = p_data(x) / (p_data(x) + p_g(x)), and there

    V(D*, G) = -log 4 + 2 JSD(p_data || p_g).

This script takes a 1-D p_data (a mixture of two Gaussians) and a fixed p_g (one
wide Gaussian), trains a small minigan MLP as D on samples of both with minigan's
minimax (binary cross-entropy) D loss, and draws the trained D(x) against D*(x).
It then checks the identity by numerical integration, computing both sides
independently, and integrates V for the trained D, which can only fall short of
V(D*): V(D*) - V(D) = \int (p_data + p_g) KL(Bernoulli(D*) || Bernoulli(D)) dx >= 0.

Run: python examples/optimal_discriminator.py [--quick] [--out DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import integrate, stats  # noqa: E402

import minigan as mg  # noqa: E402
from minigan import nn, optim  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"
DATA = [(0.5, -2.0, 0.5), (0.5, 1.5, 0.8)]  # p_data: (weight, mean, std) of each component
G = (0.0, 1.5)  # p_g: (mean, std)


def log_p_data(x):
    return np.logaddexp.reduce([np.log(w) + stats.norm.logpdf(x, m, s) for w, m, s in DATA], axis=0)


def log_p_g(x):
    return stats.norm.logpdf(x, *G)


def sample_data(rng, n):
    component = rng.choice(len(DATA), size=n, p=[w for w, _, _ in DATA])
    means, stds = np.array([m for _, m, _ in DATA]), np.array([s for _, _, s in DATA])
    return means[component] + stds[component] * rng.standard_normal(n)


def train_discriminator(steps, batch, rng):
    """D trained by minigan's minimax D loss, BCE on logits: real samples labelled 1, p_g's labelled 0."""
    D = nn.Sequential(nn.Linear(1, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    opt = optim.Adam(D.parameters(), lr=2e-3)
    loss = mg.losses.get("minimax")
    for _ in range(steps):
        real = mg.tensor(sample_data(rng, batch)[:, None], dtype=mg.float32)
        fake = mg.tensor(rng.normal(*G, size=(batch, 1)), dtype=mg.float32)
        opt.zero_grad()
        loss.d_loss(D(real), D(fake)).backward()
        opt.step()
    return D


def logits_on(D, x):
    with mg.no_grad():
        return D(mg.tensor(x[:, None], dtype=mg.float32)).numpy()[:, 0].astype(np.float64)


def value_of_optimal_d():
    """V(D*, G) by quadrature, with log D* = log p - log(p + q) kept in log space so the tails stay finite."""
    def integrand(x):
        lp, lq = log_p_data(x), log_p_g(x)
        lm = np.logaddexp(lp, lq)
        return np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm)
    return integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def jensen_shannon():
    """JSD = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, by quadrature, independently of V."""
    def integrand(x):
        lp, lq = log_p_data(x), log_p_g(x)
        lm = np.logaddexp(lp, lq) - np.log(2)
        return 0.5 * np.exp(lp) * (lp - lm) + 0.5 * np.exp(lq) * (lq - lm)
    return integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def value_on_grid(x, logit):
    """V(D, G) = int p log sigma(a) + q log(1 - sigma(a)) dx on a grid, with log sigma(a) = -softplus(-a)."""
    p, q = np.exp(log_p_data(x)), np.exp(log_p_g(x))
    return integrate.simpson(-p * np.logaddexp(0, -logit) - q * np.logaddexp(0, logit), x=x)


def plot(x, d_trained, d_optimal, path):
    p, q = np.exp(log_p_data(x)), np.exp(log_p_g(x))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, height_ratios=(1, 1.3))
    top.fill_between(x, p, alpha=0.3, label=r"$p_{data}$ (mixture of two Gaussians)")
    top.fill_between(x, q, alpha=0.3, color="C1", label=r"$p_g$ (fixed Gaussian)")
    top.set_ylabel("density")
    top.set_title("A trained discriminator against the optimal one")
    top.legend(loc="upper right", fontsize=9)
    bottom.plot(x, d_optimal, "k--", lw=2, label=r"$D^*(x) = p_{data} / (p_{data} + p_g)$")
    bottom.plot(x, d_trained, color="C2", lw=2, label="trained D(x) = sigmoid(logit)")
    bottom.axhline(0.5, color="grey", lw=0.8, ls=":")
    bottom.set(xlabel="x", ylabel="D(x)", xlim=(-6, 6), ylim=(-0.02, 1.02))
    bottom.legend(loc="upper right", fontsize=9)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short training, for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    mg.kernels.set_num_threads(1)  # the products of a 1-D MLP are tiny: one thread is fastest

    v_optimal, jsd = value_of_optimal_d(), jensen_shannon()
    D = train_discriminator(steps=500 if args.quick else 3000, batch=256, rng=rng)

    x = np.linspace(-8, 8, 4001)
    logit = logits_on(D, x)
    log_d_star = log_p_data(x) - np.logaddexp(log_p_data(x), log_p_g(x))
    d_trained, d_optimal = 1 / (1 + np.exp(-logit)), np.exp(log_d_star)
    logit_optimal = log_p_data(x) - log_p_g(x)  # D* = sigmoid(log p - log q)
    where_mass = np.exp(log_p_data(x)) + np.exp(log_p_g(x)) > 0.02  # where D is trained on enough samples
    figure = args.out / "optimal_discriminator.png"
    plot(x, d_trained, d_optimal, figure)

    result = {
        "v_optimal": v_optimal, "jsd": jsd, "rhs": -np.log(4) + 2 * jsd,
        "identity_error": abs(v_optimal - (-np.log(4) + 2 * jsd)),
        "v_trained": value_on_grid(x, logit), "v_optimal_grid": value_on_grid(x, logit_optimal),
        "max_abs_d_error": float(np.max(np.abs(d_trained - d_optimal)[where_mass])),
        "figure": figure,
    }
    print(f"V(D*, G)            = {result['v_optimal']:.10f}   (quadrature)")
    print(f"-log 4 + 2 JSD      = {result['rhs']:.10f}   (JSD = {jsd:.10f}, quadrature)")
    print(f"difference          = {result['identity_error']:.2e}")
    print(f"V(trained D, G)     = {result['v_trained']:.6f}   <= V(D*, G) on the same grid = "
          f"{result['v_optimal_grid']:.6f}")
    print(f"max |D - D*| where p_data + p_g > 0.02: {result['max_abs_d_error']:.4f}")
    print(f"figure: {figure}")
    return result


if __name__ == "__main__":
    main()
