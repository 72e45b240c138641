r"""Walking a generator's latent space: linear versus spherical paths, and arithmetic with class means.

A latent z ~ N(0, I_d) lies near the shell |z| = sqrt(d) +- 1/sqrt(2); the straight line between two latents dips
to |(a + b)/2| ~ sqrt(d/2) at its midpoint, a norm the prior almost never draws. Slerp keeps to the shell:

    slerp(a, b; t) = sin((1 - t) W) / sin W * a + sin(t W) / sin W * b,    cos W = a.b / (|a| |b|).

The mean latent z_k of the samples the digits classifier labels k decodes to a k; z + z_b - z_a turns an a into a b.

Run: python examples/latent_space.py [--checkpoint CKPT]  (without one it first trains a DCGAN for 400 steps, ~35 s)
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import chi  # noqa: E402

from minigan import viz  # noqa: E402
from minigan.metrics import load_digits_classifier  # noqa: E402
from minigan.runner import load_game  # noqa: E402
from minigan.train.config import apply_overrides, load_recipe  # noqa: E402
from minigan.train.trainer import Trainer  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"


def trained_game(checkpoint: str | None, steps: int, seed: int):
    """A checkpoint's game, or a DCGAN trained ``steps`` steps on the digits (high learning rate, no EMA: fast)."""
    if checkpoint:
        return load_game(checkpoint)[0]
    overrides = [f"train.seed={seed}", "optim.g_lr=1e-3", "optim.d_lr=1e-3", "optim.ema=0"]
    trainer = Trainer(apply_overrides(load_recipe("dcgan-digits"), overrides))
    for _ in range(steps):
        trainer.train_step()
    return trainer.game


def class_means(G, classifier, z: np.ndarray, min_count: int, confident: float = 0.9):
    """Each class's mean latent (NaN below ``min_count`` samples), z's labels (-1 below ``confident``), the counts."""
    p = classifier.probabilities(G(z))
    labels = np.where(p.max(1) >= confident, p.argmax(1), -1)
    counts = np.bincount(labels[labels >= 0], minlength=10)
    means = np.stack([z[labels == k].mean(0) if counts[k] >= min_count else np.full(z.shape[1], np.nan)
                      for k in range(10)])
    return means, labels, counts


def transfer_rate(G, classifier, z, labels, means, per_class: int = 20) -> float:
    """How often z + z_b - z_a turns a sample of class a (``per_class`` of each) into a b, over all pairs a != b."""
    pairs = [(a, b) for a in range(10) for b in range(10) if a != b and not np.isnan(means[[a, b]]).any()]
    if not pairs:
        return float("nan")
    moved = [z[labels == a][:per_class] + means[b] - means[a] for a, b in pairs]
    targets = np.concatenate([np.full(len(m), b) for m, (_, b) in zip(moved, pairs)])
    return float((classifier.probabilities(G(np.concatenate(moved))).argmax(1) == targets).mean())


def show(ax, images: np.ndarray, nrow: int, xticks=(), yticks=(), **labels) -> None:
    """``images`` ``(N, 1, 8, 8)`` as one grid, ticks at the centres of its 9-pixel cells, and ``ax.set(**labels)``."""
    ax.imshow(viz.image_grid(images, nrow=nrow), cmap="gray", vmin=0, vmax=255)
    ax.set_xticks(np.arange(len(xticks)) * 9 + 4.5, xticks, fontsize=7)
    ax.set_yticks(np.arange(len(yticks)) * 9 + 4.5, yticks)
    ax.set(**labels)


def plot_interpolation(G, shown: np.ndarray, linear, spherical, t, path) -> None:
    """Left: G along both paths between each pair of ``shown`` ``(rows, 2, d)``. Right: |z(t)| over all paths."""
    d = shown.shape[-1]
    rows = [G(zs) for a, b in shown for zs in ((1 - t)[:, None] * a + t[:, None] * b, viz.slerp(a, b, t))]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1.2, 1]})
    show(left, np.concatenate(rows), len(t), [f"{v:.2g}" for v in t], ["linear", "slerp"] * len(shown),
         title="G(z(t)); each pair of rows shares its endpoints", xlabel="t")
    for name, p, colour in (("linear", linear, "C0"), ("slerp", spherical, "C1")):
        norms = np.linalg.norm(p, axis=2) / np.sqrt(d)
        right.plot(t, norms.mean(0), colour, label=f"{name} (mean, 5-95%)")
        right.fill_between(t, *np.percentile(norms, [5, 95], axis=0), color=colour, alpha=0.25)
    right.axhspan(*chi.ppf([0.01, 0.99], d) / np.sqrt(d), color="grey", alpha=0.2, label="prior's 1-99% range")
    right.plot(t, np.sqrt(t**2 + (1 - t) ** 2), "k:", label=r"$\sqrt{t^2 + (1-t)^2}$ (orthogonal ends)")
    right.set(xlabel="t", ylabel=r"$|z(t)| / \sqrt{d}$", ylim=(0.45, 1.55), title=f"latent norm along the path, d={d}")
    right.legend(fontsize=8, loc="upper center", ncol=2)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_arithmetic(G, z, labels, means, present, path) -> int:
    """Top: G at each class's mean latent. Below: samples of one class a (columns) moved by z_b - z_a (rows b)."""
    a = max(present, key=lambda k: (labels == k).sum())
    originals = z[labels == a][:8]
    moved = np.concatenate([originals + means[b] - means[a] for b in present])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 8), gridspec_kw={"height_ratios": [1, 7]})
    show(top, G(means[present]), len(present), present, title=r"$G(\bar z_k)$: the mean latent of each class $k$")
    show(bottom, G(moved), len(originals), yticks=[f"b = {b}" for b in present],
         title=rf"$G(z + \bar z_b - \bar z_a)$, $z$ of class $a = {a}$ (row $b = a$: $G(z)$)")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return a


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint of `minigan train` on the 8x8 digits (default: train one)")
    parser.add_argument("--quick", action="store_true", help="short settings for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    game = trained_game(args.checkpoint, 25 if args.quick else 400, args.seed)

    def G(z: np.ndarray) -> np.ndarray:  # the generator's samples (N, 1, 8, 8) at the latents z (N, d)
        return game.sample(len(z), z=z.astype(np.float32))
    d, t, classifier = game.latent_dim, np.linspace(0, 1, 9), load_digits_classifier()
    z = rng.standard_normal((500 if args.quick else 3000, d)).astype(np.float32)
    means, labels, counts = class_means(G, classifier, z, min_count=3 if args.quick else 10)
    present = [k for k in range(10) if not np.isnan(means[k]).any()]
    ends = rng.standard_normal((200 if args.quick else 1000, 2, d))
    linear = (1 - t)[:, None] * ends[:, :1] + t[:, None] * ends[:, 1:]  # (pairs, steps, d)
    spherical = np.stack([viz.slerp(a, b, t) for a, b in ends])
    norms = np.linalg.norm(ends, axis=2)  # (pairs, 2)
    deviation = np.abs(np.linalg.norm(spherical, axis=2) / ((1 - t) * norms[:, :1] + t * norms[:, 1:]) - 1)
    midpoint = {name: p[:, len(t) // 2].astype(np.float32) for name, p in (("linear", linear), ("slerp", spherical))}
    ratio = float((np.linalg.norm(midpoint["linear"], axis=1) / norms.mean(1)).mean())
    confidence = {name: float(classifier.probabilities(G(m)).max(1).mean()) for name, m in midpoint.items()}
    shown = z[[np.flatnonzero(labels == k)[0] for k in present[:6]] + list(range(6 - min(6, len(present))))]
    figure, arithmetic = args.out / "latent_space.png", args.out / "latent_space-arithmetic.png"
    plot_interpolation(G, shown.reshape(3, 2, d), linear, spherical, t, figure)
    a = plot_arithmetic(G, z, labels, means, present, arithmetic)
    accuracy = float((classifier.probabilities(G(means[present])).argmax(1) == present).mean())
    transfer, prior = transfer_rate(G, classifier, z, labels, means), float(chi.cdf(np.sqrt(d / 2), d))
    print(f"d = {d}, {len(linear)} pairs of latents: |linear midpoint| / |endpoints| = {ratio:.3f} (1/sqrt(2) = "
          f"{2 ** -0.5:.3f}; the prior draws a norm that small with probability {prior:.2g})")
    print(f"  slerp keeps the endpoints' norm to {deviation.mean():.2%} on average (worst {deviation.max():.2%}); "
          f"classifier confidence at the midpoints: linear {confidence['linear']:.3f}, slerp {confidence['slerp']:.3f}")
    print(f"class means: {len(present)} classes found; G(mean latent of k) classified as k: {accuracy:.0%}; "
          f"z + z_b - z_a classified as b: {transfer:.0%} (chance 10%)")
    print(f"figures: {figure}, {arithmetic}")
    return {"latent_dim": d, "image_shape": tuple(game.data.shape), "interpolation_shape": G(spherical[0]).shape,
            "linear_midpoint_ratio": ratio, "prior_mass_below_midpoint": prior, "midpoint_confidence": confidence,
            "slerp_mean_deviation": float(deviation.mean()), "slerp_max_deviation": float(deviation.max()),
            "classes_found": len(present), "class_counts": counts.tolist(), "class_mean_accuracy": accuracy,
            "transfer_rate": transfer, "arithmetic_class": a, "figure": figure, "figure_arithmetic": arithmetic}


if __name__ == "__main__":
    main()
