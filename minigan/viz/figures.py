"""The figures, each written atomically to a PNG (or GIF)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from minigan.serialization import atomic_path, read_jsonl

__all__ = ["image_grid", "save_image_grid", "plot_toy_samples", "plot_losses", "plot_metrics", "save_animation",
           "save_interpolation", "plot_samples_with_curves"]


# what the families log of D's outputs (mean logits, energies, VAE-GAN's two kinds of fakes, CatGAN's entropies)
DISCRIMINATOR_OUTPUTS = ("d_real", "d_fake", "d_reconstructed", "d_prior", "h_real", "h_fake", "penalty")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def image_grid(images: np.ndarray, nrow: int | None = None, padding: int = 1) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images in [-1, 1] into one ``(rows*H, cols*W[, 3])`` uint8 picture."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"image_grid: expected images of shape (N, C, H, W), got {images.shape}")
    n, c, h, w = images.shape
    cols = nrow or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), 0.0, np.float32)
    for k in range(n):
        r, q = divmod(k, cols)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top:top + h, left:left + w] = images[k].transpose(1, 2, 0)
    pixels = np.clip((grid + 1) * 127.5, 0, 255).round().astype(np.uint8)
    return pixels[..., 0] if c == 1 else pixels


def _save_pixels(pixels: np.ndarray, path, scale: int) -> None:
    from PIL import Image

    image = Image.fromarray(pixels)
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def save_image_grid(images: np.ndarray, path, nrow: int | None = None, scale: int | None = None) -> Path:
    """Write a grid of images to ``path`` (PNG), upscaled so small images stay visible."""
    grid = image_grid(images, nrow)
    scale = scale or max(1, 512 // max(grid.shape[:2]))
    _save_pixels(grid, path, scale)
    return Path(path)


def plot_toy_samples(samples: np.ndarray, path, centres: np.ndarray | None = None, real: np.ndarray | None = None,
                     title: str = "", limit: float | None = None) -> Path:
    """Scatter generated 2-D points (with real points and mode centres, if given) and their density."""
    plt = _pyplot()
    samples = np.asarray(samples)
    lim = limit or float(np.max(np.abs(np.concatenate([samples] + ([real] if real is not None else []))))) * 1.1
    lim = min(lim, 20.0)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), dpi=100)
    ax = axes[0]
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:gray", alpha=0.4, label="real")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:blue", alpha=0.6, label="generated")
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], s=40, marker="x", c="tab:red", label="modes")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title="samples")
    ax.legend(loc="upper right", fontsize=7)
    axes[1].hist2d(samples[:, 0], samples[:, 1], bins=100, range=[[-lim, lim], [-lim, lim]], cmap="magma")
    axes[1].set(aspect="equal", title="density of generated samples")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_losses(metrics_path, path, keys=None) -> Path:
    """Plot loss curves (and D(x), D(G(z)), BEGAN's k and M_global when present) from a ``metrics.jsonl`` log.

    ``keys`` are the losses to draw; by default every player's (``d_loss``, ``g_loss``, VAE-GAN's ``e_loss``).
    """
    plt = _pyplot()
    rows = _records(metrics_path, "plot_losses")
    steps = [r["step"] for r in rows]
    keys = [k for k in rows[0] if k.endswith("_loss")] if keys is None else keys
    panels = {"losses": list(keys),
              "discriminator outputs": [k for k in DISCRIMINATOR_OUTPUTS if k in rows[0]],
              "equilibrium": [k for k in ("k", "m_global") if k in rows[0]]}
    panels = {title: names for title, names in panels.items() if names}
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), dpi=100, squeeze=False)
    for ax, (title, names) in zip(axes.flat, panels.items()):
        for k in names:
            ax.plot(steps, [r.get(k, np.nan) for r in rows], label=k)
        ax.set(xlabel="step", title=title)
        ax.legend()
    return _save(fig, path)


def plot_samples_with_curves(images: np.ndarray, path, records: list[dict], keys, nrow: int | None = None,
                             title: str = "") -> Path:
    r"""A grid of ``(N, C, H, W)`` images in [-1, 1] beside one panel per key of ``records`` against the step.

    ``records`` are ``metrics.jsonl`` records logged so far (``step`` and the
    keys); with none yet, the panels are left empty. BEGAN draws its samples
    beside its convergence measure :math:`\mathcal M_{global}` and its balance :math:`k_t` this way.
    """
    plt = _pyplot()
    keys = list(keys)
    if not keys:
        raise ValueError("plot_samples_with_curves: no curve to draw; use save_image_grid for samples alone")
    grid = image_grid(images, nrow)
    fig = plt.figure(figsize=(10, 5), dpi=100)
    spec = fig.add_gridspec(len(keys), 2, width_ratios=(1, 1.2))
    picture = fig.add_subplot(spec[:, 0])
    picture.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    picture.set(xticks=[], yticks=[], title="samples")
    steps = [r["step"] for r in records]
    for row, k in enumerate(keys):
        ax = fig.add_subplot(spec[row, 1])
        ax.plot(steps, [r.get(k, np.nan) for r in records])
        ax.set(xlabel="step" if row == len(keys) - 1 else None, title=k)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_metrics(evaluations_path, path, keys=None, columns: int = 4) -> Path:
    """Plot each evaluated metric against the training step, one small panel each, from an ``evaluations.jsonl`` log.

    ``keys`` picks the metrics (default: every key of the records but ``step``,
    in order of first appearance); a record without a key leaves a gap.
    """
    plt = _pyplot()
    rows = _records(evaluations_path, "plot_metrics")
    keys = list(keys) if keys is not None else [k for k in dict.fromkeys(k for r in rows for k in r) if k != "step"]
    if not keys:
        raise ValueError(f"plot_metrics: the records of {evaluations_path} hold no metric")
    steps = [r["step"] for r in rows]
    cols = min(columns, len(keys))
    n_rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(3.2 * cols, 2.6 * n_rows), dpi=100, squeeze=False)
    for ax, k in zip(axes.flat, keys):
        values = [np.nan if r.get(k) is None else r[k] for r in rows]
        ax.plot(steps, values, marker="o", markersize=3)
        ax.set(xlabel="step", title=k)
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    return _save(fig, path)


def _records(path, caller: str) -> list[dict]:
    """The JSON records of a ``.jsonl`` log, one per non-empty line; an error if there are none."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{caller}: no log at {path}")
    rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"{caller}: {path} holds no records")
    return rows


def _save(fig, path) -> Path:
    """Lay out ``fig``, write it to ``path`` as PNG atomically, and free it."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    _pyplot().close(fig)
    return Path(path)


def save_animation(frames: list, path, duration_ms: int = 200) -> Path:
    """Write PNG files (paths) or uint8 arrays as an animated GIF, one frame per training snapshot."""
    from PIL import Image

    if not frames:
        raise ValueError("save_animation: no frames")
    images = [Image.open(f).convert("RGB") if isinstance(f, (str, os.PathLike)) else Image.fromarray(f)
              for f in frames]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return Path(path)


def save_interpolation(images: np.ndarray, path, steps: int) -> Path:
    """Rows of a latent walk: ``images`` ordered row by row, ``steps`` per row."""
    return save_image_grid(images, path, nrow=steps)
