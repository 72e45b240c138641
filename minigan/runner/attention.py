"""The attention picture of a game whose generator has self-attention (SAGAN): ``attention.png`` of a run folder.

On a saved run::

    from minigan.runner import load_game, save_attention
    game, _ = load_game("runs/sagan-photos/checkpoint.safetensors")
    save_attention(game, "attention.png", n=6, seed=3)
"""

from __future__ import annotations

from pathlib import Path

import minigan as mg
from minigan import nn, viz
from minigan.games import Game

__all__ = ["has_attention", "save_attention"]


def has_attention(game: Game) -> bool:
    """Whether the generator :meth:`~minigan.games.Game.sample` runs holds a :class:`~minigan.nn.SelfAttention2d`."""
    G = game.sampler(game.generators[0])
    return any(isinstance(m, nn.SelfAttention2d) for m in G.modules())


def save_attention(game: Game, path, n: int = 4, seed: int = 0, queries=None, layer: int = 0, title: str = "") -> Path:
    """:func:`minigan.viz.plot_attention` of ``n`` samples of ``game`` (latents drawn from ``seed``): each beside
    the maps of a few query pixels in the generator's ``layer``-th self-attention (its EMA copy when there is one)."""
    if not has_attention(game):
        raise ValueError(f"save_attention: the generator of game {game.name!r} has no self-attention "
                         "(set model.self_attention = true)")
    inputs = game.generator_inputs(n, mg.Generator(seed))
    images, maps = viz.attention_maps(game.sampler(game.generators[0]), *inputs, layer=layer)
    return viz.plot_attention(images, maps, path, queries=queries, title=title)
