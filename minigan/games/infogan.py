r"""InfoGAN: latent codes that the generator must keep recoverable, read back by a head on D's body."""

from __future__ import annotations

import numpy as np

import minigan as mg
from minigan.games.base import GAMES, Game, Objective, Player
from minigan.games.networks import discriminator, generator
from minigan.losses import infogan_loss
from minigan.models import LatentCodeHead
from minigan.registry import ConfigError

__all__ = ["InfoGAN"]


@GAMES.register("infogan")
class InfoGAN(Game):
    r"""InfoGAN (Chen et al. 2016): G(z, c) must keep its codes c recoverable by Q, a head on D's body.

    The codes are a ``categories``-way categorical :math:`c_1 \sim \mathrm{Cat}(K)` and
    ``continuous`` uniform :math:`c_2, \ldots \sim U(-1, 1)`, concatenated (one-hot
    and as they are) to the noise :math:`z`. Q reads D's features :math:`\phi(x)`
    and models :math:`Q(c \mid x)`: a softmax for the category, a Gaussian for
    each continuous code. The game is

    .. math::

        \min_{G, Q} \max_D\; V(D, G) - \lambda\, L_I(G, Q), \qquad
        L_I = \mathbb E_{c,\, x \sim G(z, c)}\bigl[\log Q(c \mid x)\bigr] + H(c) \le I\bigl(c;\, G(z, c)\bigr)

    the variational lower bound on the mutual information between the codes
    and the samples. With the recipe's adversarial loss :math:`\ell`, the
    information loss :math:`\mathcal I = -L_I + H(c)`
    (:func:`minigan.losses.infogan_loss`: cross-entropy plus Gaussian negative
    log-likelihood, weighted by ``continuous_weight``) and ``info_weight``
    :math:`\lambda`, :math:`\tilde x = G(z, c)`:

    .. math::

        L_{D,Q} = \ell_D(D(x), D(\tilde x)) + \lambda\, \mathcal I(Q(\phi(\tilde x)), c), \qquad
        L_G = \ell_G(D(\tilde x)) + \lambda\, \mathcal I(Q(\phi(\tilde x)), c)

    Who updates what: D's player updates D and Q together, so the shared body
    :math:`\phi` learns features that both judge the sample and recover its
    codes, with G frozen (:math:`\tilde x` is a constant there). G's player
    updates G alone: its gradient flows back through the frozen Q and the
    frozen body of D, which is how G learns to make its codes visible.

    References
    ----------
    Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel. InfoGAN: Interpretable
    Representation Learning by Information Maximizing Generative Adversarial
    Nets. NeurIPS 2016.
    """

    networks = ("G", "D", "Q")
    players = (Player("D", ("D", "Q"), lr="d_lr", critic=True), Player("G", ("G",), lr="g_lr"))
    single_samples = True
    ranges = {"categories": "[0, inf)", "continuous": "[0, inf)", "info_weight": "[0, inf)",
              "continuous_weight": "[0, inf)", "q_hidden": "[1, inf)"}

    def __init__(self, data, model, loss, categories: int = 10, continuous: int = 2, info_weight: float = 1.0,
                 continuous_weight: float = 0.1, learn_std: bool = False, q_hidden: int = 128):
        if categories == 1 or categories + continuous == 0:
            raise ConfigError(f"game infogan needs a categorical code of 2 or more categories or a continuous code; "
                              f"got game.categories = {categories}, game.continuous = {continuous}")
        self.categories, self.continuous = categories, continuous
        self.info_weight, self.continuous_weight, self.learn_std = info_weight, continuous_weight, learn_std
        self.q_hidden = q_hidden
        self.condition = "categories" if categories else None  # a continuous-only InfoGAN takes no category
        super().__init__(data, model, loss)

    @property
    def condition_count(self) -> int:
        return self.categories

    def build(self):
        G = generator(self.model, self.data, self.latent_dim + self.categories + self.continuous)
        D = discriminator(self.model, self.data)
        Q = LatentCodeHead.for_discriminator(D, self.categories, self.continuous, self.q_hidden, self.learn_std)
        return {"G": G, "D": D, "Q": Q}

    # -- the codes -----------------------------------------------------------------------------------------

    def codes(self, n: int, generator=None) -> tuple[mg.Tensor | None, mg.Tensor | None]:
        r"""Draw :math:`c_1 \sim \mathrm{Cat}(K)` ``(n,)`` and :math:`c_{2..} \sim U(-1, 1)` ``(n, continuous)``."""
        categorical = mg.randint(0, self.categories, (n,), generator=generator) if self.categories else None
        return categorical, self._uniform(n, generator)

    def _uniform(self, n: int, generator=None) -> mg.Tensor | None:
        return mg.rand(n, self.continuous, generator=generator, dtype=self.dtype) * 2 - 1 if self.continuous else None

    def latent(self, z, categorical, uniform) -> mg.Tensor:
        """G's input: the noise, the category one-hot, the continuous codes, side by side."""
        parts = [z]
        if categorical is not None:
            parts.append(mg.tensor(np.eye(self.categories, dtype=z.dtype)[categorical.numpy()]))
        if uniform is not None:
            parts.append(uniform)
        return mg.cat(parts, dim=1)

    def information(self, features, categorical, uniform) -> mg.Tensor:
        r""":math:`\mathcal I`: how badly Q recovers the codes from D's features of the samples made with them."""
        logits, mean, log_std = self.Q(features)
        return infogan_loss(logits, categorical, mean, uniform, log_std, lambda_cont=self.continuous_weight)

    # -- the objectives ---------------------------------------------------------------------------------------

    def d_objective(self, batch):
        categorical, uniform = self.codes(len(batch))
        fake = self.G(self.latent(self.z(len(batch)), categorical, uniform)).detach()
        fake_features = self.D.features(fake)
        real_out, fake_out = self.D(batch.x), self.D.head(fake_features)
        info = self.information(fake_features, categorical, uniform)
        return Objective(self.loss.d_loss(real_out, fake_out) + self.info_weight * info,
                         {"d_real": real_out, "d_fake": fake_out, "d_info": info},
                         critic=self.D, real=batch.x, fake=fake)

    def g_objective(self, batch):
        categorical, uniform = self.codes(len(batch))
        features = self.D.features(self.G(self.latent(self.z(len(batch)), categorical, uniform)))
        real_out = self.D(batch.x) if self.loss.needs_real_for_g else None
        info = self.information(features, categorical, uniform)
        return Objective(self.loss.g_loss(self.D.head(features), real_out) + self.info_weight * info, {"g_info": info})

    # -- sampling ---------------------------------------------------------------------------------------------

    def generator_inputs(self, n, generator=None, z=None, categories=None, continuous=None):
        """Noise and codes: ``categories`` one category or ``n`` of them (default 0, 1, ... cycling),
        ``continuous`` ``(n, continuous)`` values (default drawn from U(-1, 1))."""
        z = self._given_z(n, z, generator)
        categorical = None
        if self.categories:
            categorical = mg.tensor(self._classes(categories, n, self.categories, "categories"))
        if continuous is None or not self.continuous:
            uniform = self._uniform(n, generator)
        else:
            uniform = mg.tensor(np.asarray(continuous, dtype=self.dtype).reshape(n, self.continuous))
        return (self.latent(z, categorical, uniform),)

    def sample_grid(self, n, generator=None):
        """Categories down the rows, the first continuous code from -2 to 2 across the columns, one noise vector.

        The other continuous codes are 0. The range goes past the codes' U(-1, 1)
        to show how far the learned factor extrapolates, as in Chen et al. (Fig. 2).
        """
        rows = max(self.categories, 1)
        columns = max(1, n // rows)
        z = np.tile(self.z(1, generator).numpy(), (rows * columns, 1))
        categories = np.repeat(np.arange(rows), columns) if self.categories else None
        continuous = np.zeros((rows * columns, self.continuous), np.float32)
        if self.continuous:
            continuous[:, 0] = np.tile(np.linspace(-2, 2, columns), rows)
        return self.sample(rows * columns, generator, z=z, categories=categories,
                           continuous=continuous if self.continuous else None), columns
