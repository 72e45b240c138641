r"""EBGAN's and BEGAN's discriminator: an autoencoder whose output is how badly it reconstructs its input."""

from __future__ import annotations

from minigan import nn
from minigan.autograd import Tensor
from minigan.ops import abs, mean

__all__ = ["ENERGIES", "AutoencoderDiscriminator", "reconstruction_energy"]

ENERGIES = ("mse", "l1")


def reconstruction_energy(reconstruction: Tensor, x: Tensor, energy: str = "mse") -> Tensor:
    r"""The per-sample reconstruction error, averaged over every axis but the batch axis.

    .. math:: E(x) = \frac1d \sum_{i=1}^{d} \bigl|r_i - x_i\bigr|^p

    with :math:`p = 2` for ``"mse"`` (EBGAN) and :math:`p = 1` for ``"l1"`` (BEGAN),
    :math:`r` the reconstruction of :math:`x` and :math:`d` the size of one sample.
    ``(N, ...)`` and ``(N, ...)`` -> ``(N,)``.

    Gradient (a composite of ``sub``, ``mul`` or ``abs`` and ``mean``): with :math:`\delta = r - x`,
    :math:`\bar r_i = -\bar x_i = \bar E\, \tfrac{2}{d}\, \delta_i` for ``"mse"`` and
    :math:`\bar E\, \tfrac1d \operatorname{sign}(\delta_i)` for ``"l1"`` (a kink at :math:`\delta_i = 0`).
    Both arguments receive it: a generated sample is judged by how well D
    rebuilds it, so G's gradient flows through the input and the reconstruction.
    """
    if energy not in ENERGIES:
        raise ValueError(f"reconstruction_energy: energy must be one of {', '.join(ENERGIES)}, got {energy!r}")
    if reconstruction.shape != x.shape or x.ndim < 2:
        raise ValueError(f"reconstruction_energy: expected a reconstruction and samples of one shape (N, ...), "
                         f"got {reconstruction.shape} and {x.shape}")
    delta = reconstruction - x
    error = delta * delta if energy == "mse" else abs(delta)
    return mean(error.reshape(x.shape[0], -1), axis=1)


class AutoencoderDiscriminator(nn.Module):
    r"""A discriminator that is an autoencoder: its output is the energy of the sample, its reconstruction error.

    .. math:: D(x) = E\bigl(\operatorname{Dec}(\operatorname{Enc}(x)),\ x\bigr)

    (:func:`reconstruction_energy`). Low energy means "looks like the data",
    which D learns by rebuilding real samples well and generated ones badly.
    :meth:`encode` gives the code :math:`\operatorname{Enc}(x)` (EBGAN's
    pulling-away term reads it), :meth:`reconstruct` gives
    :math:`\operatorname{Dec}(\operatorname{Enc}(x))`.

    Shapes: ``x (N, ...)`` -> ``(N,)``; the decoder must give back the shape of its encoder's input.

    References
    ----------
    Zhao, Mathieu, LeCun. Energy-based Generative Adversarial Network. ICLR 2017.
    Berthelot, Schumm, Metz. BEGAN: Boundary Equilibrium Generative Adversarial
    Networks. arXiv:1703.10717, 2017.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, energy: str = "mse"):
        super().__init__()
        if energy not in ENERGIES:
            raise ValueError(f"AutoencoderDiscriminator: energy must be one of {', '.join(ENERGIES)}, got {energy!r}")
        self.encoder, self.decoder, self.energy = encoder, decoder, energy

    def encode(self, x):
        r""":math:`\operatorname{Enc}(x)`, ``(N, code_dim)``."""
        return self.encoder(x)

    def reconstruct(self, x):
        r""":math:`\operatorname{Dec}(\operatorname{Enc}(x))`, shaped like ``x``."""
        return self.decoder(self.encode(x))

    def energy_of(self, code, x):
        r"""The energy of ``x`` from its code :math:`c`, :math:`E(\operatorname{Dec}(c), x)`:
        ``D(x)`` is ``energy_of(encode(x), x)``."""
        reconstruction = self.decoder(code)
        if reconstruction.shape != x.shape:
            raise ValueError(f"AutoencoderDiscriminator: the decoder gives {reconstruction.shape} for inputs of "
                             f"shape {x.shape}")
        return reconstruction_energy(reconstruction, x, self.energy)

    def forward(self, x):
        return self.energy_of(self.encode(x), x)

    def extra_repr(self) -> str:
        return f"energy={self.energy!r}"
