"""``make_grid`` and ``save_image`` with the names, arguments and arithmetic of ``torchvision.utils``.

``from torchvision.utils import save_image, make_grid`` becomes
``from minigan.utils import save_image, make_grid``. Images are ``(N, C, H, W)``
with values in [0, 1] (or any range, with ``normalize=True``). The grid is not
differentiable: it is built from the arrays, outside the graph.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from minigan.autograd import Tensor
from minigan.serialization import atomic_path

__all__ = ["make_grid", "save_image"]


def _array(tensor):
    """The images as one array (on their device): a Tensor, an array (anything with ``__array__``, such as
    another library's CPU tensor), or a list of ``(C, H, W)`` images."""
    if isinstance(tensor, (list, tuple)):
        parts = [t.array if isinstance(t, Tensor) else np.asarray(t) for t in tensor]
        if not parts:
            raise ValueError("make_grid: expected a non-empty list of images")
        return Tensor(parts[0]).xp.stack(parts)
    if isinstance(tensor, Tensor):
        return tensor.array
    if isinstance(tensor, np.ndarray):
        return tensor
    if hasattr(tensor, "__array__"):
        return np.asarray(tensor)
    raise TypeError(f"make_grid: tensor or list of tensors expected, got {type(tensor).__name__}")


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one image, as ``torchvision.utils.make_grid``.

    ``tensor`` is ``(N, C, H, W)``, one ``(C, H, W)`` or ``(H, W)`` image, or a
    list of ``(C, H, W)`` images. One-channel images are repeated to three.
    ``nrow`` images go in a row; each is surrounded by ``padding`` pixels of
    ``pad_value``. With ``normalize=True`` values are clamped to
    ``value_range = (low, high)`` (default: the min and max, of each image when
    ``scale_each``, else of the whole batch) and mapped to [0, 1]. Returns
    ``(C, rows * (H + padding) + padding, cols * (W + padding) + padding)``, or
    the one image itself (three channels, no padding) when ``N == 1``.
    """
    x = _array(tensor)
    xp = Tensor(x).xp
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        if x.shape[0] == 1:
            x = xp.concatenate([x, x, x], 0)
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (N, C, H, W), (C, H, W) or (H, W), got {x.shape}")
    if x.shape[1] == 1:
        x = xp.concatenate([x, x, x], 1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        x = x.astype(np.float32) if x.dtype.kind != "f" else x.copy()

        def norm_range(t):  # in place, as torchvision's norm_ip
            low, high = value_range if value_range is not None else (float(t.min()), float(t.max()))
            xp.clip(t, low, high, out=t)
            t -= low
            t /= max(high - low, 1e-5)

        for t in (x if scale_each else [x]):
            norm_range(t)
    if x.shape[0] == 1:
        return Tensor(x[0])
    nmaps = x.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = math.ceil(nmaps / xmaps)
    height, width = x.shape[2] + padding, x.shape[3] + padding
    grid = xp.full((x.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value, dtype=x.dtype)
    for k in range(nmaps):
        y, q = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, q * width + padding:(q + 1) * width] = x[k]
    return Tensor(grid)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Write ``make_grid(tensor, **kwargs)`` as an image file (PNG unless ``format`` or the name says otherwise).

    As ``torchvision.utils.save_image``: values in [0, 1] become bytes by
    ``clamp(x * 255 + 0.5, 0, 255)`` truncated to ``uint8``. ``fp`` is a path,
    written atomically (a temporary file beside it, renamed over it), or a
    binary file object. Takes ``nrow``, ``padding``, ``normalize``,
    ``value_range``, ``scale_each`` and ``pad_value`` as :func:`make_grid`.
    """
    from PIL import Image

    grid = make_grid(tensor, **kwargs).numpy()
    grid = grid if grid.dtype.kind == "f" else grid.astype(np.float32)
    scale, half = grid.dtype.type(255), grid.dtype.type(0.5)  # in the grid's own precision, as torchvision
    pixels = np.clip(grid * scale + half, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if isinstance(fp, (str, Path)):
        fmt = format or (None if Path(fp).suffix else "PNG")
        with atomic_path(fp) as tmp:
            image.save(tmp, format=fmt)
    else:
        image.save(fp, format=format or "PNG")
