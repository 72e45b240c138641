r"""f-GAN: variational divergence minimisation with any f-divergence (Nowozin et al. 2016).

For a convex :math:`\varphi` with :math:`\varphi(1) = 0` (the paper's :math:`f`;
here :math:`f` is D's output on generated data), the f-divergence and its
variational lower bound (Fenchel conjugate :math:`\varphi^*(t) = \sup_u tu - \varphi(u)`) are

.. math::

    D_\varphi(P \| Q) = \int q(x)\, \varphi\!\left(\frac{p(x)}{q(x)}\right) dx
    \;\ge\; \sup_T\ \mathbb E_{P}[T(x)] - \mathbb E_{Q}[\varphi^*(T(x))],

with equality at :math:`T^*(x) = \varphi'(p(x)/q(x))`. D's raw output :math:`V`
is mapped into the domain of :math:`\varphi^*` by an output activation,
:math:`T = g_\varphi(V)` (Table 2 of the paper). With :math:`P = p_{data}`,
:math:`Q = p_g`, ``r`` and ``f`` the raw outputs on real and generated data:

.. math::

    L_D = -\mathbb E\, g_\varphi(r) + \mathbb E\, \varphi^*(g_\varphi(f)), \qquad
    L_G = -\mathbb E\, g_\varphi(f)

G's loss is the paper's recommended alternative (Section 3.2): maximise
:math:`\mathbb E_Q[g_\varphi(V)]` instead of minimising the saddle objective
:math:`-\mathbb E_Q[\varphi^*(g_\varphi(V))]`, the analogue of the non-saturating trick,
with the same fixed point. For Jensen-Shannon it is exactly the
non-saturating GAN loss.

Each divergence below is one row of that table: the output activation
:math:`g_\varphi` and the composite :math:`\varphi^* \circ g_\varphi` on arrays (in a stable
closed form), and their derivatives as minigan ops. Two primitives serve them
all; their VJPs are

.. math::

    \bar r = -\bar L\, g_\varphi'(r)/n, \qquad
    \bar f = \bar L\, (\varphi^* \circ g_\varphi)'(f)/m \quad (D), \qquad
    \bar f = -\bar L\, g_\varphi'(f)/m \quad (G).

KL, reverse KL and squared Hellinger have exponential conjugates, so their
losses grow like :math:`e^{|v|}` on one side and overflow there for logits
beyond about 88 (float32) or 709 (float64); the others are finite for any logit.
"""

from __future__ import annotations

import math

from minigan import kernels
from minigan.autograd import Tensor, primitive
from minigan.kernels import array_module
from minigan.losses.adversarial import check_outputs, mean_grad
from minigan.losses.registry import AdversarialLoss, register
from minigan.ops import exp, sigmoid, tanh

__all__ = ["FGANLoss", "KLFGANLoss", "ReverseKLFGANLoss", "PearsonFGANLoss", "HellingerFGANLoss",
           "JensenShannonFGANLoss", "TotalVariationFGANLoss"]

LOG_2 = math.log(2.0)


@primitive
def fgan_d_loss(r, f, *, divergence):
    r""":math:`L = -\mathbb E\, g_\varphi(r) + \mathbb E\, \varphi^*(g_\varphi(f))`;
    :math:`\bar r = -\bar L\, g_\varphi'(r)/n`, :math:`\bar f = \bar L\, (\varphi^* \circ g_\varphi)'(f)/m`."""
    return -divergence.activation(r).mean() + divergence.conjugate(f).mean()


@fgan_d_loss.vjp
def _(g, loss, r, f, *, divergence):
    return mean_grad(g, -divergence.activation_grad(r), r), mean_grad(g, divergence.conjugate_grad(f), f)


@primitive
def fgan_g_loss(f, *, divergence):
    r""":math:`L = -\mathbb E\, g_\varphi(f)`; :math:`\bar f = -\bar L\, g_\varphi'(f)/m`."""
    return -divergence.activation(f).mean()


@fgan_g_loss.vjp
def _(g, loss, f, *, divergence):
    return mean_grad(g, -divergence.activation_grad(f), f)


class FGANLoss(AdversarialLoss):
    r"""Base of the f-GAN losses: a subclass fills in one row of Nowozin et al.'s Table 2.

    Subclasses define four static methods of D's raw output ``v``: on arrays,
    ``activation`` (:math:`T = g_\varphi(v)`) and ``conjugate``
    (:math:`\varphi^*(g_\varphi(v))`); on Tensors, with minigan ops, their derivatives
    ``activation_grad`` and ``conjugate_grad`` (a number where constant).
    See the module docstring for the objectives and gradients.
    """

    def d_loss(self, real_out, fake_out):
        check_outputs(self.name, real_out, fake_out)
        return fgan_d_loss(real_out, fake_out, divergence=type(self))

    def g_loss(self, fake_out, real_out=None):
        check_outputs(self.name, fake_out)
        return fgan_g_loss(fake_out, divergence=type(self))

    def critic(self, out: Tensor) -> Tensor:
        r"""The variational function :math:`T = g_\varphi(V)` for raw outputs ``out`` (no gradient)."""
        return Tensor(type(self).activation(out.array))


@register("fgan-kl")
class KLFGANLoss(FGANLoss):
    r"""f-GAN with the Kullback-Leibler divergence :math:`\mathrm{KL}(p_{data} \| p_g)`.

    :math:`\varphi(u) = u\log u`, :math:`\varphi^*(t) = e^{t-1}`, :math:`g_\varphi(v) = v`:

    .. math:: L_D = -\mathbb E\, r + \mathbb E\, e^{f - 1}, \qquad L_G = -\mathbb E\, f

    Gradients: :math:`\bar r = -1/n`, :math:`\bar f = e^{f-1}/m` (D); :math:`\bar f = -1/m` (G).
    Optimal critic: :math:`T^* = V^* = 1 + \log(p_{data}/p_g)`, where
    :math:`-L_D = \mathrm{KL}(p_{data} \| p_g)`.

    References
    ----------
    Nowozin, Cseke, Tomioka. f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization. NeurIPS 2016 (Tables 1 and 2).
    """

    @staticmethod
    def activation(v):
        return v

    @staticmethod
    def conjugate(v):
        return array_module(v).exp(v - 1)

    @staticmethod
    def activation_grad(v):
        return 1.0

    @staticmethod
    def conjugate_grad(v):
        return exp(v - 1)


@register("fgan-reverse-kl")
class ReverseKLFGANLoss(FGANLoss):
    r"""f-GAN with the reverse Kullback-Leibler divergence :math:`\mathrm{KL}(p_g \| p_{data})`.

    :math:`\varphi(u) = -\log u`, :math:`\varphi^*(t) = -1 - \log(-t)` for :math:`t < 0`,
    :math:`g_\varphi(v) = -e^{-v}`, so :math:`\varphi^*(g_\varphi(v)) = v - 1`:

    .. math:: L_D = \mathbb E\, e^{-r} + \mathbb E\, f - 1, \qquad L_G = \mathbb E\, e^{-f}

    Gradients: :math:`\bar r = -e^{-r}/n`, :math:`\bar f = 1/m` (D); :math:`\bar f = -e^{-f}/m` (G).
    Optimal critic: :math:`T^* = -p_g/p_{data}`, i.e. :math:`V^* = \log(p_{data}/p_g)`,
    where :math:`-L_D = \mathrm{KL}(p_g \| p_{data})`.

    References
    ----------
    Nowozin, Cseke, Tomioka. f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization. NeurIPS 2016 (Tables 1 and 2).
    """

    @staticmethod
    def activation(v):
        return -array_module(v).exp(-v)

    @staticmethod
    def conjugate(v):
        return v - 1

    @staticmethod
    def activation_grad(v):
        return exp(-v)

    @staticmethod
    def conjugate_grad(v):
        return 1.0


@register("fgan-pearson")
class PearsonFGANLoss(FGANLoss):
    r"""f-GAN with the Pearson :math:`\chi^2` divergence :math:`\sum (p_{data} - p_g)^2 / p_g`.

    :math:`\varphi(u) = (u - 1)^2`, :math:`\varphi^*(t) = t^2/4 + t`, :math:`g_\varphi(v) = v`:

    .. math:: L_D = -\mathbb E\, r + \mathbb E\,(f^2/4 + f), \qquad L_G = -\mathbb E\, f

    Gradients: :math:`\bar r = -1/n`, :math:`\bar f = (f/2 + 1)/m` (D); :math:`\bar f = -1/m` (G).
    Optimal critic: :math:`T^* = V^* = 2(p_{data}/p_g - 1)`, where
    :math:`-L_D = \chi^2_{\text{Pearson}}(p_{data} \| p_g)`.

    References
    ----------
    Nowozin, Cseke, Tomioka. f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization. NeurIPS 2016 (Tables 1 and 2).
    """

    @staticmethod
    def activation(v):
        return v

    @staticmethod
    def conjugate(v):
        return 0.25 * v * v + v

    @staticmethod
    def activation_grad(v):
        return 1.0

    @staticmethod
    def conjugate_grad(v):
        return 0.5 * v + 1


@register("fgan-hellinger")
class HellingerFGANLoss(FGANLoss):
    r"""f-GAN with the squared Hellinger distance :math:`\sum (\sqrt{p_{data}} - \sqrt{p_g})^2`.

    :math:`\varphi(u) = (\sqrt u - 1)^2`, :math:`\varphi^*(t) = t/(1 - t)` for :math:`t < 1`,
    :math:`g_\varphi(v) = 1 - e^{-v}`, so :math:`\varphi^*(g_\varphi(v)) = e^{v} - 1`:

    .. math:: L_D = \mathbb E\, e^{-r} + \mathbb E\, e^{f} - 2, \qquad L_G = \mathbb E\, e^{-f} - 1

    Gradients: :math:`\bar r = -e^{-r}/n`, :math:`\bar f = e^{f}/m` (D); :math:`\bar f = -e^{-f}/m` (G).
    Optimal critic: :math:`T^* = 1 - \sqrt{p_g/p_{data}}`, i.e.
    :math:`V^* = \tfrac12\log(p_{data}/p_g)`, where :math:`-L_D = H^2(p_{data}, p_g)`.

    References
    ----------
    Nowozin, Cseke, Tomioka. f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization. NeurIPS 2016 (Tables 1 and 2).
    """

    @staticmethod
    def activation(v):
        return 1 - array_module(v).exp(-v)

    @staticmethod
    def conjugate(v):
        return array_module(v).expm1(v)

    @staticmethod
    def activation_grad(v):
        return exp(-v)

    @staticmethod
    def conjugate_grad(v):
        return exp(v)


@register("fgan-js")
class JensenShannonFGANLoss(FGANLoss):
    r"""f-GAN with the Jensen-Shannon divergence (twice the JSD, as the paper's :math:`f`, here :math:`\varphi`, gives).

    :math:`\varphi(u) = u\log u - (u + 1)\log\frac{u + 1}{2}`,
    :math:`\varphi^*(t) = -\log(2 - e^t)` for :math:`t < \log 2`,
    :math:`g_\varphi(v) = \log 2 - \operatorname{softplus}(-v) = \log(2\sigma(v))`, so
    :math:`\varphi^*(g_\varphi(v)) = -\log(2 - 2\sigma(v)) = \operatorname{softplus}(v) - \log 2`:

    .. math::

        L_D = \mathbb E \operatorname{softplus}(-r) + \mathbb E \operatorname{softplus}(f) - 2\log 2, \qquad
        L_G = \mathbb E \operatorname{softplus}(-f) - \log 2

    the minimax GAN's D loss and the non-saturating G loss, shifted by constants.

    Gradients: :math:`\bar r = -\sigma(-r)/n`, :math:`\bar f = \sigma(f)/m` (D);
    :math:`\bar f = -\sigma(-f)/m` (G).
    Optimal critic: :math:`T^* = \log\frac{2p_{data}}{p_{data} + p_g}`, i.e.
    :math:`V^* = \log(p_{data}/p_g)`, where
    :math:`-L_D = 2\,\mathrm{JSD}(p_{data} \| p_g)` with
    :math:`\mathrm{JSD} = \tfrac12\mathrm{KL}(p_{data} \| m) + \tfrac12\mathrm{KL}(p_g \| m)`,
    :math:`m = (p_{data} + p_g)/2`.

    References
    ----------
    Nowozin, Cseke, Tomioka. f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization. NeurIPS 2016 (Tables 1 and 2).
    """

    @staticmethod
    def activation(v):
        return LOG_2 - kernels.softplus(-v)

    @staticmethod
    def conjugate(v):
        return kernels.softplus(v) - LOG_2

    @staticmethod
    def activation_grad(v):
        return sigmoid(-v)

    @staticmethod
    def conjugate_grad(v):
        return sigmoid(v)


@register("fgan-tv")
class TotalVariationFGANLoss(FGANLoss):
    r"""f-GAN with the total variation distance :math:`\tfrac12 \sum |p_{data} - p_g|`.

    :math:`\varphi(u) = \tfrac12|u - 1|`, :math:`\varphi^*(t) = t` for :math:`|t| \le \tfrac12`,
    :math:`g_\varphi(v) = \tfrac12\tanh v`:

    .. math:: L_D = \tfrac12\mathbb E \tanh f - \tfrac12\mathbb E \tanh r, \qquad L_G = -\tfrac12\mathbb E\tanh f

    Gradients: :math:`\bar r = -\tfrac12(1 - \tanh^2 r)/n`, :math:`\bar f = \tfrac12(1 - \tanh^2 f)/m` (D);
    :math:`\bar f = -\tfrac12(1 - \tanh^2 f)/m` (G).
    Optimal critic: :math:`T^* = \tfrac12\operatorname{sign}(p_{data} - p_g)`, reached only
    as :math:`V \to \pm\infty` (:math:`\varphi` is not differentiable at 1, so any
    :math:`T \in [-\tfrac12, \tfrac12]` is optimal where the densities agree);
    the bound :math:`-L_D` tends to :math:`\mathrm{TV}(p_{data}, p_g)`.

    References
    ----------
    Nowozin, Cseke, Tomioka. f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization. NeurIPS 2016 (Tables 1 and 2).
    """

    @staticmethod
    def activation(v):
        return 0.5 * array_module(v).tanh(v)

    @staticmethod
    def conjugate(v):
        return 0.5 * array_module(v).tanh(v)

    @staticmethod
    def activation_grad(v):
        t = tanh(v)
        return 0.5 * (1 - t * t)

    @staticmethod
    def conjugate_grad(v):
        t = tanh(v)
        return 0.5 * (1 - t * t)
