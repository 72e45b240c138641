"""Tools to test gradients, for minigan's ops and for your own.

:func:`gradcheck` and :func:`gradgradcheck` compare reverse-mode derivatives
with finite differences under a random upstream gradient;
:mod:`minigan.testing.strategies` draws the shapes, well-conditioned arrays
(kept away from kinks) and convolution geometries to run them on.
"""

from minigan.testing import strategies
from minigan.testing.gradcheck import GradcheckError, NonDifferentiableError, gradcheck, gradgradcheck
from minigan.testing.modules import functional_call

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "NonDifferentiableError", "functional_call", "strategies"]
