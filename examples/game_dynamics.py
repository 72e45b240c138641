r"""Why plain gradient descent circles a GAN's equilibrium, and which fixes converge.

Five update rules (see ``update``) in two games with their Nash equilibrium at z = (theta, psi) = (0, 0): the
bilinear game V = theta psi, and the Dirac-GAN (Mescheder et al. 2018), V = f(psi theta) + f(0), f = log sigmoid.
All gradients use create_graph=True, so the Jacobian of an update z' = T(z) at (0, 0) comes by double backward; its
eigenvalues (closed forms: docs/examples/game_dynamics.md) decide: |lambda| > 1 spirals out, = 1 circles, < 1 converges.

Run:  python examples/game_dynamics.py  [--quick] [--out DIR]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan as mg  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"
GAMES = {"bilinear": (lambda t: t, 1.0), "Dirac-GAN": (mg.log_sigmoid, 0.5)}  # f and f'(0)
METHODS = ("simultaneous", "alternating", "R1 penalty", "consensus", "extragradient")
REAL = mg.zeros((1, 1), dtype=mg.float64)  # the data: one point at 0
ETA, GAMMA = 0.3, 0.5  # step size; weight of the R1 and consensus terms


def field(f, theta, psi, r1=0.0):
    """v = (dV/dtheta, -dV/dpsi), differentiable again (create_graph=True)."""
    theta, psi = theta + 0.0, psi + 0.0  # fresh nodes: mg.grad follows every path, and psi' may depend on theta
    V = f(psi * theta) + f(-(psi * REAL).sum())  # f(D(theta)) + f(-D(0)), D(x) = psi x
    if r1:  # D ascends V - r1/2 ||grad_x D(0)||^2 = V - r1/2 psi^2 (no theta in it: G's gradient is unchanged)
        V = V - mg.losses.r1_penalty(lambda x: psi * x, REAL, gamma=r1)
    g_theta, g_psi = mg.grad(V, [theta, psi], create_graph=True)
    return g_theta, -g_psi


def update(method, f, theta, psi):
    """One step (theta, psi) -> (theta', psi') of ``method``, as a recorded function of (theta, psi)."""
    if method == "alternating":  # D moves first, G answers the new D
        psi = psi - ETA * field(f, theta, psi)[1]
        return theta - ETA * field(f, theta, psi)[0], psi
    v = field(f, theta, psi, r1=GAMMA if method == "R1 penalty" else 0.0)
    if method == "consensus":  # also descend GAMMA/2 ||v||^2: a gradient of gradients
        extra = mg.grad(0.5 * GAMMA * (v[0] ** 2 + v[1] ** 2), [theta, psi], create_graph=True)
        v = [vi + ei for vi, ei in zip(v, extra)]
    elif method == "extragradient":  # look ahead, then step from z with the look-ahead's field
        v = field(f, theta - ETA * v[0], psi - ETA * v[1])
    return theta - ETA * v[0], psi - ETA * v[1]


def leaves(z):
    return [mg.tensor(float(zi), dtype=mg.float64, requires_grad=True) for zi in z]


def trajectory(method, f, z0, steps):
    path = [np.asarray(z0, dtype=np.float64)]
    for _ in range(steps):
        path.append(np.array([t.item() for t in update(method, f, *leaves(path[-1]))]))
    return np.array(path)


def update_jacobian(method, f):
    """dT/dz at (0, 0), through the gradients inside the update (retain_graph: both rows share one graph)."""
    z = leaves((0.0, 0.0))
    rows = [mg.grad(out, z, retain_graph=True, materialize_grads=True) for out in update(method, f, *z)]
    return np.array([[g.item() for g in row] for row in rows])


def closed_form_eigenvalues(method, c):
    """Eigenvalues of the update for the linearised field v = c (psi, -theta), c = f'(0), plus its extra terms."""
    h, r = ETA * c, ETA * GAMMA / 2
    root = {"simultaneous": 1 + 1j * h, "alternating": (2 - h * h + 1j * h * np.sqrt(4 - h * h + 0j)) / 2,
            "R1 penalty": 1 - r + np.sqrt(r**2 - h * h + 0j), "consensus": 1 - ETA * GAMMA * c * c + 1j * h,
            "extragradient": 1 - h * h + 1j * h}[method]
    return np.sort_complex(np.array([root, np.conj(root)]))


def plot_trajectories(paths):
    fig, axes = plt.subplots(len(GAMES), len(METHODS) + 1, figsize=(21, 7.4), layout="tight")
    T, P = np.meshgrid(np.linspace(-3.6, 3.6, 15), np.linspace(-3.6, 3.6, 15))
    for row, (game, (f, _)) in enumerate(GAMES.items()):
        arrows = -np.array([[[g.item() for g in field(f, *leaves(z))] for z in zip(*r)] for r in zip(T, P)])
        arrows /= np.linalg.norm(arrows, axis=-1, keepdims=True) + 1e-12  # directions only (zero at (0, 0))
        for col, method in enumerate(METHODS):
            ax, z = axes[row, col], paths[game][method]
            ax.quiver(T, P, arrows[..., 0], arrows[..., 1], color="0.75", scale=22, width=0.004)
            ax.plot(z[:, 0], z[:, 1], lw=1.0, color=f"C{col}")
            ax.plot(*z[0], "o", color="k", ms=5, label="start")
            ax.plot(0, 0, "*", color="red", ms=12, label="Nash (0, 0)")
            ax.set(xlim=(-3.8, 3.8), ylim=(-3.8, 3.8), aspect="equal", xlabel=r"$\theta$ (generator)",
                   title=f"{game}: {method}\nfinal |z| = {np.hypot(*z[-1]):.3g}")
            axes[row, -1].semilogy(np.hypot(*z.T), color=f"C{col}", label=method)
        axes[row, 0].set_ylabel(r"$\psi$ (discriminator)")
        axes[row, 0].legend(loc="lower left", fontsize=8)
        axes[row, -1].set(xlabel="step", ylabel="distance to Nash |z|", ylim=(1e-16, 1e8), title=f"{game}, eta = {ETA}")
        axes[row, -1].legend(fontsize=8)
    return fig


def plot_eigenvalues(eigs, closed):
    fig, axes = plt.subplots(1, len(GAMES), figsize=(12, 5.6), layout="tight")
    circle = np.exp(1j * np.linspace(0, np.pi, 4000))  # upper half-plane: each eigenvalue's conjugate lies below
    for ax, game in zip(axes, GAMES):
        ax.plot(circle.real, circle.imag, "k-", lw=1, label="unit circle |λ| = 1")
        for col, (m, marker) in enumerate(zip(METHODS, "osD^v")):
            lam, exact = eigs[game][m][-1], closed[game][m][-1]
            ax.plot(lam.real, lam.imag, marker, color=f"C{col}", ms=11, alpha=0.8, label=f"{m}: |λ| = {abs(lam):.4f}")
            ax.plot(exact.real, exact.imag, "k+", ms=9, label="closed form" if col == 0 else None)
        upper = np.array([eigs[game][m][-1] for m in METHODS])
        ax.set(xlim=(upper.real.min() - 0.03, 1.03), ylim=(upper.imag.min() - 0.03, upper.imag.max() + 0.02),
               xlabel=r"Re $\lambda$", ylabel=r"Im $\lambda$", title=game)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle("Eigenvalues of the update Jacobian at (0, 0), by double backward: outside the circle spirals out")
    return fig


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figures")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    steps, z0 = (300 if args.quick else 600), (1.0, 1.0)
    paths = {g: {m: trajectory(m, f, z0, steps) for m in METHODS} for g, (f, _) in GAMES.items()}
    jacobians = {g: {m: update_jacobian(m, f) for m in METHODS} for g, (f, _) in GAMES.items()}
    eigs = {g: {m: np.sort_complex(np.linalg.eigvals(J)) for m, J in row.items()} for g, row in jacobians.items()}
    closed = {g: {m: closed_form_eigenvalues(m, c) for m in METHODS} for g, (_, c) in GAMES.items()}
    figures = {name: args.out / f"{name}.png" for name in ("game_dynamics", "game_dynamics-eigenvalues")}
    for fig, path in zip((plot_trajectories(paths), plot_eigenvalues(eigs, closed)), figures.values()):
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
    start = float(np.hypot(*z0))
    final = {g: {m: float(np.hypot(*paths[g][m][-1])) for m in METHODS} for g in GAMES}
    error = {g: {m: float(np.max(np.abs(eigs[g][m] - closed[g][m]))) for m in METHODS} for g in GAMES}
    moduli = {g: {m: float(np.max(np.abs(eigs[g][m]))) for m in METHODS} for g in GAMES}
    print(f"eta = {ETA}, gamma = {GAMMA}, {steps} steps from (theta, psi) = {z0}, |z0| = {start:.3f}")
    for game in GAMES:
        for m in METHODS:
            lam = eigs[game][m][-1]
            print(f"{game:9s} {m:14s} lambda = {lam.real:.6f} +- {abs(lam.imag):.6f}i  |lambda| = {abs(lam):.6f}  "
                  f"(closed form off by {error[game][m]:.1e})  final |z| = {final[game][m]:.3g}")
    return {"start_distance": start, "final_distance": final, "eigenvalues": eigs, "closed_form": closed,
            "eigenvalue_error": error, "moduli": moduli, "jacobians": jacobians,
            "eta": ETA, "gamma": GAMMA, "steps": steps, "figures": figures}


if __name__ == "__main__":
    main()
