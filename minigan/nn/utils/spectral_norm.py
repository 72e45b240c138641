r"""Spectral normalisation (Miyato et al. 2018): divide a weight by its largest singular value.

For a weight reshaped to a matrix :math:`W \in \mathbb R^{d_o \times d_i}` (output
dimension first), one step of power iteration with persistent vectors
:math:`u \in \mathbb R^{d_o}, v \in \mathbb R^{d_i}`,

.. math:: v \leftarrow \frac{W^\top u}{\lVert W^\top u \rVert}, \qquad
          u \leftarrow \frac{W v}{\lVert W v \rVert}, \qquad
          \sigma(W) \approx u^\top W v,

runs before each training forward (:math:`u, v` are constants for the
gradient, as in the paper), and the layer uses :math:`W_{SN} = W / \sigma(W)`.
Its gradient, from div, matmul and the recorded weight, is

.. math:: \bar W = \frac{1}{\sigma}\left(\bar W_{SN} - (\bar W_{SN} \cdot W_{SN})\, u v^\top\right).

In eval mode :math:`u, v` are frozen, so :math:`\sigma` is recomputed from
the current weight but no iteration runs: the layer is deterministic.

What it guarantees: for unit :math:`u, v`, :math:`u^\top W v` never exceeds the
largest singular value, so :math:`\lVert W_{SN} \rVert_2 \ge 1`, equal to 1
only once the iteration has converged. That norm is a ``Linear`` layer's
Lipschitz constant; a convolution's operator norm is at most
:math:`\sqrt{k_h k_w}` times the norm of its reshaped matrix (each input
pixel enters at most :math:`k_h k_w` receptive fields), so a normalised
convolution is not 1-Lipschitz in general (``docs/layers.md``).
The state dict keys (``weight_orig``, ``weight_u``, ``weight_v``) match PyTorch's.
"""

from __future__ import annotations

from minigan.autograd import Tensor
from minigan.autograd.creation import Generator, randn
from minigan.nn.module import Module, Parameter

__all__ = ["spectral_norm", "remove_spectral_norm", "SpectralNorm"]


def _normalize(a, eps: float):
    xp = Tensor(a).xp
    return a / max(float(xp.linalg.norm(a)), eps)


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        if n_power_iterations < 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be >= 0, got {n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def weight_matrix(self, weight: Tensor) -> Tensor:
        """The weight as a matrix with dimension ``dim`` as rows."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def power_iteration(self, module: Module) -> None:
        """Refine :math:`u, v` in place (outside the graph)."""
        w = self.weight_matrix(getattr(module, self.name + "_orig")).array
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        for _ in range(self.n_power_iterations):
            v.array = _normalize(w.T @ u.array, self.eps)
            u.array = _normalize(w @ v.array, self.eps)

    def compute_weight(self, module: Module) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        sigma = (u @ (self.weight_matrix(weight) @ v))
        return weight / sigma

    def __call__(self, module: Module, args) -> None:
        if module.training:
            self.power_iteration(module)
        object.__setattr__(module, self.name, self.compute_weight(module))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None, generator: Generator | None = None) -> Module:
    """Apply spectral normalisation to ``module.<name>``, as ``torch.nn.utils.spectral_norm``.

    ``dim`` defaults to 1 for ``ConvTranspose2d`` (whose weight is ``(in, out, kh, kw)``), else 0.
    """
    if any(isinstance(h, SpectralNorm) and h.name == name for h in module._forward_pre_hooks.values()):
        raise RuntimeError(f"spectral_norm: {type(module).__name__}.{name} is already spectrally normalised")
    if name not in module._parameters:
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if dim is None:
        from minigan.nn.conv import ConvTranspose2d

        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    hook = SpectralNorm(name, n_power_iterations, dim, eps)
    weight = module._parameters[name]
    w = hook.weight_matrix(weight).array
    del module._parameters[name]
    module.register_parameter(name + "_orig", Parameter(weight.array, requires_grad=weight.requires_grad))
    u = _normalize(randn(w.shape[0], dtype=w.dtype, generator=generator).array, eps)
    v = _normalize(randn(w.shape[1], dtype=w.dtype, generator=generator).array, eps)
    module.register_buffer(name + "_u", Tensor(u))
    module.register_buffer(name + "_v", Tensor(v))
    object.__setattr__(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Fold the normalised weight back into an ordinary parameter."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            weight = hook.compute_weight(module).detach()
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_orig"]
            del module._buffers[name + "_u"], module._buffers[name + "_v"]
            object.__delattr__(module, name)
            module.register_parameter(name, Parameter(weight.array))
            return module
    raise ValueError(f"spectral_norm of {name!r} not found in {type(module).__name__}")
