r"""StyleGAN: a style-based generator (mapping network, a style per layer, noise, style mixing) against D."""

from __future__ import annotations

import math

import numpy as np

import minigan as mg
from minigan.games.base import GAMES, Game, Objective, evaluating
from minigan.games.networks import discriminator
from minigan.models import StyleGenerator, style_plan
from minigan.registry import ConfigError

__all__ = ["StyleGAN"]


@GAMES.register("stylegan")
class StyleGAN(Game):
    r"""StyleGAN (Karras, Laine, Aila 2019), with StyleGAN2's demodulated convolutions (Karras et al. 2020).

    G is a :class:`~minigan.models.StyleGenerator`: a mapping network
    :math:`w = G_{map}(z)` and a synthesis network :math:`G_{syn}` from a learned constant,
    whose :math:`L` layers each take a style from their own copy :math:`w_\ell`
    and per-pixel noise :math:`\xi`. The adversarial game is the usual one,

    .. math::

        L_D = \ell_D\bigl(D(x),\ D(\tilde x)\bigr), \qquad
        L_G = \ell_G\bigl(D(\tilde x)\ [,\ D(x)]\bigr), \qquad
        \tilde x = G_{syn}(w_1, \ldots, w_L;\ \xi),

    with the recipe's adversarial loss :math:`\ell` (the paper's is the
    non-saturating loss) and discriminator. What is new is how a fake is
    made: with probability ``mixing`` (the paper's 0.9) a batch is made by
    *style mixing*, two latents :math:`z_1, z_2` and a crossover layer
    :math:`c` drawn uniformly from :math:`1, \ldots, L-1`,

    .. math:: w_\ell = G_{map}(z_1)\ (\ell < c), \qquad w_\ell = G_{map}(z_2)\ (\ell \ge c),

    otherwise :math:`w_\ell = G_{map}(z)` for all :math:`\ell`. Mixing keeps adjacent
    styles from being correlated, so each layer's style controls its own
    scale of the image (Section 3.1). D's player updates D with G frozen; G's
    player updates G (mapping and synthesis) through the frozen D.

    Options: ``mixing`` (probability of a mixed batch), ``mapping_depth``
    (layers of :math:`f`; the paper's 8), ``w_dim`` (width of :math:`w`). The
    synthesis network's last width is ``model.g_width``.

    References
    ----------
    Karras, Laine, Aila. A Style-Based Generator Architecture for Generative
    Adversarial Networks. CVPR 2019.
    Karras, Laine, Aittala, Hellsten, Lehtinen, Aila. Analyzing and Improving
    the Image Quality of StyleGAN. CVPR 2020.
    """

    ranges = {"mixing": "[0, 1]", "mapping_depth": "[1, inf)", "w_dim": "[1, inf)"}

    def __init__(self, data, model, loss, mixing: float = 0.9, mapping_depth: int = 4, w_dim: int = 64):
        if data.kind != "image" or data.shape[1] != data.shape[2]:
            raise ConfigError(f"game stylegan makes square images; got data {data.name} of shape {data.shape}")
        try:
            style_plan(data.shape[1])
        except ValueError as error:
            raise ConfigError(f"game stylegan: {error}") from None
        self.mixing, self.mapping_depth, self.w_dim = mixing, mapping_depth, w_dim
        super().__init__(data, model, loss)

    def build(self):
        channels, size = self.data.shape[0], self.data.shape[1]
        G = StyleGenerator(self.latent_dim, size, channels, self.model["g_width"], self.w_dim, self.mapping_depth)
        return {"G": G, "D": discriminator(self.model, self.data)}

    # -- the fakes: one latent, or two mixed --------------------------------------------------------------------

    def fake(self, n: int) -> mg.Tensor:
        r""":math:`\tilde x` for a batch of ``n``: style-mixed with probability ``mixing``,
        else :math:`G_{syn}(G_{map}(z))`."""
        if mg.rand(1).item() >= self.mixing:
            return self.G(self.z(n))
        cutoff = mg.randint(1, self.G.num_ws, ()).item()
        return self.G.synthesis(self.G.mix(self.G.mapping(self.z(n)), self.G.mapping(self.z(n)), cutoff))

    # -- the objectives ---------------------------------------------------------------------------------------

    def d_objective(self, batch):
        fake = self.fake(len(batch)).detach()
        real_out, fake_out = self.D(batch.x), self.D(fake)
        return Objective(self.loss.d_loss(real_out, fake_out), {"d_real": real_out, "d_fake": fake_out},
                         critic=self.D, real=batch.x, fake=fake)

    def g_objective(self, batch):
        fake_out = self.D(self.fake(len(batch)))
        real_out = self.D(batch.x) if self.loss.needs_real_for_g else None
        return Objective(self.loss.g_loss(fake_out, real_out))

    # -- sampling ---------------------------------------------------------------------------------------------

    def generator_inputs(self, n, generator=None, z=None, noise=None):
        """The latents and every layer's noise (``(n, G.noise_dim)`` standard normals, drawn from ``generator``
        unless given), so that a seeded generator gives the same samples every time."""
        z = self._given_z(n, z, generator)
        if noise is None:
            return z, mg.randn(n, self.G.noise_dim, generator=generator, dtype=self.dtype)
        return z, self._given_noise(n, noise)

    def _given_noise(self, n: int, noise) -> mg.Tensor:
        noise = np.asarray(noise, dtype=self.dtype)
        if noise.shape != (n, self.G.noise_dim):
            raise ValueError(f"{self.name}: noise must have shape ({n}, {self.G.noise_dim}), got {noise.shape}")
        return mg.tensor(noise)

    def mixed(self, coarse, fine, noise=None) -> np.ndarray:
        r"""Images with the coarse styles (the layers below full resolution) of latents ``coarse`` and the fine
        ones of latents ``fine``, both ``(n, latent_dim)``, from the sampling copy of G (its EMA average when the
        run keeps one). ``noise`` ``(n, G.noise_dim)`` defaults to zeros, so that only the styles differ."""
        coarse, fine = (np.asarray(v, dtype=self.dtype) for v in (coarse, fine))
        if coarse.shape != fine.shape or coarse.ndim != 2 or coarse.shape[1] != self.latent_dim:
            raise ValueError(f"{self.name}: mixed() takes two latents of shape (n, {self.latent_dim}), got "
                             f"{coarse.shape} and {fine.shape}")
        noise = self._given_noise(len(coarse), np.zeros((len(coarse), self.G.noise_dim)) if noise is None else noise)
        with evaluating(self.sampler("G")) as G:
            ws = G.mix(G.mapping(mg.tensor(coarse)), G.mapping(mg.tensor(fine)), G.coarse_ws)
            return G.synthesis(ws, noise).numpy()

    def sample_grid(self, n, generator=None):
        """The style-mixing grid (Karras et al. 2019, Fig. 3): along the top row, samples whose fine styles the
        columns take; down the left column, samples whose coarse styles the rows take; in every other cell, the
        coarse styles of its row's sample with the fine styles of its column's. The top-left corner is blank (-1).
        One noise draw serves the whole grid, so that the cells differ in their styles alone."""
        side = max(2, math.isqrt(n))
        rows, columns = np.split(self.z(2 * (side - 1), generator).numpy(), 2)
        noise = mg.randn(1, self.G.noise_dim, generator=generator, dtype=self.dtype).numpy()
        shape = tuple(self.data.shape)
        grid = np.full((side, side, *shape), -1.0, dtype=self.dtype)
        grid[0, 1:] = self.mixed(columns, columns, noise.repeat(side - 1, 0))
        grid[1:, 0] = self.mixed(rows, rows, noise.repeat(side - 1, 0))
        cells = self.mixed(rows.repeat(side - 1, 0), np.tile(columns, (side - 1, 1)), noise.repeat((side - 1) ** 2, 0))
        grid[1:, 1:] = cells.reshape(side - 1, side - 1, *shape)
        return grid.reshape(side * side, *shape), side
