"""PyTorch-style utilities: ``minigan.utils.data`` as ``torch.utils.data``, and torchvision's image helpers.

::

    from minigan.utils.data import DataLoader, TensorDataset, Dataset   # from torch.utils.data import ...
    from minigan.utils import make_grid, save_image                     # from torchvision.utils import ...
"""

from minigan.utils import data
from minigan.utils.image import make_grid, save_image

__all__ = ["data", "make_grid", "save_image"]
