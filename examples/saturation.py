r"""Why the minimax generator loss saturates, and the non-saturating loss does not.

D's probability that a generated sample is real is D(G(z)) = sigma(a), with a D's
logit on that sample. The generator's two classic losses, per sample, are

    minimax:          log(1 - sigma(a)),   d/da = -sigma(a)     = -D(G(z))
    non-saturating:  -log sigma(a),        d/da = -(1 - sigma(a)) = -(1 - D(G(z)))

(both negative: descending either loss raises the logit). This gradient with
respect to the logit is what backpropagation carries into G's parameters. Early
in training D rejects G's samples confidently, D(G(z)) ~ 0, where the minimax
gradient vanishes: at D(G(z)) = 0.01 it is 99 times smaller than the
non-saturating one. The minimax gradient vanishes as D(G(z)) -> 0, the
non-saturating one as D(G(z)) -> 1; neither is zero for any finite logit.

The script draws both closed forms and, as markers, the values minigan's autograd
gives by differentiating ``mg.losses.get("minimax").g_loss`` and
``get("nonsaturating").g_loss`` on float64 logits. A second panel shows the same
derivative, d L_G / d(D's raw output), for every G loss in minigan's registry that
needs only D's outputs on generated samples.

Run: python examples/saturation.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan as mg  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"
CLOSED_FORMS = {"minimax": lambda d: -d, "nonsaturating": lambda d: -(1 - d)}  # d L_G / d logit at D(G(z)) = d


def per_sample_gradient(loss, outputs):
    """d L_G / d f_j for each raw output f_j: minigan's loss is a batch mean, so its gradient is scaled by m."""
    f = mg.tensor(outputs[:, None], dtype=mg.float64, requires_grad=True)
    (grad,) = mg.grad(loss.g_loss(f), [f])
    return grad.numpy()[:, 0] * len(outputs)


def generator_only_losses():
    """Registered losses whose G loss reads only D's outputs on generated samples (any game)."""
    return [name for name in mg.losses.available()
            if mg.losses.get(name).game is None and not mg.losses.get(name).needs_real_for_g]


def group_identical(curves):
    """Merge losses whose gradient curves coincide, so the legend says so instead of hiding lines."""
    groups = []
    for name, values in curves.items():
        match = next((g for g in groups if np.allclose(g[1], values, atol=1e-12)), None)
        if match:
            match[0].append(name)
        else:
            groups.append(([name], values))
    return groups


def plot(d, autograd_d, autograd, raw, curves, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    left.axvspan(0, 0.1, color="grey", alpha=0.15, label="early training: D rejects G's samples")
    for (name, closed_form), colour in zip(CLOSED_FORMS.items(), ("C3", "C0")):
        left.plot(d, closed_form(d), color=colour, lw=2, label=f"{name}: closed form")
        left.plot(autograd_d, autograd[name], "o", color=colour, mfc="none", label=f"{name}: minigan autograd")
    left.set(xlabel="D(G(z)) = sigmoid(logit)", ylabel="d L_G / d logit  (per sample)",
             title="G's gradient with respect to D's logit", xlim=(0, 1))
    left.annotate("at D(G(z)) = 0.01:\nminimax -0.01\nnon-saturating -0.99", xy=(0.01, -0.01), xytext=(0.3, -0.12),
                  va="center", fontsize=9, arrowprops={"arrowstyle": "->", "color": "grey"})
    left.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    for i, (names, values) in enumerate(group_identical(curves)):
        right.plot(raw, values, lw=2, ls=("-", "--", "-.", ":")[i % 4], label=", ".join(names))
    right.axhline(0, color="grey", lw=0.8)
    right.set(xlabel="f = D's raw output on a generated sample (logit or critic value)",
              ylabel="d L_G / d f  (per sample, minigan autograd)", ylim=(-3, 3),
              title="G's gradient against D's output, for each G loss")
    right.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarser grids, for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figure")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    d = np.linspace(1e-6, 1 - 1e-6, 201 if args.quick else 2001)  # D(G(z)), for the closed forms and the check
    logit = np.log(d) - np.log1p(-d)
    errors = {name: float(np.max(np.abs(per_sample_gradient(mg.losses.get(name), logit) - CLOSED_FORMS[name](d))))
              for name in CLOSED_FORMS}
    markers = np.linspace(0.02, 0.98, 17)
    autograd = {name: per_sample_gradient(mg.losses.get(name), np.log(markers) - np.log1p(-markers))
                for name in CLOSED_FORMS}
    early = np.log(0.01) - np.log(0.99)  # the logit where D(G(z)) = 0.01
    at_001 = {name: per_sample_gradient(mg.losses.get(name), np.array([early]))[0] for name in CLOSED_FORMS}

    raw = np.linspace(-4, 4, 81 if args.quick else 801)
    curves = {name: per_sample_gradient(mg.losses.get(name), raw) for name in generator_only_losses()}
    figure = args.out / "saturation.png"
    plot(d, markers, autograd, raw, curves, figure)

    result = {"max_error": errors, "grad_at_0.01": at_001,
              "ratio_at_0.01": at_001["nonsaturating"] / at_001["minimax"],
              "raw_outputs": raw, "curves": curves, "figure": figure}
    for name in CLOSED_FORMS:
        print(f"{name:>14}: max |autograd - closed form| = {errors[name]:.1e};  "
              f"d L_G/d logit at D(G(z)) = 0.01: {at_001[name]:+.4f}")
    print(f"non-saturating / minimax gradient at D(G(z)) = 0.01: {result['ratio_at_0.01']:.2f}")
    print(f"G losses drawn: {', '.join(curves)}")
    print(f"figure: {figure}")
    return result


if __name__ == "__main__":
    main()
