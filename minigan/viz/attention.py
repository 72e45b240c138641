r"""Where a self-attention layer looks: its attention maps read off a network, and a picture of them.

A :class:`minigan.nn.SelfAttention2d` on an :math:`h \times w` feature map
gives, for each query position :math:`j`, weights :math:`\beta_{j,i}` over
every position :math:`i` (summing to 1). :func:`attention_maps` runs a
network once and returns these maps as ``(N, h, w, h, w)``: entry
``[n, r, c]`` is the map of query ``(r, c)`` over the feature map.
:func:`plot_attention` draws, for each image, the image with a few query
positions marked and, beside it, each query's map upsampled to the image's
size over a grey copy of the image (as in Fig. 1 of Zhang et al. 2019).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigan as mg
from minigan import nn
from minigan.viz.figures import _pyplot, _save

__all__ = ["attention_maps", "plot_attention", "default_queries"]

QUERY_COLOURS = ("tab:red", "tab:cyan", "tab:orange", "tab:green", "tab:purple", "tab:pink")


def attention_maps(network: nn.Module, *inputs, layer: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(output, maps)``: ``network(*inputs)`` as an array, and the attention of its ``layer``-th self-attention.

    The network runs once, in eval mode with no graph (its former mode is
    restored). ``maps`` is ``(N, h, w, h, w)`` for a layer reading an
    ``(N, C, h, w)`` feature map: ``maps[n, r, c]`` is the map of query
    position ``(r, c)``, summing to 1. For a generator, ``output`` holds the
    images the maps belong to; for a discriminator, they are its inputs.
    """
    layers = [m for m in network.modules() if isinstance(m, nn.SelfAttention2d)]
    if not layers:
        raise ValueError(f"attention_maps: {type(network).__name__} has no SelfAttention2d layer")
    if not -len(layers) <= layer < len(layers):
        raise ValueError(f"attention_maps: layer {layer} out of range for the {len(layers)} SelfAttention2d "
                         f"layer(s) of {type(network).__name__}")
    read = []  # the layer's input, taken as it runs
    handle = layers[layer].register_forward_pre_hook(lambda module, args: read.append(args[0]))
    mode = network.training
    network.eval()
    try:
        with mg.no_grad():
            output = network(*inputs)
            features = read[-1]
            n, _, h, w = features.shape
            maps = layers[layer].attention(features).numpy().reshape(n, h, w, h, w)
    finally:
        handle.remove()
        network.train(mode)
    return output.numpy(), maps


def default_queries(size: int, count: int = 4) -> list[tuple[int, int]]:
    """``count`` (at most 4) query pixels ``(row, column)`` of a ``size`` x ``size`` image: the centres of its
    four quadrants, top-left first."""
    a, b = size // 4, size - 1 - size // 4
    return [(a, a), (a, b), (b, a), (b, b)][:count]


def plot_attention(images: np.ndarray, maps: np.ndarray, path, queries=None, title: str = "") -> Path:
    """One row per image: the image with its query pixels marked, then each query's attention map over it.

    ``images`` ``(N, C, H, W)`` in [-1, 1] and ``maps`` ``(N, h, w, h, w)`` from
    :func:`attention_maps`, with ``H`` and ``W`` multiples of ``h`` and ``w``.
    ``queries`` are pixels ``(row, column)`` of the image (default:
    :func:`default_queries`); each reads the map of the feature-map cell it
    falls in, drawn nearest-neighbour upsampled to ``H`` x ``W`` over the
    image in grey, with the query as a dot of its colour; the colour scale
    runs from 0 to the map's largest weight, so a uniform map is uniformly bright.
    """
    images, maps = np.asarray(images, dtype=np.float32), np.asarray(maps, dtype=np.float32)
    if images.ndim != 4 or maps.ndim != 5 or len(maps) != len(images):
        raise ValueError(f"plot_attention: expected images (N, C, H, W) and maps (N, h, w, h, w), got {images.shape} "
                         f"and {maps.shape}")
    n, c, height, width = images.shape
    h, w = maps.shape[1:3]
    if maps.shape[3:] != (h, w) or height % h or width % w:
        raise ValueError(f"plot_attention: maps {maps.shape} do not tile images of {height}x{width} pixels")
    queries = default_queries(min(height, width)) if queries is None else [tuple(q) for q in queries]
    if not queries or len(queries) > len(QUERY_COLOURS):
        raise ValueError(f"plot_attention: give 1 to {len(QUERY_COLOURS)} queries, got {len(queries)}")
    for r, q in queries:
        if not (0 <= r < height and 0 <= q < width):
            raise ValueError(f"plot_attention: query ({r}, {q}) is outside the {height}x{width} image")
    pictures = np.clip((images.transpose(0, 2, 3, 1) + 1) / 2, 0, 1)  # (N, H, W, C) in [0, 1]
    grey = pictures.mean(axis=3)
    plt = _pyplot()
    fig, axes = plt.subplots(n, 1 + len(queries), figsize=(1.6 * (1 + len(queries)), 1.6 * n), dpi=100,
                             squeeze=False)
    for k in range(n):
        axes[k, 0].imshow(pictures[k, ..., 0] if c == 1 else pictures[k], cmap="gray", vmin=0, vmax=1)
        for i, (colour, (r, q)) in enumerate(zip(QUERY_COLOURS, queries)):
            axes[k, 0].scatter([q], [r], s=18, c=colour, edgecolors="white", linewidths=0.5)
            ax = axes[k, 1 + i]
            weights = maps[k, r * h // height, q * w // width]  # the cell the query pixel lies in
            upsampled = np.repeat(np.repeat(weights, height // h, axis=0), width // w, axis=1)
            ax.imshow(grey[k], cmap="gray", vmin=0, vmax=1)
            ax.imshow(upsampled, cmap="inferno", alpha=0.7, vmin=0, vmax=upsampled.max())
            ax.scatter([q], [r], s=18, c=colour, edgecolors="white", linewidths=0.5)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    axes[0, 0].set_title("image", fontsize=8)
    for i, (r, q) in enumerate(queries):
        axes[0, 1 + i].set_title(f"query ({r}, {q})", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)
