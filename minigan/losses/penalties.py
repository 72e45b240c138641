r"""Gradient penalties on the discriminator: WGAN-GP, R1, R2 and DRAGAN.

Each penalty is a function of :math:`\nabla_x D(x)` at some points :math:`x`.
That gradient is taken with ``grad(..., create_graph=True)``, so it is itself
a recorded function of D's parameters :math:`\theta`, and ``backward`` on
``d_loss + penalty`` reaches :math:`\nabla_\theta \lVert\nabla_x D\rVert^2`
(double backward). This works for every layer because every VJP in minigan is
written with minigan ops (see ``docs/losses.md``).

The batches need not require grad: a batch that does not is wrapped in a fresh
leaf. A batch that does (a non-detached ``G(z)``) keeps its graph, so the
penalty then also sends gradient into whatever made it, as in PyTorch; pass
``fake.detach()`` when it should not.

BatchNorm in the critic. The WGAN-GP paper (Gulrajani et al. 2017, Sec. 4)
drops batch normalisation from the critic: the penalty constrains the norm of
each sample's own gradient :math:`\nabla_{x_n} D(x_n)`, but under batch
statistics :math:`D(x_n)` depends on every sample of the batch, so
:math:`\nabla_{x_n} \sum_m D(x_m)` mixes in the other samples' outputs and is
no longer a per-sample quantity. Layer normalisation (or none) keeps samples
independent. minigan computes the penalty for any D; the choice stays the user's.
"""

from __future__ import annotations

from minigan.autograd import Tensor, grad, rand
from minigan.ops import mean, norm, std, sum
from minigan.registry import Registry

__all__ = ["dragan_penalty", "gradient_penalty", "r1_penalty", "r2_penalty", "PENALTIES", "Penalty",
           "GradientPenalty", "R1Penalty", "R2Penalty", "DRAGANPenalty"]

PENALTIES = Registry("penalty")


def _input_gradient(D, x: Tensor) -> Tensor:
    r""":math:`\nabla_x \sum_n D(x)_n` as an ``(N, features)`` matrix, differentiable again (create_graph)."""
    x = x if x.requires_grad else Tensor(x.array, requires_grad=True)
    (g,) = grad(sum(D(x)), x, create_graph=True)
    return g.reshape(g.shape[0], -1)


def _distance_penalty(D, points, weight, target, return_norm):
    r""":math:`\lambda\, \mathbb E_n (\lVert\nabla D(x_n)\rVert_2 - t)^2`, and the mean norm if asked."""
    norms = norm(_input_gradient(D, points), axis=1)
    penalty = weight * mean((norms - target) ** 2)
    return (penalty, mean(norms.detach())) if return_norm else penalty


def _squared_norm_penalty(D, points, gamma, return_norm):
    r""":math:`\tfrac\gamma2\, \mathbb E_n \lVert\nabla D(x_n)\rVert_2^2` (no square root: smooth at 0)."""
    g = _input_gradient(D, points)
    squared = sum(g * g, axis=1)
    penalty = (0.5 * gamma) * mean(squared)
    return (penalty, mean(squared.detach() ** 0.5)) if return_norm else penalty


def _per_sample_uniform(x: Tensor, generator) -> Tensor:
    """One U[0, 1) draw per sample, shaped to broadcast over the other axes."""
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    return rand(shape, dtype=x.dtype, device=x.device, generator=generator)


def gradient_penalty(D, real: Tensor, fake: Tensor, lambda_: float = 10.0, target: float = 1.0,
                     generator=None, return_norm: bool = False):
    r"""WGAN-GP: keep the critic's gradient norm near ``target`` between real and generated data.

    .. math::

        \hat x = \epsilon x + (1 - \epsilon)\tilde x, \quad \epsilon \sim U[0, 1] \text{ per sample},
        \qquad P = \lambda\, \mathbb E_n \bigl(\lVert \nabla_{\hat x} D(\hat x_n) \rVert_2 - t\bigr)^2

    with the norm over every non-batch axis. Only the *optimal* critic is
    known to have unit gradient norm on such segments, and only on those
    joining pairs drawn from the optimal transport coupling (Gulrajani et al.
    2017, Prop. 1); a 1-Lipschitz critic in general has norm at most 1. The
    segments here join independently drawn real and generated samples, so
    asking for norm :math:`t` on them is a heuristic, a soft substitute for
    the Lipschitz constraint rather than a property of the optimum.

    Parameters
    ----------
    D : callable
        The critic; ``D(x)`` returns ``(N,)``, ``(N, 1)`` or any shape with the batch first.
    real, fake : Tensor
        Batches of the same shape ``(N, ...)`` (e.g. ``(N, C, H, W)``).
    lambda_ : float
        Weight :math:`\lambda` (10 in the paper).
    target : float
        Target norm :math:`t` (1 in the paper).
    generator : minigan.Generator, optional
        Source of :math:`\epsilon`; the default generator if None.
    return_norm : bool
        Also return the mean gradient norm (detached), for logging.

    Returns
    -------
    Tensor or (Tensor, Tensor)
        The scalar penalty, and the mean norm when ``return_norm``.

    Gradient: through ``grad(create_graph=True)``, :math:`\bar\theta = \frac{2\lambda}{N}\sum_n
    (1 - t/\lVert g_n\rVert)\, \partial_\theta g_n^\top g_n` with :math:`g_n = \nabla_{\hat x} D(\hat x_n)`
    (a Hessian-vector product, computed by double backward).

    References
    ----------
    Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. Improved Training of
    Wasserstein GANs. NeurIPS 2017.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real {real.shape} and fake {fake.shape} must have the same shape")
    eps = _per_sample_uniform(real, generator)
    interpolates = eps * real + (1 - eps) * fake
    return _distance_penalty(D, interpolates, lambda_, target, return_norm)


def r1_penalty(D, real: Tensor, gamma: float = 10.0, return_norm: bool = False):
    r"""R1: penalise the discriminator's gradient on real data.

    .. math:: R_1 = \frac\gamma2\, \mathbb E_{x \sim p_{data}} \lVert \nabla_x D(x) \rVert_2^2

    Near a Nash equilibrium where :math:`p_G = p_{data}`, a zero gradient on the
    data makes simultaneous gradient descent locally convergent (Mescheder et
    al. 2018, Theorem 4.1); without it the unregularised GAN oscillates.
    Arguments and return value as :func:`gradient_penalty`.

    Gradient: :math:`\bar\theta = \frac{\gamma}{N}\sum_n \partial_\theta g_n^\top g_n`,
    :math:`g_n = \nabla_x D(x_n)`, by double backward.

    References
    ----------
    Mescheder, Geiger, Nowozin. Which Training Methods for GANs do actually
    Converge? ICML 2018.
    """
    return _squared_norm_penalty(D, real, gamma, return_norm)


def r2_penalty(D, fake: Tensor, gamma: float = 10.0, return_norm: bool = False):
    r"""R2: as :func:`r1_penalty`, on generated data:
    :math:`\frac\gamma2\, \mathbb E_{x \sim p_G} \lVert \nabla_x D(x) \rVert_2^2`.

    References
    ----------
    Mescheder, Geiger, Nowozin. Which Training Methods for GANs do actually
    Converge? ICML 2018.
    """
    return _squared_norm_penalty(D, fake, gamma, return_norm)


def dragan_penalty(D, real: Tensor, lambda_: float = 10.0, k: float = 1.0, c: float = 0.5, generator=None,
                   return_norm: bool = False):
    r"""DRAGAN: keep the gradient norm near ``k`` in a noisy neighbourhood of the real data.

    .. math::

        \hat x = x + c\, \operatorname{std}(x)\, u, \quad u \sim U[0, 1]^{\text{shape}(x)},
        \qquad P = \lambda\, \mathbb E_n \bigl(\lVert \nabla_{\hat x} D(\hat x_n) \rVert_2 - k\bigr)^2

    with :math:`\operatorname{std}(x)` the (biased) standard deviation of the
    whole batch, as in the authors' code. Sharp gradients of D around real
    points go with mode collapse; penalising them there regularises D
    locally, without the interpolation between distributions of WGAN-GP.
    (Some versions of the authors' code also scale :math:`\delta` by a
    per-sample :math:`\alpha \sim U[0, 1]`, interpolating between :math:`x`
    and :math:`x + \delta`; here the perturbation is used as it is.)
    Arguments and return value as :func:`gradient_penalty`.

    References
    ----------
    Kodali, Abernethy, Hays, Kira. On Convergence and Stability of GANs.
    arXiv:1705.07215, 2017.
    """
    noise = rand(real.shape, dtype=real.dtype, device=real.device, generator=generator)
    perturbed = real + c * std(real, unbiased=False) * noise
    return _distance_penalty(D, perturbed, lambda_, k, return_norm)


# -- the penalties by name, as a trainer adds them to a critic's loss ---------------------------------------

class Penalty:
    """A regulariser of the critic added to its loss: ``penalty(D, real, fake)`` is a scalar Tensor.

    ``D`` maps a batch to the critic's outputs (a conditional critic with its
    labels bound in); ``real`` and ``fake`` are the batches its loss judged.
    Options are the constructor's keyword parameters (see
    :mod:`minigan.registry`); ``weight`` is always the first.
    """

    ranges = {"weight": "[0, inf)"}

    def __init__(self, weight: float = 10.0):
        self.weight = weight

    def __call__(self, D, real: Tensor, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


@PENALTIES.register("gp")
class GradientPenalty(Penalty):
    r"""WGAN-GP between real and generated samples, :func:`gradient_penalty` (weight :math:`\lambda`)."""

    ranges = {"weight": "[0, inf)", "target": "[0, inf)"}

    def __init__(self, weight: float = 10.0, target: float = 1.0):
        self.weight, self.target = weight, target

    def __call__(self, D, real, fake):
        return gradient_penalty(D, real, fake, self.weight, self.target)


@PENALTIES.register("r1")
class R1Penalty(Penalty):
    r"""R1 on real samples, :func:`r1_penalty` (weight :math:`\gamma`)."""

    def __call__(self, D, real, fake):
        return r1_penalty(D, real, self.weight)


@PENALTIES.register("r2")
class R2Penalty(Penalty):
    r"""R2 on generated samples, :func:`r2_penalty` (weight :math:`\gamma`)."""

    def __call__(self, D, real, fake):
        return r2_penalty(D, fake, self.weight)


@PENALTIES.register("dragan")
class DRAGANPenalty(Penalty):
    r"""DRAGAN around real samples, :func:`dragan_penalty` (weight :math:`\lambda`, target norm ``k``, noise ``c``)."""

    ranges = {"weight": "[0, inf)", "k": "[0, inf)", "c": "[0, inf)"}

    def __init__(self, weight: float = 10.0, k: float = 1.0, c: float = 0.5):
        self.weight, self.k, self.c = weight, k, c

    def __call__(self, D, real, fake):
        return dragan_penalty(D, real, self.weight, self.k, self.c)
