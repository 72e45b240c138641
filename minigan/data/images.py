"""Image datasets: scikit-learn's bundled digits, MNIST-format IDX files, and folders of images.

Every loader returns float32 images of shape ``(N, C, H, W)`` scaled to
``[-1, 1]`` (the range of a tanh generator) and, where there are any, int64 labels.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ImageDataset", "digits", "load_idx", "mnist", "fashion_mnist", "image_folder", "to_unit_range"]


@dataclass
class ImageDataset:
    """Images ``(N, C, H, W)`` in [-1, 1] with optional labels ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray | None = None
    name: str = ""

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.images.shape[1:]


def to_unit_range(images: np.ndarray, high: float) -> np.ndarray:
    """Scale pixel values from ``[0, high]`` to ``[-1, 1]`` in float32."""
    return (images.astype(np.float32) * (2.0 / high) - 1.0).astype(np.float32)


def digits(split: str = "train", test_fraction: float = 0.2) -> ImageDataset:
    """The 1,797 8x8 handwritten digits bundled with scikit-learn, as ``(N, 1, 8, 8)`` in [-1, 1].

    The train/test split is fixed (a seeded permutation, stratified by label),
    so every run and every metric sees the same images. ``split`` is
    ``"train"``, ``"test"`` or ``"all"``.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = to_unit_range(bunch.images, 16.0)[:, None]
    labels = bunch.target.astype(np.int64)
    if split == "all":
        return ImageDataset(images, labels, "digits")
    rng = np.random.default_rng(20151119)  # fixed for ever: the split must not change between versions
    test = np.zeros(len(labels), bool)
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test[idx[: int(round(test_fraction * len(idx)))]] = True
    if split not in ("train", "test"):
        raise ValueError(f"digits: split must be 'train', 'test' or 'all', got {split!r}")
    keep = test if split == "test" else ~test
    return ImageDataset(images[keep], labels[keep], f"digits-{split}")


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzip-compressed, into a NumPy array.

    Header: two zero bytes, a type code, the number of dimensions, then each
    dimension as a big-endian uint32; the data follow in row-major order.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"IDX file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: expected {expected} bytes of data for shape {shape}, found {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _idx_pair(root, images_name: str, labels_name: str, name: str) -> ImageDataset:
    root = Path(root)
    found = []
    for stem in (images_name, labels_name):
        for candidate in (root / stem, root / f"{stem}.gz"):
            if candidate.exists():
                found.append(candidate)
                break
        else:
            raise FileNotFoundError(f"{name}: missing file {root / stem} (or {stem}.gz) in {root}")
    images, labels = load_idx(found[0]), load_idx(found[1])
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"{name}: images {images.shape} and labels {labels.shape} do not match")
    return ImageDataset(to_unit_range(images, 255.0)[:, None], labels.astype(np.int64), name)


def mnist(root, train: bool = True) -> ImageDataset:
    """MNIST from the four IDX files in ``root`` (no download: point it at a folder you have)."""
    prefix = "train" if train else "t10k"
    return _idx_pair(root, f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte", "mnist")


def fashion_mnist(root, train: bool = True) -> ImageDataset:
    """Fashion-MNIST (same file names and format as MNIST) from ``root``."""
    prefix = "train" if train else "t10k"
    return _idx_pair(root, f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte", "fashion-mnist")


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


def image_folder(path, size: int, channels: int = 3) -> ImageDataset:
    """Every image under ``path`` (recursively), centre-cropped to a square and resized to ``size``.

    ``channels`` is 1 (greyscale) or 3 (RGB). Needs Pillow.
    """
    from PIL import Image

    if channels not in (1, 3):
        raise ValueError(f"image_folder: channels must be 1 or 3, got {channels}")
    files = sorted(p for p in Path(path).rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"image_folder: no images ({', '.join(sorted(_IMAGE_SUFFIXES))}) under {path}")
    images = []
    for f in files:
        with Image.open(f) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            side = min(im.size)
            left, top = (im.width - side) // 2, (im.height - side) // 2
            im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
            array = np.asarray(im, dtype=np.uint8)
        images.append(array[None] if channels == 1 else array.transpose(2, 0, 1))
    return ImageDataset(to_unit_range(np.stack(images), 255.0), None, os.fspath(path))
