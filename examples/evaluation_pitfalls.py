r"""Evaluation pitfalls: FD's bias in N, what precision/recall and density/coverage see, C2ST vs FD, and DRS.

Four ways a metric misleads, each on data where the truth is known: (a) FD_N ~ FD + b / N is biased in the sample
size N, its intercept in 1/N is FD_inf; (b) one real outlier fools precision, less so density; (c) FD ~ 0 between
ring8 and a Gaussian with its mean and covariance, which a classifier two-sample test (C2ST) tells apart; (d) DRS
with the exact log p_data / p_g removes samples off the modes but brings back no mode. More: the docs page.

Run: python examples/evaluation_pitfalls.py [--quick] [--out DIR] [--seed 0]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.special import logsumexp  # noqa: E402

import minigan as mg  # noqa: E402
from minigan.data import grid25, ring8  # noqa: E402
from minigan.metrics import (classifier_two_sample_test, density_coverage, discriminator_rejection_sampling,  # noqa: E402
                             frechet_distance, frechet_distance_from_statistics, frechet_distance_infinity,
                             mode_coverage, precision_recall)
from minigan.metrics.manifold import kth_neighbour_radii  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"
RING, GRID = ring8(), grid25()
DIM = 64                              # feature dimension for the FD bias
PSIS = [2.0, 1.5, 1.0, 0.7, 0.5, 0.3]  # truncation: noise scale relative to the data's
SCORES = ("precision", "recall", "density", "coverage")


def fd_bias(ax, rng, n_real, n_fake):
    """(a) FD_N against a fixed real set, for a generator equal to the data and one slightly off, with FD_inf."""
    root = rng.standard_normal((DIM, DIM)) / np.sqrt(DIM)  # features ~ N(mean, root root^T)
    real = rng.standard_normal((n_real, DIM)) @ root.T
    cases = {"same distribution": (np.zeros(DIM), root), "shifted 0.05, scaled 1.1": (np.full(DIM, 0.05), 1.1 * root)}
    fits = {}
    for (name, (mean, r)), colour in zip(cases.items(), ("C0", "C1")):
        fake = mean + rng.standard_normal((n_fake, DIM)) @ r.T
        fit = fits[name] = frechet_distance_infinity(real, fake, n_sizes=8, min_fraction=0.05)
        fit["true"] = frechet_distance_from_statistics(np.zeros(DIM), root @ root.T, mean, r @ r.T)
        print(f"FD, {name}: N={fit['sizes'][0]} {fit['values'][0]:.3f}, N={fit['sizes'][-1]} "
              f"{fit['values'][-1]:.3f}, FD_inf {fit['fd_infinity']:.3f}, population {fit['true']:.3f}")
        ax.plot(1000 / np.array(fit["sizes"]), fit["values"], "o", c=colour, label=f"{name}: FD_N")
        ax.axline((0, fit["fd_infinity"]), slope=fit["slope"] / 1000, c=colour, lw=1,
                  label=f"fit: FD_inf = {fit['fd_infinity']:.3f}")
        ax.axhline(fit["true"], c=colour, ls=":", label=f"population FD = {fit['true']:.3f}")
    ax.set(xlabel="1000 / N  (N generated samples)", ylabel="Fréchet distance", xlim=(0, None),
           title=f"FD's bias in N ({DIM}-D Gaussian features, {n_real} real)")
    ax.legend(fontsize=8)
    return fits


def manifold_metrics(axes, rng, n):
    """(b) Precision/recall (k=3), density/coverage (k=5) against truncation psi, and with one real outlier."""
    real = RING.sample(n, rng).astype(np.float64)
    fakes = {psi: RING.centres[rng.integers(0, 8, n)] + psi * RING.std * rng.standard_normal((n, 2)) for psi in PSIS}
    scores = {psi: {**precision_recall(real, fake), **density_coverage(real, fake)} for psi, fake in fakes.items()}
    blob = 0.7 * rng.standard_normal((n, 2))  # a bad generator: one blob inside the ring
    with_outlier = np.concatenate([real, [[0.0, 0.0]]])  # one real sample at the centre
    outlier = {name: {**precision_recall(r, blob), **density_coverage(r, blob)}
               for name, r in (("clean", real), ("one outlier", with_outlier))}
    for psi, s in scores.items():
        print(f"psi={psi:<4}: " + ", ".join(f"{k} {s[k]:.3f}" for k in SCORES))
    for name, s in outlier.items():
        print(f"blob generator, {name}: precision {s['precision']:.3f}, density {s['density']:.3f}")
    for ax, points in zip(axes, (real, with_outlier)):  # the k=3 balls of the real samples
        radii = kth_neighbour_radii(points, 3)
        ax.add_collection(matplotlib.collections.EllipseCollection(
            2 * radii, 2 * radii, 0, units="xy", offsets=points, offset_transform=ax.transData, alpha=0.08, color="C0"))
        ax.scatter(*points.T, s=3, c="C0", label="real")
        ax.set(aspect="equal", xlabel="x1", ylabel="x2")
    inside = (np.linalg.norm(fakes[1.5][:, None] - real[None], axis=2) <= kth_neighbour_radii(real, 3)).any(1)
    axes[0].scatter(*fakes[1.5][inside].T, s=6, c="green", label="fake (psi=1.5) inside a ball")
    axes[0].scatter(*fakes[1.5][~inside].T, s=6, c="red", label="fake outside every ball")
    axes[1].scatter(*blob.T, s=2, c="orange", alpha=0.4, label="bad generator: a blob")
    axes[0].set(xlim=(1.85, 2.15), ylim=(-0.15, 0.15), title="k=3 balls of real samples (zoom on one mode)")
    c, o = outlier["clean"], outlier["one outlier"]
    axes[1].set(xlim=(-2.6, 2.6), ylim=(-2.6, 2.6), title=f"one real outlier at the centre: blob's precision "
                f"{c['precision']:.2f} -> {o['precision']:.2f}\ndensity {c['density']:.2f} -> {o['density']:.2f}")
    for key in SCORES:
        axes[2].plot(PSIS, [scores[psi][key] for psi in PSIS], "o-", label=key)
    axes[2].axvline(1.0, c="gray", ls=":", label="psi = 1: the data")
    axes[2].set(xlabel="psi: noise scale vs the data's (right: more truncated)", ylabel="score", xticks=PSIS,
                title="truncated ring8: x = c + psi std eps", xlim=(2.1, 0.2))
    for ax, loc in zip(axes, ("upper left", "upper left", "best")):
        ax.legend(fontsize=8, loc=loc)
    return {"psi": PSIS, **{k: [scores[psi][k] for psi in PSIS] for k in SCORES}}, outlier


def c2st_vs_fd(ax, rng, n, steps, seed):
    """(c) ring8 against the Gaussian with its mean and covariance: FD and the C2ST accuracy."""
    real = RING.sample(n, rng).astype(np.float64)
    gauss = rng.standard_normal((n, 2)) * np.sqrt(2.0 + RING.std ** 2)  # ring of radius 2: covariance (2 + s^2) I
    same = RING.sample(n, rng).astype(np.float64)
    c = {"fd": frechet_distance(real, gauss), "fd_same": frechet_distance(real, same),
         "c2st": classifier_two_sample_test(real, gauss, steps=steps, seed=seed)["accuracy"],
         "c2st_same": classifier_two_sample_test(real, same, steps=steps, seed=seed)["accuracy"]}
    print(f"ring8 vs moment-matched Gaussian: FD {c['fd']:.4f}, C2ST accuracy {c['c2st']:.3f} "
          f"(ring8 vs ring8: FD {c['fd_same']:.4f}, C2ST {c['c2st_same']:.3f})")
    ax.scatter(*gauss.T, s=2, alpha=0.3, label="Gaussian, same mean and covariance")
    ax.scatter(*real.T, s=2, alpha=0.3, label="ring8")
    ax.set(aspect="equal", title=f"FD = {c['fd']:.3f} (ring8 vs ring8: {c['fd_same']:.3f})\n"
                                 f"C2ST accuracy = {c['c2st']:.2f} (ring8 vs ring8: {c['c2st_same']:.2f})")
    ax.legend(fontsize=8, markerscale=4, loc="upper right")
    return c


def drs_on_grid(axes, rng, n, seed):
    """(d) A synthetic G on grid25 (3 modes missing, 3x too wide, 20% uniform background) before and after DRS."""
    kept, width, background, box = GRID.centres[3:], 3 * GRID.std, 0.2, 5.0

    def log_mixture(x, centres, std):  # the log density of an equal-weight Gaussian mixture
        d2 = ((x[:, None, :] - centres[None]) ** 2).sum(-1)
        return logsumexp(-d2 / (2 * std ** 2), axis=1) - np.log(len(centres) * 2 * np.pi * std ** 2)

    def sample(m):
        x = kept[rng.integers(0, len(kept), m)] + width * rng.standard_normal((m, 2))
        uniform = rng.random(m) < background
        x[uniform] = rng.uniform(-box, box, (uniform.sum(), 2))
        return x

    def logit(x):  # the optimal D's logit: log p_data(x) - log p_g(x)
        p_g = np.logaddexp(np.log(1 - background) + log_mixture(x, kept, width), np.log(background / (2 * box) ** 2))
        return log_mixture(x, GRID.centres, GRID.std) - p_g

    before = sample(n)
    after = discriminator_rejection_sampling(sample, logit, n, burn_in=5000, seed=seed)
    d = {"acceptance_rate": after.acceptance_rate}
    for ax, x, key in zip(axes, (before, after.samples), ("before", "after")):
        s = mode_coverage(x, GRID.centres, GRID.std)
        d.update({f"{k}_{key}": s[k] for k in ("high_quality_fraction", "modes_covered")})
        ax.scatter(*x.T, s=2, alpha=0.4)
        ax.scatter(*GRID.centres.T, marker="x", c="red", s=20, lw=1)
        ax.set(aspect="equal", xlim=(-5.2, 5.2), ylim=(-5.2, 5.2),
               title=f"{key} DRS: {s['modes_covered']}/25 modes, high quality {s['high_quality_fraction']:.2f}")
    axes[0].figure.suptitle(f"grid25: a generator missing 3 modes, filtered by the optimal D's logit "
                            f"(acceptance rate {after.acceptance_rate:.3f})")
    print(f"DRS on grid25: high quality {d['high_quality_fraction_before']:.3f} -> "
          f"{d['high_quality_fraction_after']:.3f}, modes {d['modes_covered_before']} -> {d['modes_covered_after']}, "
          f"acceptance {after.acceptance_rate:.3f}")
    return d


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short settings for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the figures go")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    mg.kernels.set_num_threads(1)  # the C2ST critic is a tiny MLP: one thread is fastest
    rng = np.random.default_rng(args.seed)
    sizes = (5000, 2000, 500, 300, 1000) if args.quick else (20000, 5000, 2000, 1000, 3000)
    n_real, n_fake, n_ring, n_steps, n_drs = sizes  # FD features real and generated, ring8 samples, C2ST steps, DRS
    fig_fd, (ax_fd, ax_c2st) = plt.subplots(1, 2, figsize=(12, 4.8))
    fig_balls, axes_balls = plt.subplots(1, 3, figsize=(17, 5))
    fig_drs, axes_drs = plt.subplots(1, 2, figsize=(10, 5))
    result = {"fd": fd_bias(ax_fd, rng, n_real, n_fake)}
    result["manifold"], result["outlier"] = manifold_metrics(axes_balls, rng, n_ring)
    result["c2st"] = c2st_vs_fd(ax_c2st, rng, 2000, n_steps, args.seed)
    result["drs"] = drs_on_grid(axes_drs, rng, n_drs, args.seed)
    result["figures"] = {}
    for name, suffix, fig in (("fd_c2st", "", fig_fd), ("balls", "-balls", fig_balls), ("drs", "-drs", fig_drs)):
        result["figures"][name] = str(args.out / f"evaluation_pitfalls{suffix}.png")
        fig.savefig(result["figures"][name], dpi=120, bbox_inches="tight")
        plt.close(fig)
    return result


if __name__ == "__main__":
    main()
