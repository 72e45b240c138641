r"""The classic adversarial losses: minimax, non-saturating, LSGAN, hinge, Wasserstein, relativistic.

Each objective is a primitive (one per player, or one shared by both) whose
forward evaluates the loss on the raw discriminator outputs and whose VJP
is the closed-form gradient derived in ``docs/losses.md``, written with
minigan ops so that it differentiates again. Notation: ``r`` holds D's
outputs on real data (:math:`n` values), ``f`` its outputs on generated data
(:math:`m` values), every expectation is the mean over all of them, and
:math:`\bar r = \partial L / \partial r`.

Logit losses are written with :math:`\operatorname{softplus}(x) = \log(1 + e^x)`,
:math:`-\log\sigma(x) = \operatorname{softplus}(-x)` and
:math:`-\log(1 - \sigma(x)) = \operatorname{softplus}(x)`, evaluated as
:math:`\max(x, 0) + \log(1 + e^{-|x|})` by the kernel :func:`minigan.kernels.softplus` (on arrays,
in the forwards): finite for logits of any size, whereas
:math:`\log \sigma(x)` computed directly is :math:`-\infty` once :math:`\sigma(x)` underflows.
"""

from __future__ import annotations

from minigan import kernels
from minigan.autograd import Tensor, no_grad, primitive
from minigan.kernels import array_module
from minigan.losses.registry import AdversarialLoss, register
from minigan.ops import broadcast_to, mean, sigmoid

__all__ = ["MinimaxLoss", "NonSaturatingLoss", "LSGANLoss", "HingeLoss", "WassersteinLoss", "RSGANLoss",
           "RaGANLoss", "clip_weights_"]


# -- shared pieces ---------------------------------------------------------------------------------

def mean_grad(g: Tensor, slope, x: Tensor) -> Tensor:
    r""":math:`\bar x = \bar L\, \phi'(x) / n` for :math:`L = \frac1n \sum_i \phi(x_i)`, shaped like ``x``.

    ``slope`` is :math:`\phi'(x)`: a Tensor shaped like ``x``, or a number when constant.
    """
    return broadcast_to(g * slope * (1.0 / x.numel()), shape=x.shape)


def indicator(condition, like: Tensor) -> Tensor:
    """:math:`[P]` as a constant tensor of ``like``'s dtype: a mask whose own derivative is zero."""
    return Tensor(condition.astype(like.dtype))


def check_outputs(loss: str, *outputs) -> None:
    """Fail early on an empty batch (whose mean would be NaN)."""
    for out in outputs:
        if out.numel() == 0:
            raise ValueError(f"{loss}: discriminator outputs must not be empty, got shape {tuple(out.shape)}")


def require_real(loss: str, real_out):
    if real_out is None:
        raise ValueError(f"{loss}: g_loss needs the discriminator's outputs on real data (real_out)")
    return real_out


# -- minimax and non-saturating (Goodfellow et al. 2014) -------------------------------------------

@primitive
def bce_d_loss(r, f, *, real_label):
    r"""D's binary cross-entropy with real target :math:`t`, fake target 0:

    .. math:: L = \mathbb E[t \operatorname{softplus}(-r) + (1 - t)\operatorname{softplus}(r)]
                  + \mathbb E \operatorname{softplus}(f)

    VJP (:math:`\operatorname{softplus}' = \sigma`), term by term:
    :math:`\bar r = \bar L\,((1 - t)\sigma(r) - t\sigma(-r))/n = \bar L\,(\sigma(r) - t)/n`,
    :math:`\bar f = \bar L\,\sigma(f)/m`. The first form keeps full relative precision
    where :math:`\sigma(r) \approx 1`, which :math:`\sigma(r) - 1` would cancel away.
    """
    t = real_label
    return (t * kernels.softplus(-r) + (1 - t) * kernels.softplus(r)).mean() + kernels.softplus(f).mean()


@bce_d_loss.vjp
def _(g, loss, r, f, *, real_label):
    t = real_label
    return mean_grad(g, (1 - t) * sigmoid(r) - t * sigmoid(-r), r), mean_grad(g, sigmoid(f), f)


@primitive
def saturating_g_loss(f):
    r""":math:`L = \mathbb E \log(1 - \sigma(f)) = -\mathbb E \operatorname{softplus}(f)`;
    :math:`\bar f = -\bar L\,\sigma(f)/m`."""
    return -kernels.softplus(f).mean()


@saturating_g_loss.vjp
def _(g, loss, f):
    return mean_grad(g, -sigmoid(f), f)


@primitive
def nonsaturating_g_loss(f):
    r""":math:`L = -\mathbb E \log\sigma(f) = \mathbb E \operatorname{softplus}(-f)`;
    :math:`\bar f = -\bar L\,\sigma(-f)/m`."""
    return kernels.softplus(-f).mean()


@nonsaturating_g_loss.vjp
def _(g, loss, f):
    return mean_grad(g, -sigmoid(-f), f)


@register("minimax")
class MinimaxLoss(AdversarialLoss):
    r"""The original GAN game: D classifies real from fake, G minimises D's log-likelihood.

    With logits :math:`r = D(x)`, :math:`f = D(G(z))` and
    :math:`D = \sigma(\text{logit})`,

    .. math::

        L_D &= -\mathbb E \log \sigma(r) - \mathbb E \log(1 - \sigma(f))
             = \mathbb E \operatorname{softplus}(-r) + \mathbb E \operatorname{softplus}(f) \\
        L_G &= \mathbb E \log(1 - \sigma(f)) = -\mathbb E \operatorname{softplus}(f)
             \quad\text{(saturating)}

    With ``real_label`` :math:`t < 1` (one-sided label smoothing, Salimans et
    al. 2016) the real term is the cross-entropy against target :math:`t`,
    :math:`\mathbb E[t \operatorname{softplus}(-r) + (1-t)\operatorname{softplus}(r)]`.

    Gradients: :math:`\bar r = (\sigma(r) - t)/n`, :math:`\bar f = \sigma(f)/m`
    for D; :math:`\bar f = -\sigma(f)/m` for G, which vanishes as
    :math:`f \to -\infty`, exactly when D confidently rejects G's samples
    (the reason for :class:`NonSaturatingLoss`).

    Optimal discriminator: :math:`D^*(x) = \frac{t\,p_{data}(x)}{p_{data}(x) + p_g(x)}`
    (:math:`p_{data}/(p_{data} + p_g)` for :math:`t = 1`), where
    :math:`-L_D = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g)`: against
    :math:`D^*`, G minimises the Jensen-Shannon divergence.

    Parameters
    ----------
    real_label : float
        Target for real samples, in (0, 1]; 0.9 is the usual smoothing.

    References
    ----------
    Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville,
    Bengio. Generative Adversarial Nets. NeurIPS 2014.
    Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen. Improved Techniques
    for Training GANs. NeurIPS 2016 (one-sided label smoothing).
    """

    ranges = {"real_label": "(0, 1]"}

    def __init__(self, real_label: float = 1.0):
        if not 0 < real_label <= 1:
            raise ValueError(f"{type(self).__name__}: real_label must lie in (0, 1], got {real_label}")
        self.real_label = float(real_label)

    def d_loss(self, real_out, fake_out):
        check_outputs(self.name, real_out, fake_out)
        return bce_d_loss(real_out, fake_out, real_label=self.real_label)

    def g_loss(self, fake_out, real_out=None):
        check_outputs(self.name, fake_out)
        return saturating_g_loss(fake_out)


@register("nonsaturating", "ns")
class NonSaturatingLoss(MinimaxLoss):
    r"""The minimax D with the non-saturating G: G maximises :math:`\log D(G(z))`.

    .. math::

        L_D &= \mathbb E \operatorname{softplus}(-r) + \mathbb E \operatorname{softplus}(f) \\
        L_G &= -\mathbb E \log \sigma(f) = \mathbb E \operatorname{softplus}(-f)

    (``real_label`` smooths the real target as in :class:`MinimaxLoss`.)

    Gradients: D's as in :class:`MinimaxLoss`; G's :math:`\bar f = -\sigma(-f)/m`,
    which tends to :math:`-1/m` as :math:`f \to -\infty`: G learns fastest
    where D rejects its samples most confidently, instead of not at all. It
    vanishes only as :math:`f \to +\infty`, where :math:`D(G(z)) \to 1`.

    Optimal discriminator: as for minimax, :math:`D^* = p_{data}/(p_{data} + p_g)`.
    The fixed point is the same (:math:`p_g = p_{data}`), but with :math:`D^*`
    held fixed, G's gradient is that of
    :math:`\mathrm{KL}(p_g \| p_{data}) - 2\,\mathrm{JSD}(p_{data} \| p_g)`
    (Arjovsky & Bottou 2017), not of the JSD alone.

    References
    ----------
    Goodfellow et al. Generative Adversarial Nets. NeurIPS 2014 (Section 3).
    Arjovsky, Bottou. Towards Principled Methods for Training Generative
    Adversarial Networks. ICLR 2017.
    """

    def g_loss(self, fake_out, real_out=None):
        check_outputs(self.name, fake_out)
        return nonsaturating_g_loss(fake_out)


# -- least squares (Mao et al. 2017) ---------------------------------------------------------------

@primitive
def half_squared_error(x, *, target):
    r""":math:`L = \tfrac12 \mathbb E (x - c)^2` for a constant target :math:`c`;
    :math:`\bar x = \bar L\,(x - c)/n`."""
    return 0.5 * ((x - target) ** 2).mean()


@half_squared_error.vjp
def _(g, loss, x, *, target):
    return mean_grad(g, x - target, x)


@register("lsgan")
class LSGANLoss(AdversarialLoss):
    r"""Least-squares GAN: D regresses real outputs to :math:`b` and fake ones to :math:`a`.

    .. math::

        L_D = \tfrac12 \mathbb E (r - b)^2 + \tfrac12 \mathbb E (f - a)^2, \qquad
        L_G = \tfrac12 \mathbb E (f - c)^2

    with :math:`c` what G wants D to say about its samples.

    Gradients: :math:`\bar r = (r - b)/n`, :math:`\bar f = (f - a)/m` for D;
    :math:`\bar f = (f - c)/m` for G, growing with the distance from the
    target, so samples far on the correct side of the boundary still move.

    Optimal discriminator: :math:`D^*(x) = \frac{b\,p_{data}(x) + a\,p_g(x)}{p_{data}(x) + p_g(x)}`.
    With :math:`b - c = 1`, :math:`b - a = 2` (e.g. :math:`a = -1, b = 1, c = 0`)
    G then minimises :math:`\int (p_{data} - p_g)^2 / (p_{data} + p_g)\,dx`, which
    Mao et al. write as the Pearson :math:`\chi^2` divergence between
    :math:`p_{data} + p_g` and :math:`2p_g`; the defaults
    :math:`a = 0, b = c = 1` (the paper's 0-1 coding) do not satisfy those
    conditions but work as well in practice.

    Parameters
    ----------
    a, b, c : float
        Targets for fake samples (D), real samples (D) and fake samples (G).

    References
    ----------
    Mao, Li, Xie, Lau, Wang, Smolley. Least Squares Generative Adversarial
    Networks. ICCV 2017.
    """

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0):
        self.a, self.b, self.c = float(a), float(b), float(c)

    def d_loss(self, real_out, fake_out):
        check_outputs(self.name, real_out, fake_out)
        return half_squared_error(real_out, target=self.b) + half_squared_error(fake_out, target=self.a)

    def g_loss(self, fake_out, real_out=None):
        check_outputs(self.name, fake_out)
        return half_squared_error(fake_out, target=self.c)


# -- hinge and Wasserstein (critics) ---------------------------------------------------------------

@primitive
def hinge_d_loss(r, f):
    r""":math:`L = \mathbb E \operatorname{relu}(1 - r) + \mathbb E \operatorname{relu}(1 + f)`;
    :math:`\bar r = -\bar L\,[r < 1]/n`, :math:`\bar f = \bar L\,[f > -1]/m` (kinks at :math:`\pm 1`)."""
    xp = array_module(r)
    return xp.maximum(1 - r, 0).mean() + xp.maximum(1 + f, 0).mean()


@hinge_d_loss.vjp
def _(g, loss, r, f):
    return mean_grad(g, -indicator(r.array < 1, r), r), mean_grad(g, indicator(f.array > -1, f), f)


@primitive
def critic_g_loss(f):
    r""":math:`L = -\mathbb E f`; :math:`\bar f = -\bar L / m`."""
    return -f.mean()


@critic_g_loss.vjp
def _(g, loss, f):
    return mean_grad(g, -1.0, f)


@primitive
def wasserstein_d_loss(r, f):
    r""":math:`L = \mathbb E f - \mathbb E r`; :math:`\bar r = -\bar L / n`, :math:`\bar f = \bar L / m`."""
    return f.mean() - r.mean()


@wasserstein_d_loss.vjp
def _(g, loss, r, f):
    return mean_grad(g, -1.0, r), mean_grad(g, 1.0, f)


@register("hinge")
class HingeLoss(AdversarialLoss):
    r"""Hinge loss: D is a large-margin classifier, G raises D's raw score on its samples.

    .. math::

        L_D = \mathbb E \operatorname{relu}(1 - r) + \mathbb E \operatorname{relu}(1 + f), \qquad
        L_G = -\mathbb E f

    Gradients: :math:`\bar r = -[r < 1]/n`, :math:`\bar f = [f > -1]/m` for
    D (samples beyond the margin cost nothing); :math:`\bar f = -1/m` for G.
    Not differentiable at :math:`r = 1`, :math:`f = -1`.

    Optimal discriminator: :math:`D^*(x) = 1` where :math:`p_{data} > p_g`,
    :math:`-1` where :math:`p_{data} < p_g` (any value in between where they are
    equal), where :math:`-L_D = 2\,\mathrm{TV}(p_{data}, p_g) - 2`: D's optimal
    value measures the total variation distance.
    Usually paired with spectral normalisation.

    References
    ----------
    Lim, Ye. Geometric GAN. arXiv:1705.02894, 2017.
    Miyato, Kataoka, Koyama, Yoshida. Spectral Normalization for Generative
    Adversarial Networks. ICLR 2018.
    """

    def d_loss(self, real_out, fake_out):
        check_outputs(self.name, real_out, fake_out)
        return hinge_d_loss(real_out, fake_out)

    def g_loss(self, fake_out, real_out=None):
        check_outputs(self.name, fake_out)
        return critic_g_loss(fake_out)


@register("wasserstein", "wgan")
class WassersteinLoss(AdversarialLoss):
    r"""Wasserstein GAN: a 1-Lipschitz critic estimates the earth mover's distance.

    .. math::

        L_D = \mathbb E f - \mathbb E r, \qquad L_G = -\mathbb E f

    Gradients: :math:`\bar r = -1/n`, :math:`\bar f = 1/m` for D;
    :math:`\bar f = -1/m` for G. Constant, so G's gradient never vanishes;
    but without a constraint on D the loss is unbounded below. By
    Kantorovich-Rubinstein duality,

    .. math:: W_1(p_{data}, p_g) = \sup_{\lVert D\rVert_L \le 1} \mathbb E_{p_{data}} D - \mathbb E_{p_g} D,

    so the optimal critic is the Kantorovich potential (1-Lipschitz, with
    unit gradient norm along the optimal transport paths) and
    :math:`-L_D^* = W_1`: G minimises the Wasserstein-1 distance. The
    constraint is enforced by :func:`clip_weights_` (the original paper), a
    gradient penalty (``gradient_penalty``) or spectral normalisation.

    References
    ----------
    Arjovsky, Chintala, Bottou. Wasserstein Generative Adversarial Networks.
    ICML 2017.
    """

    def d_loss(self, real_out, fake_out):
        check_outputs(self.name, real_out, fake_out)
        return wasserstein_d_loss(real_out, fake_out)

    def g_loss(self, fake_out, real_out=None):
        check_outputs(self.name, fake_out)
        return critic_g_loss(fake_out)


def clip_weights_(module, c: float = 0.01):
    r"""Clamp every parameter into :math:`[-c, c]`, in place: WGAN's original Lipschitz constraint.

    A network whose weights are bounded is :math:`K`-Lipschitz for some
    :math:`K(c)`, so the critic estimates :math:`K \cdot W_1`; the paper uses
    :math:`c = 0.01` and calls clipping "a clearly terrible way" to enforce the
    constraint (capacity underuse, exploding or vanishing gradients), which
    the gradient penalty replaced. ``module`` is a Module or an iterable of
    Tensors. Call it after each optimiser step of the critic.

    References
    ----------
    Arjovsky, Chintala, Bottou. Wasserstein Generative Adversarial Networks. ICML 2017 (Algorithm 1).
    """
    if not c > 0:
        raise ValueError(f"clip_weights_: the bound c must be positive, got {c}")
    params = module.parameters() if hasattr(module, "parameters") else module
    with no_grad():
        for p in params:
            p.xp.clip(p.array, -c, c, out=p.array)
    return module


# -- relativistic (Jolicoeur-Martineau 2019) ------------------------------------------------------

@primitive
def relativistic_loss(a, b):
    r"""Paired relativistic cross-entropy: :math:`L = \mathbb E \operatorname{softplus}(-(a - b))`.

    With :math:`d = a - b` and :math:`s = \sigma(-d)`:
    :math:`\bar a = -\bar L\, s / n`, :math:`\bar b = \bar L\, s / n`.
    """
    return kernels.softplus(b - a).mean()


@relativistic_loss.vjp
def _(g, loss, a, b):
    s = sigmoid(b - a)
    return mean_grad(g, -s, a), mean_grad(g, s, b)


@primitive
def relativistic_average_loss(a, b):
    r"""Relativistic average cross-entropy of :math:`a` ("more real") against :math:`b`:

    .. math:: L = \mathbb E_i \operatorname{softplus}(-(a_i - \mu_b)) + \mathbb E_j \operatorname{softplus}(b_j - \mu_a)

    with :math:`\mu_a, \mu_b` the batch means (:math:`n` and :math:`m` values).
    With :math:`p_i = \sigma(\mu_b - a_i)` and :math:`q_j = \sigma(b_j - \mu_a)`, each
    mean passes its share back to every element:
    :math:`\bar a_i = -\bar L\,(p_i + \mathbb E q)/n`, :math:`\bar b_j = \bar L\,(q_j + \mathbb E p)/m`.
    """
    return kernels.softplus(b.mean() - a).mean() + kernels.softplus(b - a.mean()).mean()


@relativistic_average_loss.vjp
def _(g, loss, a, b):
    p, q = sigmoid(mean(b) - a), sigmoid(b - mean(a))
    return mean_grad(g, -(p + mean(q)), a), mean_grad(g, q + mean(p), b)


@register("rsgan")
class RSGANLoss(AdversarialLoss):
    r"""Relativistic standard GAN: D estimates the probability that real data is more real than fake.

    With paired outputs (same shape), :math:`\sigma(r - f)` is that probability:

    .. math::

        L_D = -\mathbb E \log \sigma(r - f) = \mathbb E \operatorname{softplus}(-(r - f)), \qquad
        L_G = \mathbb E \operatorname{softplus}(-(f - r))

    Gradients (with :math:`s = \sigma(f - r)` elementwise, :math:`n` pairs):
    :math:`\bar r = -s/n`, :math:`\bar f = s/n` for D; for G, with
    :math:`s' = \sigma(r - f)`, :math:`\bar f = -s'/n` (and :math:`\bar r = s'/n`).
    G's loss involves real data: G makes its samples look more realistic
    than the real ones, not merely realistic (its gradient reaches G through
    ``f`` only).

    Optimal discriminator: none in closed form for the paired critic; at the
    equilibrium :math:`p_g = p_{data}` any constant critic is optimal and
    :math:`L_D = \log 2`. The divergence minimised is
    :math:`\log 2 - \min_C L_D \ge 0`, zero iff :math:`p_g = p_{data}`
    (Jolicoeur-Martineau 2019, relativistic divergences).

    References
    ----------
    Jolicoeur-Martineau. The relativistic discriminator: a key element missing
    from standard GAN. ICLR 2019 (arXiv:1807.00734, 2018).
    """

    needs_real_for_g = True

    def d_loss(self, real_out, fake_out):
        self._check_paired(real_out, fake_out)
        return relativistic_loss(real_out, fake_out)

    def g_loss(self, fake_out, real_out=None):
        real_out = require_real(self.name, real_out)
        self._check_paired(real_out, fake_out)
        return relativistic_loss(fake_out, real_out)

    def _check_paired(self, real_out, fake_out):
        check_outputs(self.name, real_out, fake_out)
        if tuple(real_out.shape) != tuple(fake_out.shape):
            raise ValueError(f"{self.name}: real and fake outputs are compared in pairs and need the same "
                             f"shape, got {tuple(real_out.shape)} and {tuple(fake_out.shape)}")


@register("ragan")
class RaGANLoss(AdversarialLoss):
    r"""Relativistic average GAN: each sample is compared with the mean output on the other batch.

    .. math::

        L_D &= \mathbb E \operatorname{softplus}(-(r - \mu_f)) + \mathbb E \operatorname{softplus}(f - \mu_r) \\
        L_G &= \mathbb E \operatorname{softplus}(-(f - \mu_r)) + \mathbb E \operatorname{softplus}(r - \mu_f)

    with :math:`\mu_r, \mu_f` the batch means of D's outputs; G's loss is
    D's with the roles of real and fake swapped.

    Gradients for D, with :math:`p = \sigma(\mu_f - r)` and :math:`q = \sigma(f - \mu_r)`:
    :math:`\bar r = -(p + \mathbb E q)/n`, :math:`\bar f = (q + \mathbb E p)/m`
    (each sample's own term plus its share of the mean it enters); G's by
    the same formula with :math:`r` and :math:`f` exchanged.

    Optimal discriminator: no closed form in general; at :math:`p_g = p_{data}`
    the critic is constant and :math:`L_D = 2\log 2`. Like RSGAN, its supremum
    over critics is a divergence (Jolicoeur-Martineau 2019).

    References
    ----------
    Jolicoeur-Martineau. The relativistic discriminator: a key element missing
    from standard GAN. ICLR 2019 (arXiv:1807.00734, 2018).
    """

    needs_real_for_g = True

    def d_loss(self, real_out, fake_out):
        check_outputs(self.name, real_out, fake_out)
        return relativistic_average_loss(real_out, fake_out)

    def g_loss(self, fake_out, real_out=None):
        real_out = require_real(self.name, real_out)
        check_outputs(self.name, real_out, fake_out)
        return relativistic_average_loss(fake_out, real_out)
