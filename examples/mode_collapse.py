r"""Mode collapse on ring8: which losses collapse, why G collapses against a frozen D, and two remedies.

G learns faster than D (lr 2e-3 vs 5e-4). Three losses (non-saturating, LSGAN, hinge), then non-saturating with
2 D-steps per G-step or PacGAN (D judges `pack` samples at once). Helvetica scenario: against a frozen D, G's loss
-E_z log sigmoid(D(G(z))) is minimised by G(z) = argmax_x D(x), a point mass. More: docs/examples/mode_collapse.md.

Run: python examples/mode_collapse.py [--quick] [--out DIR] [--seed 0]
"""

import argparse
import copy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan as mg  # noqa: E402
from minigan.data import ring8  # noqa: E402
from minigan.metrics import mode_coverage  # noqa: E402
from minigan.models import MLPDiscriminator, MLPGenerator  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"
RING = ring8()  # 8 Gaussians (std 0.02) on a circle of radius 2
LATENT, HIDDEN, BATCH, N_EVAL, BOX = 8, 64, 128, 2500, 3.0
G_LR, D_LR, BETAS = 2e-3, 5e-4, (0.5, 0.999)
RUNS = [("non-saturating", "nonsaturating", 1, 1), ("LSGAN", "lsgan", 1, 1), ("hinge", "hinge", 1, 1),
        ("NS + 2 D-steps", "nonsaturating", 2, 1), ("NS + PacGAN (pack=2)", "nonsaturating", 1, 2)]  # D-steps, pack
FROZEN = "NS + 2 D-steps"  # the run whose D is frozen for the Helvetica scenario


def update(opt, loss):
    opt.zero_grad()
    loss.backward()
    opt.step()


def train(loss_name, d_steps, pack, steps, snapshot_steps, every, seed):
    """One GAN: its final and running mode coverage, and its samples and a copy of (G, D) at each snapshot step."""
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    G, D = MLPGenerator(LATENT, 2, (HIDDEN, HIDDEN), output="linear"), MLPDiscriminator(2, (HIDDEN, HIDDEN), pack=pack)
    g_opt = mg.optim.Adam(G.parameters(), lr=G_LR, betas=BETAS)
    d_opt = mg.optim.Adam(D.parameters(), lr=D_LR, betas=BETAS)
    loss = mg.losses.get(loss_name)
    z = mg.randn(N_EVAL, LATENT, generator=mg.Generator(seed + 1))  # fixed, so snapshots compare
    curve, snapshots = [], {}
    for step in range(1, steps + 1):
        for _ in range(d_steps):
            fake = G(mg.randn(BATCH, LATENT)).numpy()  # a plain array: D's loss does not reach G
            out = D(mg.tensor(np.concatenate([RING.sample(BATCH, rng), fake])))  # packs never straddle the halves
            update(d_opt, loss.d_loss(out[:len(out) // 2], out[len(out) // 2:]))
        update(g_opt, loss.g_loss(D(G(mg.randn(BATCH, LATENT)))))  # D's gradients, filled too, are reset before use
        if step % every == 0 or step in snapshot_steps:
            x = G(z).numpy()
            cov = mode_coverage(x, RING.centres, RING.std)
            curve.append((step, cov["modes_covered"], cov["high_quality_fraction"]))
            if step in snapshot_steps:
                snapshots[step] = (x, *copy.deepcopy((G, D)))
    return {"modes_covered": curve[-1][1], "high_quality_fraction": curve[-1][2], "curve": curve}, snapshots


def helvetica(G, D, steps, seed):
    """G (a snapshot's copy) trained alone against frozen D: samples before and after, D's logit map and argmax."""
    loss, opt = mg.losses.get("nonsaturating"), mg.optim.Adam(G.parameters(), lr=G_LR, betas=BETAS)
    boxed = lambda z: mg.clamp(G(z), min=-BOX, max=BOX)  # noqa: E731
    z = mg.randn(N_EVAL, LATENT, generator=mg.Generator(seed + 2))
    before = boxed(z).numpy()
    for _ in range(steps):
        update(opt, loss.g_loss(D(boxed(mg.randn(BATCH, LATENT)))))
    after = boxed(z).numpy()
    ticks = np.linspace(-BOX, BOX, 241)
    grid = np.stack(np.meshgrid(ticks, ticks), -1).reshape(-1, 2).astype(np.float32)
    logits = D(mg.tensor(grid)).numpy().reshape(len(ticks), len(ticks))
    argmax = grid[logits.argmax()]
    stats = {key: {"modes_covered": mode_coverage(x, RING.centres, RING.std)["modes_covered"],
                   "spread": float(np.sqrt(x.var(0).sum())),  # RMS distance to the mean: ~2 on the ring
                   "near_argmax": float((np.linalg.norm(x - argmax, axis=1) < 0.5).mean())}
             for key, x in (("before", before), ("after", after))}
    b, a = stats["before"], stats["after"]
    summary = f"modes {b['modes_covered']} -> {a['modes_covered']}, spread {b['spread']:.2f} -> {a['spread']:.2f}"
    return {"before": before, "after": after, "logits": logits, "argmax": argmax, "stats": stats, "summary": summary}


def ring_axes(ax, **labels):
    ax.scatter(*RING.centres.T, marker="x", c="red", s=25, lw=1)
    ax.set(xlim=(-BOX, BOX), ylim=(-BOX, BOX), aspect="equal", xticks=[], yticks=[], **labels)


def plot_runs(results):
    fig = plt.figure(figsize=(8.8, 2.2 * len(RUNS) + 3.2))  # a row per run, a column per snapshot, then the curves
    grid = fig.add_gridspec(len(RUNS) + 1, 4, height_ratios=[1] * len(RUNS) + [1.4], top=0.94, hspace=0.3)
    for r, (label, (_, snapshots)) in enumerate(results.items()):
        for c, (step, (x, *_)) in enumerate(snapshots.items()):
            ax = fig.add_subplot(grid[r, c])
            ax.scatter(*x.T, s=1, alpha=0.3)
            ring_axes(ax, title=f"step {step}" if r == 0 else "", ylabel=label if c == 0 else "")
    for col, name in ((1, "modes covered (of 8)"), (2, "high-quality fraction")):
        ax = fig.add_subplot(grid[-1, 2 * col - 2:2 * col])
        for label, (cov, _) in results.items():
            ax.plot([row[0] for row in cov["curve"]], [row[col] for row in cov["curve"]], label=label, lw=1.2)
        ax.set(xlabel="training step", title=name)
    ax.legend(fontsize=7)
    fig.suptitle(f"ring8, G lr {G_LR:g} > D lr {D_LR:g}: samples of G (red x: the 8 modes)", y=0.99)
    return fig


def plot_helvetica(scenarios, g_steps):
    fig, axes = plt.subplots(1, len(scenarios), figsize=(4.2 * len(scenarios), 4.4))
    for ax, (step, h) in zip(axes, scenarios.items()):
        ax.imshow(h["logits"], extent=(-BOX, BOX, -BOX, BOX), origin="lower", cmap="viridis")
        ax.scatter(*h["before"].T, s=2, c="white", alpha=0.4)
        ax.scatter(*h["after"].T, s=2, c="orange", alpha=0.4)
        ax.scatter(*h["argmax"], marker="*", s=250, facecolors="none", edgecolors="red", lw=1.5)
        ring_axes(ax, title=f"D frozen at step {step}\n{h['summary']}")
    fig.suptitle(f"Helvetica scenario on the '{FROZEN}' run. Heat map: the frozen D's logit, red star: its argmax;\n"
                 f"G's samples before (white) and after {g_steps} steps against the frozen D (orange)", y=1.07)
    return fig


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short settings for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the figures go")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    mg.kernels.set_num_threads(1)  # products of 128 x 64 matrices: one thread is fastest
    steps, every, g_steps = (200, 40, 150) if args.quick else (3000, 100, 500)
    snapshot_steps = [steps // 10, steps // 3, 2 * steps // 3, steps]
    results = {label: train(loss, k, pack, steps, snapshot_steps, every, args.seed) for label, loss, k, pack in RUNS}
    scenarios = {at: helvetica(G, D, g_steps, args.seed) for at, (_, G, D) in results[FROZEN][1].items()}
    figures = {"runs": args.out / "mode_collapse.png", "helvetica": args.out / "mode_collapse-helvetica.png"}
    for name, fig in (("runs", plot_runs(results)), ("helvetica", plot_helvetica(scenarios, g_steps))):
        fig.savefig(figures[name], dpi=120, bbox_inches="tight")
        plt.close(fig)
    coverage = {label: cov for label, (cov, _) in results.items()}
    for label, c in coverage.items():
        print(f"{label:>20}: {c['modes_covered']:.0f} modes, high-quality fraction {c['high_quality_fraction']:.2f}")
    for at, h in scenarios.items():
        near = [h["stats"][key]["near_argmax"] for key in ("before", "after")]
        print(f"D frozen at step {at:>4}: {h['summary']}, within 0.5 of argmax D {near[0]:.2f} -> {near[1]:.2f}")
    return {"steps": steps, "coverage": coverage, "helvetica": {at: h["stats"] for at, h in scenarios.items()},
            "figures": {k: str(v) for k, v in figures.items()}}


if __name__ == "__main__":
    main()
