r"""Convolution is unfold + matmul; the transposed convolution is zero insertion + an ordinary convolution.

    conv2d(x, W) = reshape(W_mat @ unfold(x), (N, O, H_out, W_out)),    W_mat = reshape(W, (O, C*kh*kw)),
    conv_transpose2d(x, W; s, p) = conv2d(pad_{d(k-1)-p}(zero_insert_s(x)), flip(W).transpose(0, 1); dilation d),

with unfold (im2col) copying each receptive field of x into a column and zero_insert_s putting s - 1 zeros between
pixels. It draws both, and checks them and <unfold(x), Y> = <x, fold(Y)> (fold, col2im, is unfold's adjoint) in float64.

Run: python examples/convolution.py
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import minigan as mg  # noqa: E402
import minigan.nn.functional as F  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"


def conv_as_matmul(x, w, stride, padding, dilation) -> mg.Tensor:
    """conv2d written as W_mat @ unfold(x), reshaped to an image."""
    (n, _, h, _), (o, _, kh, kw) = x.shape, w.shape
    h_out = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1  # and W_out = L / H_out
    columns = F.unfold(x, (kh, kw), dilation=dilation, padding=padding, stride=stride)  # (N, C*kh*kw, L)
    return (w.reshape(o, -1) @ columns).reshape(n, o, h_out, -1)


def zero_insert_and_pad(x: np.ndarray, stride, pad, output_padding) -> np.ndarray:
    """``stride - 1`` zeros between neighbouring pixels, ``pad`` zeros around, ``output_padding`` more at the end."""
    n, c, h, w = x.shape
    spread = np.zeros((n, c, (h - 1) * stride + 1, (w - 1) * stride + 1), x.dtype)
    spread[:, :, ::stride, ::stride] = x
    return np.pad(spread, ((0, 0), (0, 0), (pad, pad + output_padding), (pad, pad + output_padding)))


def conv_transpose_as_conv(x: np.ndarray, w: np.ndarray, stride, padding, output_padding, dilation) -> mg.Tensor:
    """conv_transpose2d as a stride-1 conv2d of the zero-inserted, padded input with the flipped, swapped kernel."""
    grid = zero_insert_and_pad(x, stride, dilation * (w.shape[2] - 1) - padding, output_padding)
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (C_out, C_in, kh, kw)
    return F.conv2d(mg.tensor(grid), mg.tensor(flipped), dilation=dilation)


def random_case(rng) -> dict:
    """Shapes and hyper-parameters for which all three constructions are defined (padding <= d(k - 1))."""
    k, stride, dilation = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    padding = int(rng.integers(0, dilation * (k - 1) + 1))
    return {"n": int(rng.integers(1, 3)), "c": int(rng.integers(1, 4)), "o": int(rng.integers(1, 4)),
            "size": int(rng.integers(dilation * (k - 1) + 1, 8)), "k": k, "stride": stride, "padding": padding,
            "dilation": dilation, "output_padding": int(rng.integers(0, max(stride, dilation)))}


def identity_gaps(case: dict, rng) -> dict:
    """max |difference| of each identity on random float64 data of the shapes in ``case``."""
    n, c, o, size, k = case["n"], case["c"], case["o"], case["size"], case["k"]
    s, p, d, op = case["stride"], case["padding"], case["dilation"], case["output_padding"]
    x, w = rng.standard_normal((n, c, size, size)), rng.standard_normal((o, c, k, k))
    conv = F.conv2d(mg.tensor(x), mg.tensor(w), stride=s, padding=p, dilation=d).numpy()
    unfolded = F.unfold(mg.tensor(x), k, dilation=d, padding=p, stride=s).numpy()
    y = rng.standard_normal(unfolded.shape)
    folded = F.fold(mg.tensor(y), (size, size), k, dilation=d, padding=p, stride=s).numpy()
    z = rng.standard_normal(conv.shape)  # the transposed convolution maps conv's output shape back
    transposed = F.conv_transpose2d(mg.tensor(z), mg.tensor(w), stride=s, padding=p, output_padding=op, dilation=d)
    again = conv_transpose_as_conv(z, w, s, p, op, d)
    return {
        "conv2d = W_mat @ unfold": np.abs(conv - conv_as_matmul(mg.tensor(x), mg.tensor(w), s, p, d).numpy()).max(),
        "<unfold x, Y> = <x, fold Y>": abs(np.vdot(unfolded, y) - np.vdot(x, folded)) / np.abs(unfolded * y).sum(),
        "conv_transpose2d = conv2d(zero-inserted)": np.abs((transposed - again).numpy()).max()}


def plot_panels(path, title: str, panels: list, height: float = 3, red=()) -> None:
    """A row of matrices ``(values, title, colours)`` drawn as cells with their numbers in; ``colours`` (one colour,
    or one per column or cell) fills the cells; ``red`` ``(panel, size)`` outlines top-left size x size cells."""
    fig, axes = plt.subplots(1, len(panels), figsize=(15, height),
                             gridspec_kw={"width_ratios": [values.shape[1] for values, _, _ in panels]})
    for ax, (values, name, colours) in zip(axes, panels):
        faces = np.broadcast_to(np.array(colours, dtype=object), values.shape)
        for (i, j), value in np.ndenumerate(values):
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=faces[i, j], edgecolor="black"))
            ax.text(j + 0.5, i + 0.5, f"{value:g}", ha="center", va="center", fontsize=10)
        ax.set(xlim=(-0.05, values.shape[1] + 0.05), ylim=(values.shape[0] + 0.05, -0.05), aspect="equal", title=name)
        ax.axis("off")
    for panel, size in red:
        axes[panel].add_patch(Rectangle((0, 0), size, size, fill=False, edgecolor="red", linewidth=2.5))
    fig.suptitle(title, y=1.1)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_unfold(path) -> None:
    """unfold of a 3x3 image for a 2x2 kernel, and the convolution as one matrix product."""
    x, w = mg.tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3)), mg.tensor(np.array([[[[1.0, 2.0], [0.0, -1.0]]]]))
    columns = F.unfold(x, 2).numpy()[0]  # (kh*kw, L) = (4, 4)
    colours = ["#fbb4ae", "#b3cde3", "#ccebc5", "#decbe4"]  # one per patch
    plot_panels(path, "unfold on a 3x3 image: a 2x2 kernel sees four patches; the convolution is one matrix product",
                [(x.numpy()[0, 0], "image x (3x3)", "white"),
                 *[(columns[:, l].reshape(2, 2), f"patch {l + 1}", colours[l]) for l in range(4)],
                 (columns, "unfold(x): one column\nper patch (4x4)", colours),
                 (w.numpy().reshape(1, 4), "kernel [[1, 2], [0, -1]]\nas a row $W_{mat}$ (1x4)", "white"),
                 (F.conv2d(x, w).numpy()[0, 0], "$W_{mat}$ @ unfold(x)\n= conv2d(x, W)", np.reshape(colours, (2, 2)))])


def plot_transposed(path) -> float:
    """The DCGAN upsampling layer ConvTranspose2d(k=4, s=2, p=1) on a 2x2 input, and its zero-insertion twin."""
    x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    w = np.array([[1.0, 0, 0, 1], [0, 1, 1, 0], [0, 2, 0, 0], [1, 0, 0, 0]]).reshape(1, 1, 4, 4)
    out = F.conv_transpose2d(mg.tensor(x), mg.tensor(w), stride=2, padding=1).numpy()[0, 0]
    again = conv_transpose_as_conv(x, w, 2, 1, 0, 1).numpy()[0, 0]
    kinds = np.full((7, 7), "#d9d9d9", dtype=object)  # grey: padding k - 1 - p = 2 around the spread-out input
    kinds[2:5, 2:5] = "#cfe2f3"  # blue: the inserted zeros
    kinds[2:5:2, 2:5:2] = "#fff2b3"  # yellow: x's pixels
    plot_panels(path, "ConvTranspose2d(kernel 4, stride 2, padding 1) as zero insertion + conv2d: 2x2 doubles to 4x4",
                [(x[0, 0], "input x (2x2)", "#fff2b3"), (w[0, 0], "weight W (4x4)", "white"),
                 (zero_insert_and_pad(x, 2, 2, 0)[0, 0], "x (yellow), zeros (blue),\npadding k-1-p = 2 (grey)", kinds),
                 (w[0, 0, ::-1, ::-1], "W flipped: the red\nwindow's kernel", "white"),
                 (again, "conv2d, stride 1\n= conv_transpose2d(x, W)", "white")], height=3.6, red=((2, 4), (4, 1)))
    return float(np.abs(out - again).max())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short settings for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    cases = [random_case(rng) for _ in range(20 if args.quick else 300)]
    gaps = [identity_gaps(case, rng) for case in cases]
    worst = {key: float(max(g[key] for g in gaps)) for key in gaps[0]}
    figures = {"unfold": args.out / "convolution-unfold.png", "transposed": args.out / "convolution-transposed.png"}
    plot_unfold(figures["unfold"])
    figure_gap = plot_transposed(figures["transposed"])
    print(f"{len(cases)} random float64 cases (batch, channels, size 1-7, kernel 1-3, stride 1-3, padding, "
          f"dilation 1-2, output_padding); largest difference:")
    for key, value in worst.items():
        print(f"  {key:<42} {value:.1e}" + ("  (relative)" if key.startswith("<") else ""))
    print(f"figures: {figures['unfold']}, {figures['transposed']}")
    return {"cases": len(cases), "max_difference": worst, "figure_example_difference": figure_gap, "figures": figures}


if __name__ == "__main__":
    main()
