r"""The f-GAN family: a critic's variational lower bound on each f-divergence.

For a convex phi with phi(1) = 0 (the "f" of f-GAN) and its convex conjugate
phi*(t) = sup_u (t u - phi(u)),

    D_phi(P || Q) = \int q(x) phi(p(x)/q(x)) dx  >=  sup_T  E_P[T(x)] - E_Q[phi*(T(x))],

with equality at T*(x) = phi'(p(x)/q(x)) (Nowozin, Cseke and Tomioka 2016). A critic
outputs a raw value V(x), which the output activation g_phi maps into the domain
of phi*: T = g_phi(V). minigan's f-GAN D loss is L_D = -E_P[g_phi(V)] + E_Q[phi*(g_phi(V))],
with P the data (D's "real" input) and Q the generator (its "fake" input), so
-L_D is the bound.

For two fixed 1-D Gaussians P and Q, this script trains one small minigan MLP
critic per f-divergence minigan implements (KL, reverse KL, Pearson chi^2,
squared Hellinger, Jensen-Shannon, total variation) with that f-GAN loss on
samples, integrates the bound its T reaches, and compares it with D_phi computed
directly by integrating q phi(p/q). At T* the bound, evaluated with minigan's own
g_phi and phi* o g_phi, equals D_phi. A second figure draws each output activation g_phi.

Run: python examples/divergences.py [--quick] [--out DIR] [--seed 0]
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
P, Q = (0.0, 1.0), (1.0, 1.5)  # (mean, std): P plays the data, Q the generator

# Per divergence, as functions of the log density ratio rho = log(p/q) (u = e^rho): a label, f(u), the optimal raw
# output V* = g_phi^{-1}(phi'(u)) (Table 2 of the paper), and the domain of phi* that g_phi maps into.
DIVERGENCES = {
    "fgan-kl": ("KL", lambda rho: np.exp(rho) * rho, lambda rho: 1 + rho, (None, None)),
    "fgan-reverse-kl": ("reverse KL", lambda rho: -rho, lambda rho: rho, (None, 0.0)),
    "fgan-pearson": ("Pearson χ²", lambda rho: np.expm1(rho) ** 2, lambda rho: 2 * np.expm1(rho), (None, None)),
    "fgan-hellinger": ("squared Hellinger", lambda rho: np.expm1(rho / 2) ** 2, lambda rho: rho / 2, (None, 1.0)),
    "fgan-js": ("Jensen-Shannon (2 JSD)",
                lambda rho: np.exp(rho) * rho - (np.exp(rho) + 1) * (np.logaddexp(rho, 0) - np.log(2)),
                lambda rho: rho, (None, np.log(2))),
    # T* = sign(p - q)/2 is reached only as V -> +-inf; tanh(40) is 1 in float64
    "fgan-tv": ("total variation", lambda rho: 0.5 * np.abs(np.expm1(rho)), lambda rho: 40 * np.sign(rho), (-0.5, 0.5)),
}


def densities(x):
    return stats.norm.pdf(x, *P), stats.norm.pdf(x, *Q), stats.norm.logpdf(x, *P) - stats.norm.logpdf(x, *Q)


def bound(loss, x, v):
    """E_P[g_phi(V)] - E_Q[phi*(g_phi(V))] = -L_D, integrated on the grid x with minigan's g_phi and phi* o g_phi."""
    p, q, _ = densities(x)
    return integrate.simpson(p * type(loss).activation(v) - q * type(loss).conjugate(v), x=x)


def train_critic(loss, steps, batch, rng):
    """A critic V trained to minimise minigan's f-GAN D loss on samples of P (real) and Q (fake)."""
    V = nn.Sequential(nn.Linear(1, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    opt = optim.Adam(V.parameters(), lr=1e-3)
    for step in range(steps):
        if step == 2 * steps // 3:  # a smaller last third of steps: the sampled losses are heavy-tailed
            opt.param_groups[0]["lr"] = 1e-4
        from_p = mg.tensor(rng.normal(*P, size=(batch, 1)), dtype=mg.float32)
        from_q = mg.tensor(rng.normal(*Q, size=(batch, 1)), dtype=mg.float32)
        opt.zero_grad()
        loss.d_loss(V(from_p), V(from_q)).backward()
        opt.step()
    return V


def raw_outputs(V, x):
    with mg.no_grad():
        return V(mg.tensor(x[:, None], dtype=mg.float32)).numpy()[:, 0].astype(np.float64)


def plot_bounds(results, x, path):
    names = list(results)
    fig = plt.figure(figsize=(12, 8.5), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=(1.2, 1, 1))
    bars = fig.add_subplot(grid[0, :])
    at = np.arange(len(names))
    for shift, key, label in ((-0.27, "divergence", r"$D_\varphi(P\|Q) = \int q\, \varphi(p/q)$ (quadrature)"),
                              (0, "bound_optimal", r"bound at $T^* = \varphi'(p/q)$"),
                              (0.27, "bound_trained", "bound reached by the trained critic")):
        bars.bar(at + shift, [results[n][key] for n in names], width=0.27, label=label)
    bars.set_xticks(at, [DIVERGENCES[n][0] for n in names])
    bars.set(ylabel="value",
             title=r"$E_P[T] - E_Q[\varphi^*(T)]$ against $D_\varphi(P\|Q)$, for P = N(0, 1), Q = N(1, 1.5$^2$)")
    bars.legend(fontsize=9)
    window = (x >= -3) & (x <= 4) & (np.arange(len(x)) % 10 == 0)  # where P or Q has most mass; every 10th point
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[1 + i // 3, i % 3])
        t_optimal, t_trained = results[name]["t_optimal"][window], results[name]["t_trained"][window]
        ax.plot(x[window], t_optimal, "k--", label=r"$T^* = \varphi'(p/q)$")
        ax.plot(x[window], t_trained, color="C2", label=r"trained $T = g_\varphi(V)$")
        margin = 0.1 * np.ptp(t_optimal)
        ax.set(title=DIVERGENCES[name][0], xlabel="x", ylim=(t_optimal.min() - margin, t_optimal.max() + margin))
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_activations(path):
    v = np.linspace(-4, 4, 401)
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), sharex=True, layout="constrained")
    for ax, (name, (label, _, _, domain)) in zip(axes.flat, DIVERGENCES.items()):
        ax.plot(v, type(mg.losses.get(name)).activation(v), lw=2, label=r"$g_\varphi(v)$")
        for i, edge in enumerate(e for e in domain if e is not None):
            ax.axhline(edge, color="C3", ls=":", label=None if i else r"edge of dom $\varphi^*$")
        ax.set(title=f"{label} ({name})", xlabel="raw output v", ylim=(-4, 4))
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(r"f-GAN output activations: $T = g_\varphi(v)$ maps any raw output into the domain of $\varphi^*$")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short training, for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    mg.kernels.set_num_threads(1)  # the products of a 1-D MLP are tiny: one thread is fastest

    x = np.linspace(-12, 12, 24001)  # P and Q hold all but ~1e-14 of their mass here
    p, q, log_ratio = densities(x)
    results = {}
    for name, (label, f, v_optimal, _) in DIVERGENCES.items():
        loss = mg.losses.get(name)
        V = train_critic(loss, steps=100 if args.quick else 1200, batch=256, rng=rng)
        results[name] = {
            "divergence": integrate.simpson(q * f(log_ratio), x=x),
            "bound_optimal": bound(loss, x, v_optimal(log_ratio)),
            "bound_trained": bound(loss, x, raw_outputs(V, x)),
            "t_optimal": type(loss).activation(v_optimal(log_ratio)),
            "t_trained": type(loss).activation(raw_outputs(V, x)),
        }
    figures = (args.out / "divergences.png", args.out / "divergences-activations.png")
    plot_bounds(results, x, figures[0])
    plot_activations(figures[1])

    print(f"{'divergence':>24} {'D_phi (quadrature)':>17} {'bound at T*':>12} {'trained bound':>14} {'ratio':>6}")
    for name, r in results.items():
        r["ratio"] = r["bound_trained"] / r["divergence"]
        print(f"{DIVERGENCES[name][0]:>24} {r['divergence']:17.6f} {r['bound_optimal']:12.6f} "
              f"{r['bound_trained']:14.6f} {r['ratio']:6.3f}")
    print(f"figures: {figures[0]}, {figures[1]}")
    return {"divergences": results, "grid": x, "figures": figures}


if __name__ == "__main__":
    main()
