r"""Write your own primitive with its VJP, and let gradcheck tell you when it is wrong.

The primitive is swish, y = x sigma(x): a forward on raw arrays plus a vector-Jacobian product (VJP) in minigan
ops, so that it differentiates again. gradcheck compares the VJP of L(x) = <f(x), v> (v a random upstream gradient)
with central differences, gradgradcheck the VJP's VJP, on inputs hypothesis draws (docs/examples/gradcheck_your_op.md).
A wrong VJP raises GradcheckError; at a kink (relu at 0) the one-sided differences disagree: NonDifferentiableError.

Run:  python examples/gradcheck_your_op.py  [--quick] [--out DIR] [--seed 0]
"""

import argparse
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

import minigan as mg  # noqa: E402
from minigan.testing import GradcheckError, gradcheck, gradgradcheck, strategies as mst  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"


@mg.primitive
def swish(x):
    """Swish (SiLU), elementwise: y = x sigma(x)."""
    xp = mg.kernels.array_module(x)  # NumPy or CuPy, whichever holds x
    return x * (0.5 + 0.5 * xp.tanh(0.5 * x))  # sigma(x) via tanh: no overflow for any x


@swish.vjp
def _(g, y, x):  # upstream gradient, recorded output, input: Tensors, so this differentiates again
    s = mg.sigmoid(x)
    return g * (s + y * (1 - s))  # the product rule: sigma + x sigma (1 - sigma)


buggy_swish = mg.primitive(swish.forward, name="buggy_swish")  # the same forward, with a wrong VJP:
buggy_swish.vjp(lambda g, y, x: g * mg.sigmoid(x))  # BUG: forgets the product rule's second term


@given(x=mst.tensors(mst.shapes(max_dims=2, max_side=4), min_value=-6.0, max_value=6.0))
def check_swish(x):
    """Property: swish's first and second derivatives agree with finite differences everywhere."""
    assert gradcheck(swish, [x]) and gradgradcheck(swish, [x])
    check_swish.examples += 1


@given(x=mst.tensors(mst.shapes(max_dims=2, max_side=4), avoid=(0.0,)))
def check_relu_away_from_kink(x):
    """The same for relu, on inputs the strategy keeps at least 0.01 from its kink at 0."""
    assert gradcheck(mg.relu, [x])
    check_relu_away_from_kink.examples += 1


def run_property(test, examples, seed_value):
    """Call a @given property directly, with this many draws; returns how many passed (a failure raises)."""
    test.examples = 0
    seed(seed_value)(settings(max_examples=examples, deadline=None, database=None,
                              suppress_health_check=[HealthCheck.too_slow])(test))()
    return test.examples


def report(fn, x):
    """Run gradcheck at x; its exception, as a dict, is the report (None when it passes)."""
    try:
        gradcheck(fn, [mg.tensor(x, dtype=mg.float64, requires_grad=True)])
    except GradcheckError as err:  # vars: input_index, element, analytic, numeric (and forward, backward)
        return {"error": type(err).__name__, "message": str(err), **vars(err)}


def derivative(fn, x, order=1):
    """fn's derivative of the given order (0: fn itself) at every x, by (double) backward: the op is elementwise."""
    xt = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    y = fn(xt)
    for _ in range(order):
        (y,) = mg.grad(y.sum(), [xt], create_graph=True)
    return y.detach().numpy()


def difference(fn, x, eps, order=0, a=1, b=-1):
    """(d(x + a eps) - d(x + b eps)) / ((a - b) eps), d fn's derivative of the given order (a, b = 1, -1: central)."""
    return (derivative(fn, x + a * eps, order) - derivative(fn, x + b * eps, order)) / ((a - b) * eps)


def plot(point, buggy, kink, path):
    x, xs = np.linspace(-5, 5, 401), np.linspace(-4.5, 4.5, 19)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5), layout="tight", subplot_kw=dict(xlabel="x", ylabel="value, slope"))
    ax = axes[0]
    ax.plot(x, derivative(swish, x, 0), "k", label="swish(x)")
    ax.plot(x, derivative(swish, x), "C0", label="swish'(x): VJP")
    ax.plot(x, derivative(swish, x, 2), "C1", label="swish''(x): VJP of the VJP")
    ax.plot(xs, difference(swish, xs, 1e-5), "o", mfc="none", color="C0", label="central difference of swish")
    ax.plot(xs, difference(swish, xs, 1e-5, 1), "s", mfc="none", color="C1", label="central difference of the VJP")
    ax.set(title="correct VJP: gradcheck and gradgradcheck pass", ylim=(-0.6, 2.0))
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    ax.plot(x, derivative(buggy_swish, x), "C3", label=r"buggy VJP: $\sigma(x)$")
    ax.plot(xs, difference(buggy_swish, xs, 1e-5), "o", mfc="none", color="C0", label="central difference")
    ax.axvline(point[buggy["element"]], color="C3", ls="--", lw=0.8, label=f"element {buggy['element']} reported")
    ax.set(title="wrong VJP: gradcheck raises GradcheckError", ylim=(-0.6, 2.0))
    ax.legend(fontsize=8, loc="lower right")
    ax, eps, xk = axes[2], 0.05, np.linspace(-0.3, 0.3, 601)
    ax.plot(xk, derivative(mg.relu, xk), "C3", lw=2, label="relu VJP: [x > 0]")
    v = kink["forward"]  # relu's right slope is 1, so gradcheck's forward difference is the upstream gradient v
    for name, steps, style, number, va in (("central", (1, -1), "C0", kink["numeric"], "center"),
                                           ("forward", (1, 0), "C2--", kink["forward"], "bottom"),
                                           ("backward", (0, -1), "C4--", kink["backward"], "top")):
        ax.plot(xk, difference(mg.relu, xk, eps, 0, *steps), style, label=f"{name} difference (eps = {eps})")
        y = number / v + 0.0  # the difference of this kind gradcheck reported, in units of v (+ 0.0: no "-0")
        ax.plot(0, y, "ko", ms=6)
        ax.text(0.01, y, f"gradcheck's {name}: {y:.3g} v", fontsize=8, va=va)
    ax.set(title="kink (relu at 0): gradcheck raises NonDifferentiableError", ylim=(-0.7, 1.3))
    ax.legend(fontsize=8, loc="upper left")
    for ax, result, y, va, color in ((axes[1], buggy, 0.97, "top", "C3"), (axes[2], kink, 0.03, "bottom", "C0")):
        ax.text(0.02, y, textwrap.fill(result["message"], 60), transform=ax.transAxes, fontsize=7, va=va,
                bbox={"fc": "white", "ec": color})  # gradcheck's report
    for ax in axes:
        ax.axhline(0, color="0.8", lw=0.8)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few hypothesis examples (smoke test)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figure")
    parser.add_argument("--seed", type=int, default=0, help="seed of hypothesis and of the test points")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    examples = 5 if args.quick else 100
    n_swish, n_relu = (run_property(test, examples, args.seed) for test in (check_swish, check_relu_away_from_kink))
    point = np.random.default_rng(args.seed).uniform(-3, 3, size=(2, 3))
    point[1, 1] = 0.0  # one element exactly on relu's kink
    buggy, kink, abs_at_zero = (report(fn, point) for fn in (buggy_swish, mg.relu, mg.abs))  # abs: a symmetric kink
    figure = args.out / "gradcheck_your_op.png"
    plot(point, buggy, kink, figure)
    print(f"swish: gradcheck and gradgradcheck passed on {n_swish} hypothesis draws; relu away from 0 on {n_relu}")
    luck = "passes: at a symmetric kink the central difference equals the subgradient 0 by luck; it proves nothing"
    for label, result in (("buggy VJP ", buggy), ("relu at 0 ", kink), ("abs at 0  ", abs_at_zero)):
        print(f"{label} -> " + (luck if result is None else f"{result['error']}: {result['message']}"))
    return {"swish_examples": n_swish, "relu_examples": n_relu, "point": point,
            "buggy": buggy, "kink": kink, "abs_at_zero": abs_at_zero, "figure": figure}


if __name__ == "__main__":
    main()
