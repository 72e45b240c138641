r"""GAN losses with hand-derived gradients, penalties and auxiliary objectives.

``get(name, **hyperparameters)`` returns a loss object with
``d_loss(real_out, fake_out)`` and ``g_loss(fake_out, real_out=None)``;
``available()`` lists the names. The math and the derivation of every
gradient are in ``docs/losses.md``::

    import minigan.losses as L
    loss = L.get("hinge")
    loss.d_loss(D(real), D(fake)).backward()
"""

from minigan.losses import adversarial, auxiliary, categorical, fgan, penalties, variational
from minigan.losses.adversarial import *  # noqa: F403
from minigan.losses.auxiliary import *  # noqa: F403
from minigan.losses.categorical import *  # noqa: F403
from minigan.losses.fgan import *  # noqa: F403
from minigan.losses.penalties import *  # noqa: F403
from minigan.losses.registry import LOSSES, AdversarialLoss, available, get, register
from minigan.losses.variational import *  # noqa: F403

__all__ = [
    "get", "available", "register", "AdversarialLoss", "LOSSES",
    *adversarial.__all__, *fgan.__all__, *penalties.__all__, *auxiliary.__all__,
    *variational.__all__, *categorical.__all__,
]
