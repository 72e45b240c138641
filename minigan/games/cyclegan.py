r"""CycleGAN: two generators translate between unpaired domains, each pulled back to its input by the other."""

from __future__ import annotations

import numpy as np

import minigan as mg
from minigan.games.base import CHUNK, GAMES, Objective, Player, evaluating
from minigan.games.translation import ImageToImageGame, as_rgb
from minigan.metrics import psnr
from minigan.metrics.patches import train_patch_classifier
from minigan.models import PatchDiscriminator, ResnetGenerator
from minigan.models.image_to_image import NORMS
from minigan.ops import abs as absolute
from minigan.ops import cat
from minigan.registry import ConfigError

__all__ = ["CycleGAN"]


@GAMES.register("cyclegan")
class CycleGAN(ImageToImageGame):
    r"""CycleGAN (Zhu et al. 2017): translation between two domains :math:`A` and :math:`B` from unpaired images.

    G maps :math:`A \to B` and F maps :math:`B \to A` (both
    :class:`~minigan.models.ResnetGenerator`); :math:`D_B` tells real
    :math:`b` from :math:`G(a)`, :math:`D_A` real :math:`a` from
    :math:`F(b)` (both :class:`~minigan.models.PatchDiscriminator` on one image,
    one logit per patch). A batch holds images :math:`a` of A (``x``) and an
    independent draw :math:`b` of B (``x_b``). With the recipe's adversarial
    loss :math:`\ell` (the paper's is least squares, ``loss.name = "lsgan"``),
    each taken as the mean over the patches,

    .. math::

        L_D = \tfrac12 \bigl[\ell_D\bigl(D_B(b),\ D_B(G(a))\bigr) + \ell_D\bigl(D_A(a),\ D_A(F(b))\bigr)\bigr],

        L_G = \ell_G\bigl(D_B(G(a))\bigr) + \ell_G\bigl(D_A(F(b))\bigr)
              + \lambda \bigl(\tfrac1d \lVert F(G(a)) - a \rVert_1 + \tfrac1d \lVert G(F(b)) - b \rVert_1\bigr)
              + \mu \lambda \bigl(\tfrac1d \lVert G(b) - b \rVert_1 + \tfrac1d \lVert F(a) - a \rVert_1\bigr)

    with :math:`d` the values in a batch of images. The adversarial terms
    alone would let G map all of A onto any part of B; the **cycle
    consistency** term asks that F undo G and G undo F, so each translation
    keeps what it was given (the layout of the crop) and changes its style.
    The **identity** term (:math:`\mu = 0.5`, as the authors' code) asks G
    to leave images that are already in B alone, which keeps colours it has
    no reason to change; it needs A and B to have the same shape, and is left
    out when they do not (``data.task = "colour"``: grey A, colour B). The
    paper divides D's objective by 2, to slow D relative to G: the factor
    :math:`\tfrac12` above (under Adam, whose steps do not change with the
    loss's scale, it changes only the logged value). The paper takes
    :math:`\lambda = 10`.

    Both discriminators form player ``D``, both generators player ``G``: the
    two directions train together. With minigan's ``lsgan`` (:math:`a = 0,
    b = c = 1`) :math:`\ell_D` is the paper's least-squares objective already
    halved, and :math:`\ell_G = \tfrac12 E(D(G(a)) - 1)^2` is half the
    paper's, so the adversarial terms weigh half as much beside
    :math:`\lambda` as in the authors' code.

    The paper's **image pool** (D judges a history of 50 earlier generated
    images, to damp oscillation) is left out: D sees the current batch's
    translations only, each objective stays a function of the weights alone,
    and a resumed run is bit-identical without saving a pool.

    A gradient penalty (``[penalty]``) sees both discriminators as one
    critic of joined images: :math:`v = [a; b]` (concatenated on channels)
    is given the logits of :math:`D_A(a)` and :math:`D_B(b)` side by side,
    the real :math:`[a; b]` beside the fake :math:`[F(b); G(a)]`. Its input
    gradient is that of each D on its own half, so R1 is the sum of the two
    R1 penalties.

    Options: ``cycle_weight`` (:math:`\lambda`), ``identity_weight``
    (:math:`\mu`, a fraction of :math:`\lambda`), ``blocks`` (the generators'
    residual blocks), ``patch_layers`` (the PatchGANs' stride-2 layers
    :math:`L`; patches :math:`9 \cdot 2^L - 2` pixels across, 16 for
    :math:`L = 1`), ``norm`` (``instance``, the paper's, ``batch`` or
    ``none``, in all four networks). ``model.g_width`` is the generators'
    first width, ``model.d_width`` the discriminators'.

    References
    ----------
    Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks. ICCV 2017.
    """

    networks = ("G", "F", "D_A", "D_B")
    players = (Player("D", ("D_A", "D_B"), lr="d_lr", critic=True), Player("G", ("G", "F"), lr="g_lr"))
    generators = ("G", "F")
    pairs = "unpaired"
    ranges = {"cycle_weight": "[0, inf)", "identity_weight": "[0, inf)", "blocks": "[0, inf)",
              "patch_layers": "[0, 5]"}

    def __init__(self, data, model, loss, cycle_weight: float = 10.0, identity_weight: float = 0.5, blocks: int = 6,
                 patch_layers: int = 1, norm: str = "instance"):
        if norm not in NORMS:
            raise ConfigError(f"game.norm must be one of {', '.join(map(repr, NORMS))}, got {norm!r}")
        self.cycle_weight, self.identity_weight, self.blocks = cycle_weight, identity_weight, blocks
        self.patch_layers, self.norm = patch_layers, norm
        super().__init__(data, model, loss)

    def build(self):
        size = self.data.shape[-1]
        if size % 4 or size < 8:
            raise ConfigError(f"game 'cyclegan' needs crops whose side is a multiple of 4, at least 8 "
                              f"(data.image_size), got {size}")
        c_a, c_b = self.data.shape[0], self.data.shape_b[0]
        g_width, d_width = self.model["g_width"], self.model["d_width"]
        return {"G": ResnetGenerator(c_a, c_b, g_width, self.blocks, self.norm),
                "F": ResnetGenerator(c_b, c_a, g_width, self.blocks, self.norm),
                "D_A": PatchDiscriminator(c_a, d_width, self.patch_layers, self.norm),
                "D_B": PatchDiscriminator(c_b, d_width, self.patch_layers, self.norm)}

    @property
    def has_identity(self) -> bool:
        """Whether the identity term applies: a weight above 0, and A and B of one shape."""
        return self.identity_weight > 0 and tuple(self.data.shape) == tuple(self.data.shape_b)

    # -- the objectives ---------------------------------------------------------------------------------------

    def joint_critic(self, v):
        """Both discriminators as one critic of ``v = [a; b]`` (channels): their logits side by side, ``(N, P)``."""
        c = self.data.shape[0]
        n = v.shape[0]
        return cat([self.D_A(v[:, :c]).reshape(n, -1), self.D_B(v[:, c:]).reshape(n, -1)], dim=1)

    def d_objective(self, batch):
        a, b = batch.x, batch.x_b
        fake_b, fake_a = self.G(a).detach(), self.F(b).detach()
        real_a, fake_a_out = self.D_A(a), self.D_A(fake_a)
        real_b, fake_b_out = self.D_B(b), self.D_B(fake_b)
        loss = 0.5 * (self.loss.d_loss(real_b, fake_b_out) + self.loss.d_loss(real_a, fake_a_out))
        logs = {"d_real": 0.5 * (real_a.mean() + real_b.mean()),  # the mean output of the two Ds
                "d_fake": 0.5 * (fake_a_out.mean() + fake_b_out.mean())}
        return Objective(loss, logs, critic=self.joint_critic, real=cat([a, b], dim=1),
                         fake=cat([fake_a, fake_b], dim=1))

    def g_objective(self, batch):
        a, b = batch.x, batch.x_b
        fake_b, fake_a = self.G(a), self.F(b)
        needs_real = self.loss.needs_real_for_g
        adversarial = (self.loss.g_loss(self.D_B(fake_b), self.D_B(b) if needs_real else None)
                       + self.loss.g_loss(self.D_A(fake_a), self.D_A(a) if needs_real else None))
        cycle_a = absolute(self.F(fake_b) - a).mean()  # a -> G -> F -> a
        cycle_b = absolute(self.G(fake_a) - b).mean()  # b -> F -> G -> b
        loss = adversarial + self.cycle_weight * (cycle_a + cycle_b)
        logs = {"cycle_a": cycle_a, "cycle_b": cycle_b}
        if self.has_identity:
            identity = absolute(self.G(b) - b).mean() + absolute(self.F(a) - a).mean()
            loss = loss + self.identity_weight * self.cycle_weight * identity
            logs["identity"] = identity
        return Objective(loss, logs)

    # -- translating, the picture and the figures ---------------------------------------------------------------

    def translate_back(self, y) -> np.ndarray:
        """F's sampling copy on images ``y`` ``(N, *shape_b)`` of domain B, in eval mode: their translations to A."""
        y = np.asarray(y, dtype=self.dtype)
        if y.ndim < 1 or y.shape[1:] != tuple(self.data.shape_b):
            shape = ", ".join(map(str, self.data.shape_b))
            raise ValueError(f"{self.name}: translate_back() takes samples of shape (N, {shape}), got {y.shape}")
        with evaluating(self.sampler("F")) as F:
            return np.concatenate([F(mg.tensor(y[i:i + CHUNK])).numpy() for i in range(0, len(y), CHUNK)])

    def sample_grid(self, n, generator=None):
        """Groups of six rows from held-out crops: :math:`a`, :math:`G(a)`, :math:`F(G(a))`, then :math:`b`,
        :math:`F(b)`, :math:`G(F(b))`."""
        def images(count):
            a, b = self.inputs(count, generator)
            fake_b, fake_a = self.translate(a), self.translate_back(b)
            rows = [a, fake_b, self.translate_back(fake_b), b, fake_a, self.translate(fake_a)]
            return [as_rgb(row) for row in rows]

        return self.grouped_rows(n, 6, images)

    def held_out_scores(self, seed: int = 0) -> dict:
        r"""How well the held-out crops survive the round trip, and whether their translations land in the other domain.

        On every held-out crop of each domain: ``cycle_mae_a``, the mean
        absolute error :math:`\frac1d \lVert F(G(a)) - a \rVert_1` over all
        values (images in [-1, 1]), and ``cycle_psnr_a``, the mean per-image
        PSNR of :math:`F(G(a))` against :math:`a`
        (:func:`minigan.metrics.psnr`); ``cycle_mae_b`` and ``cycle_psnr_b``
        the same for :math:`G(F(b))`.

        The domain test (when A and B have one shape): a fresh PatchGAN
        classifier (:func:`minigan.metrics.patches.train_patch_classifier`,
        seeded by ``seed``) learns real training crops of B (positive) from
        real training crops of A, and labels an image B when its mean patch
        logit is positive. ``a_to_b_labelled_b`` is the share of the
        held-out :math:`G(a)` it labels B, ``b_to_a_labelled_a`` the share
        of the held-out :math:`F(b)` it labels A; for reference,
        ``real_a_labelled_b`` and ``real_b_labelled_b`` are the shares of the
        real held-out crops of A and of B it labels B (one minus each: those
        it labels A). ``n_a`` and ``n_b`` count the held-out crops of each
        domain, ``n`` both.
        """
        a, b = self.data.held_out
        fake_b, fake_a = self.translate(a), self.translate_back(b)
        back_a, back_b = self.translate_back(fake_b), self.translate(fake_a)
        scores = {"cycle_mae_a": float(np.abs(back_a.astype(np.float64) - a).mean()),
                  "cycle_mae_b": float(np.abs(back_b.astype(np.float64) - b).mean()),
                  "cycle_psnr_a": psnr(a, back_a)["psnr"], "cycle_psnr_b": psnr(b, back_b)["psnr"],
                  "n": len(a) + len(b), "n_a": len(a), "n_b": len(b)}
        if tuple(self.data.shape) == tuple(self.data.shape_b):
            score = train_patch_classifier(self.data.samples, self.data.samples_b, seed=seed)

            def labelled_b(images):
                return float((score(images) > 0).mean())

            scores.update(a_to_b_labelled_b=labelled_b(fake_b), b_to_a_labelled_a=1.0 - labelled_b(fake_a),
                          real_a_labelled_b=labelled_b(a), real_b_labelled_b=labelled_b(b))
        return scores
