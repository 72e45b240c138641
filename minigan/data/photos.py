"""Colour crops of the two photographs bundled with scikit-learn, split by column so no test pixel is trained on.

``sklearn.datasets.load_sample_images()`` ships ``china.jpg`` and
``flower.jpg``, two 427x640 RGB photographs, with the library itself: nothing
is downloaded. Cutting them into small squares on a regular grid gives a
colour image dataset of a few thousand crops, enough for a 32x32 colour GAN
or for image-to-image work on a CPU.
"""

from __future__ import annotations

import numbers
from functools import lru_cache

import numpy as np

from minigan.autograd import Tensor
from minigan.data.images import ImageDataset, to_unit_range
from minigan.nn.functional import interpolate

__all__ = ["PHOTOS", "PAIRED_TASKS", "LUMA_WEIGHTS", "photos", "photo_boundary", "photo_corners", "photo_pairs",
           "photo_domains", "IMAGE_TASKS", "task_data", "luminance", "plain_baseline", "bilinear_halve"]

PHOTOS = ("china", "flower")  # label 0 and label 1
PAIRED_TASKS = ("colour", "superres")  # see photo_pairs
IMAGE_TASKS = (*PAIRED_TASKS, "domains")  # data.task: the paired ones, and photo_domains
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma, for R, G, B


@lru_cache(maxsize=1)
def _photographs() -> tuple[np.ndarray, ...]:
    """The bundled photographs as read-only uint8 arrays ``(H, W, 3)``, in the order of :data:`PHOTOS`."""
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    by_name = {name.replace("\\", "/").rsplit("/", 1)[-1]: image for name, image in zip(bunch.filenames, bunch.images)}
    arrays = tuple(np.ascontiguousarray(by_name[f"{name}.jpg"], dtype=np.uint8) for name in PHOTOS)
    for array in arrays:
        array.setflags(write=False)
    return arrays


def photo_boundary(width: int, held_out: float) -> int:
    """The first held-out column of a photograph ``width`` pixels wide: ``round((1 - held_out) * width)``."""
    return int(round((1.0 - held_out) * width))


def photo_corners(height: int, width: int, split: str = "train", size: int = 32, stride: int | None = None,
                  held_out: float = 0.25) -> np.ndarray:
    """Top-left corners ``(K, 2)`` (row, column) of the crops of one ``height`` x ``width`` photograph.

    With ``b = photo_boundary(width, held_out)``, the ``"train"`` crops have
    their left edge at ``0, stride, 2 * stride, ...`` and end at or before
    column ``b``; the ``"test"`` crops have their left edge at ``b, b + stride, ...``
    and end at or before column ``width``. Rows are ``0, stride, ...`` while the
    crop fits in ``height``. Arguments are checked as in :func:`photos`.
    """
    size, stride, held_out = _checked(split, size, stride, held_out)
    boundary = photo_boundary(width, held_out)
    first, last = (0, boundary) if split == "train" else (boundary, width)
    if height < size:
        raise ValueError(f"photos: a {size}x{size} crop is taller than the {height} rows of the photograph")
    if last - first < size:
        raise ValueError(f"photos: a {size}x{size} crop does not fit in the {split} region (columns [{first}, {last}) "
                         f"of a {width}-column photograph, held_out = {held_out}); use a smaller size or "
                         f"{'a smaller' if split == 'train' else 'a larger'} held_out")
    rows = np.arange(0, height - size + 1, stride)
    cols = np.arange(first, last - size + 1, stride)
    corners = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1).reshape(-1, 2)
    return corners.astype(np.int64)


def _checked(split, size, stride, held_out) -> tuple[int, int, float]:
    if split not in ("train", "test"):
        raise ValueError(f"photos: split must be 'train' or 'test', got {split!r}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"photos: size must be a positive integer, got {size!r}")
    if stride is None:
        stride = max(1, int(size) // 2)
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral) or stride < 1:
        raise ValueError(f"photos: stride must be a positive integer or None, got {stride!r}")
    if isinstance(held_out, bool) or not isinstance(held_out, numbers.Real) or not 0 < held_out < 1:
        raise ValueError(f"photos: held_out must be a fraction strictly between 0 and 1, got {held_out!r}")
    return int(size), int(stride), float(held_out)


def photos(split: str = "train", size: int = 32, stride: int | None = None, held_out: float = 0.25) -> ImageDataset:
    r"""Square RGB crops of scikit-learn's two sample photographs, ``(N, 3, size, size)`` in [-1, 1].

    Both photographs (``china.jpg``, label 0, and ``flower.jpg``, label 1; each
    427 rows x 640 columns) are cut into ``size`` x ``size`` crops on a regular
    grid with step ``stride`` (default ``size // 2``, so neighbouring crops
    overlap by half) in both directions. Pixel values are scaled from
    ``[0, 255]`` to ``[-1, 1]``, as for :func:`minigan.data.digits`.

    **Which pixels are held out.** In each photograph, with width
    ``W = 640`` and boundary ``b = round((1 - held_out) * W)`` (480 for the
    default ``held_out = 0.25``):

    - columns ``0 .. b - 1`` are the training region. ``"train"`` crops have
      their left column at ``0, stride, 2 * stride, ...`` and lie entirely in
      it (left column + ``size`` <= ``b``); columns near ``b`` that no whole
      crop reaches are not used.
    - columns ``b .. W - 1`` (the right-most ``held_out`` fraction) are held
      out. ``"test"`` crops have their left column at ``b, b + stride, ...``
      and lie entirely in it (left column + ``size`` <= ``W``).

    Rows are shared: top row ``0, stride, ...`` while the crop fits in the 427
    rows. No crop straddles the boundary, so no pixel of a test crop is in any
    training crop. Crops are ordered by photograph, then by row, then by
    column (:func:`photo_corners` gives the corners), the same on every call.

    Parameters
    ----------
    split : ``"train"`` or ``"test"``.
    size : side of the square crops, in pixels.
    stride : step of the grid, in pixels (``None``: ``max(1, size // 2)``).
    held_out : the fraction of each photograph's columns, on the right, kept for ``"test"``; in (0, 1).

    Returns
    -------
    ImageDataset
        ``images`` float32 ``(N, 3, size, size)`` in [-1, 1]; ``labels`` int64
        ``(N,)``: 0 for crops of ``china.jpg``, 1 for ``flower.jpg``. With the
        defaults, 1,450 train crops and 450 test crops.

    Raises
    ------
    ValueError
        For an unknown ``split``, a ``size`` or ``stride`` that is not a
        positive integer, a ``held_out`` outside (0, 1), or a crop too large
        for the requested region.
    """
    size, stride, held_out = _checked(split, size, stride, held_out)
    crops, labels = [], []
    for label, photo in enumerate(_photographs()):
        corners = photo_corners(photo.shape[0], photo.shape[1], split, size, stride, held_out)
        crops.extend(photo[top:top + size, left:left + size] for top, left in corners)
        labels.append(np.full(len(corners), label, np.int64))
    images = to_unit_range(np.stack(crops).transpose(0, 3, 1, 2), 255.0)  # (N, H, W, 3) -> (N, 3, H, W)
    return ImageDataset(np.ascontiguousarray(images), np.concatenate(labels), f"photos-{split}")


def photo_pairs(task: str, split: str = "train", size: int = 32, stride: int | None = None,
                held_out: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    r"""Paired ``(inputs, targets)`` for an image-to-image task on the crops of :func:`photos`.

    ``targets`` are exactly ``photos(split, size, stride, held_out).images``,
    float32 ``(N, 3, size, size)`` in [-1, 1], in the same order; the train and
    test pairs come from the same column split. ``inputs`` depend on ``task``:

    - ``"colour"``: the crop's luminance, ``(N, 1, size, size)``, with the
      ITU-R BT.601 weights of :data:`LUMA_WEIGHTS`,
      :math:`Y = 0.299 R + 0.587 G + 0.114 B`. The weights sum to one, so
      taking them on [-1, 1] values equals taking them on [0, 255] and
      rescaling, and ``Y`` stays in [-1, 1].
    - ``"superres"``: the crop downsampled 2x with a bilinear filter
      (:func:`bilinear_halve`, ``(N, 3, size / 2, size / 2)``), then upsampled
      back to ``size`` x ``size`` by bilinear interpolation, ``(N, 3, size,
      size)`` in [-1, 1]. The upsampling is minigan's own
      ``minigan.nn.functional.interpolate`` (``mode="bilinear"``,
      ``align_corners=False``, PyTorch's pixel-centre convention with edge
      clamping) applied to a Tensor. ``size`` must be even.

    :func:`plain_baseline` turns inputs into the 3-channel baseline a model
    for the task is judged against.

    Returns
    -------
    (inputs, targets)
        Two float32 arrays with the same first dimension ``N``.

    Raises
    ------
    ValueError
        For an unknown ``task``, an odd ``size`` with ``"superres"``, or any
        argument :func:`photos` refuses.
    """
    _checked_task(task)
    targets = photos(split, size, stride, held_out).images  # (N, 3, size, size)
    if task == "colour":
        return luminance(targets), targets
    if size % 2:
        raise ValueError(f"photo_pairs: 'superres' halves the crop, so size must be even, got {size}")
    low = bilinear_halve(targets)  # (N, 3, size / 2, size / 2)
    upsampled = interpolate(Tensor(low.astype(np.float32)), size=(size, size), mode="bilinear", align_corners=False)
    return np.ascontiguousarray(upsampled.numpy(), dtype=np.float32), targets


def bilinear_halve(images: np.ndarray) -> np.ndarray:
    r"""Images ``(N, C, H, W)`` (``H`` and ``W`` even) downsampled 2x with a bilinear (triangle) filter, in float64.

    Resizing by a factor 2 with a bilinear filter stretches the filter to the
    output's pixel spacing (as PIL's ``Image.resize(..., BILINEAR)``, MATLAB's
    ``imresize(..., 'bilinear')`` and ``torch.nn.functional.interpolate(...,
    mode="bilinear", antialias=True)`` do), so that it removes what the
    smaller image cannot hold: along each axis, output pixel :math:`i`, centred
    at input coordinate :math:`2i + \tfrac12`, is

    .. math::

        y_i = \frac{\sum_k w_k\, x_{2i - 1 + k}}{\sum_k w_k}, \qquad w = (1, 3, 3, 1) / 8,

    the triangle :math:`\max(0, 1 - |d| / 2)` at the distances
    :math:`d = \tfrac32, \tfrac12, \tfrac12, \tfrac32`; at the edges the taps that
    fall outside are dropped and the rest renormalised. (Averaging each 2x2
    block, a box filter, would leave more of the detail that bilinear
    upsampling cannot restore.)
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[2] % 2 or images.shape[3] % 2:
        raise ValueError(f"bilinear_halve: expected images (N, C, H, W) with even H and W, got shape {images.shape}")
    for axis in (2, 3):
        images = _halve_axis(images, axis)
    return images


def _halve_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """One axis of :func:`bilinear_halve`: taps 2i-1, 2i, 2i+1, 2i+2 weighted 1, 3, 3, 1, the outside ones dropped."""
    x = np.moveaxis(x, axis, -1)
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 1)])  # zeros: a dropped tap adds nothing
    inside = np.pad(np.ones(x.shape[-1]), 1)  # 1 where a tap is a pixel
    taps = [(padded[..., k::2][..., :x.shape[-1] // 2], inside[k::2][:x.shape[-1] // 2]) for k in range(4)]
    weights = (1.0, 3.0, 3.0, 1.0)
    total = sum(w * t for w, (t, _) in zip(weights, taps))
    norm = sum(w * m for w, (_, m) in zip(weights, taps))
    return np.moveaxis(total / norm, -1, axis)


def photo_domains(split: str = "train", size: int = 32, stride: int | None = None,
                  held_out: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Two unpaired domains for image-to-image translation: the crops of :func:`photos` of ``china.jpg`` (domain
    A, label 0) and those of ``flower.jpg`` (domain B, label 1), each float32 ``(N, 3, size, size)`` in [-1, 1],
    from the same column split. No crop of one photograph corresponds to any crop of the other."""
    crops = photos(split, size, stride, held_out)
    return crops.images[crops.labels == 0], crops.images[crops.labels == 1]


def task_data(task: str, split: str = "train", size: int = 32) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(a, b, paired)`` for an image-to-image ``task`` of :data:`IMAGE_TASKS`: a paired task's ``(inputs,
    targets)`` (:func:`photo_pairs`), or ``"domains"``' two unpaired domains (:func:`photo_domains`)."""
    if task == "domains":
        return (*photo_domains(split, size), False)
    return (*photo_pairs(task, split, size), True)


def luminance(images: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma ``(N, 1, H, W)`` of RGB ``images`` ``(N, 3, H, W)``, in their dtype (float32 by default)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"luminance: expected RGB images (N, 3, H, W), got shape {images.shape}")
    weights = np.asarray(LUMA_WEIGHTS, np.float64)[None, :, None, None]
    luma = (images.astype(np.float64) * weights).sum(axis=1, keepdims=True)
    return np.clip(luma, -1.0, 1.0).astype(images.dtype if images.dtype.kind == "f" else np.float32)


def plain_baseline(task: str, inputs: np.ndarray) -> np.ndarray:
    """The output a model for ``task`` must beat, from its ``inputs``, as RGB ``(N, 3, H, W)``.

    ``"colour"``: the grey input replicated to the three channels (a grey
    picture); ``"superres"``: the bilinear input itself (a copy). Scoring it
    with :func:`minigan.metrics.psnr` against the targets gives the baseline PSNR.
    """
    _checked_task(task)
    inputs = np.asarray(inputs)
    channels = 1 if task == "colour" else 3
    if inputs.ndim != 4 or inputs.shape[1] != channels:
        raise ValueError(f"plain_baseline: {task!r} inputs must be (N, {channels}, H, W), got shape {inputs.shape}")
    return np.repeat(inputs, 3, axis=1) if task == "colour" else inputs.copy()


def _checked_task(task) -> None:
    if task not in PAIRED_TASKS:
        raise ValueError(f"photo_pairs: task must be one of {', '.join(map(repr, PAIRED_TASKS))}, got {task!r}")
