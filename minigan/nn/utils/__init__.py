"""Utilities that act on modules: spectral normalisation and gradient clipping."""

from minigan.nn.utils.clip_grad import clip_grad_norm_
from minigan.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm

__all__ = ["spectral_norm", "remove_spectral_norm", "clip_grad_norm_"]
