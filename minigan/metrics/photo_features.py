r"""The bundled feature network for the photos: a small convolutional network whose feature maps play VGG's part.

SRGAN's content loss compares a super-resolved image with its target in the
feature maps :math:`\phi_{i,j}` of a VGG network trained on ImageNet. No such
network can be downloaded here, so minigan ships its own, trained with
minigan itself on the *training* crops of the two bundled photographs
(:func:`minigan.data.photos`, ``"train"``, 32x32: the held-out columns are
never seen) by :mod:`minigan.metrics.train_photo_features` (deterministic,
about a minute on a CPU). Its task is self-supervised: each crop is turned
by a quarter-turn :math:`k \in \{0, 1, 2, 3\}` and the network says which
:math:`k` (Gidaris et al. 2018), and which of the two photographs the crop
came from. Telling which way is up needs the edges, textures and shading
that make a photograph look like one, which is what a content loss should
compare::

    conv 3x3, 3->16, ReLU            (N, 16, 32, 32)
    conv 3x3 stride 2, 16->32, ReLU  (N, 32, 16, 16)
    conv 3x3, 32->32, ReLU           (N, 32, 16, 16)  <- phi_1, divided by feature_scales[0]
    conv 3x3 stride 2, 32->64, ReLU  (N, 64,  8,  8)  <- phi_2, divided by feature_scales[1]
    conv 3x3 stride 2, 64->64, ReLU  (N, 64,  4,  4)
    flatten, linear 1024->6          (N, 6)           <- logits: 4 quarter-turns, then 2 photographs

:math:`\phi_1` and :math:`\phi_2` are taken after the ReLU, as VGG's
:math:`\phi_{i,j}` are. ``feature_scales`` are the root-mean-square values
of each map over the train crops, fixed at training time, so that both maps
are of order one and weigh alike in a loss (SRGAN rescales its VGG maps by
1/12.75 to the same end). The convolutions read any image whose sides are
multiples of 4; only the logits need 32x32.

References
----------
Gidaris, Singh, Komodakis. Unsupervised Representation Learning by
Predicting Image Rotations. ICLR 2018.
Ledig et al. Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network. CVPR 2017 (Section 2.2.1).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

import minigan as mg
from minigan import nn
from minigan.metrics.features import load_weights

__all__ = ["PhotoFeatures", "load_photo_features", "PHOTO_WEIGHTS_PATH", "PHOTO_WEIGHTS_FORMAT", "TURNS", "SOURCES",
           "FEATURE_CHANNELS"]

PHOTO_WEIGHTS_PATH = Path(__file__).with_name("photo_features.safetensors")
PHOTO_WEIGHTS_FORMAT = "minigan-photo-features"
TURNS = 4          # quarter-turns 0, 90, 180 and 270 degrees: logits 0..3
SOURCES = 2        # china.jpg and flower.jpg: logits 4 and 5
FEATURE_CHANNELS = (32, 64)  # channels of phi_1 and phi_2


class PhotoFeatures(nn.Module):
    """RGB images ``(N, 3, 32, 32)`` in [-1, 1] -> logits ``(N, 6)``; :meth:`feature_maps` for a content loss."""

    def __init__(self):
        super().__init__()
        c1, c2 = FEATURE_CHANNELS
        self.block1 = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.ReLU(),
                                    nn.Conv2d(16, c1, 3, 2, 1), nn.ReLU(),
                                    nn.Conv2d(c1, c1, 3, 1, 1), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(c1, c2, 3, 2, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(c2, c2, 3, 2, 1), nn.ReLU(), nn.Flatten(),
                                  nn.Linear(c2 * 4 * 4, TURNS + SOURCES))
        self.register_buffer("feature_scales", mg.ones(2))

    def forward(self, x):
        return self.head(self.block2(self.block1(x)))

    def feature_maps(self, x) -> list:
        r""":math:`[\phi_1(x) / s_1,\ \phi_2(x) / s_2]`, Tensors ``(N, 32, H/2, W/2)`` and ``(N, 64, H/4, W/4)``.

        Differentiable in ``x``: a loss on them sends its gradient back to
        whatever made ``x``. ``x`` is ``(N, 3, H, W)``, ``H`` and ``W``
        multiples of 4, in the network's dtype.
        """
        _check_images(x.shape, "feature_maps")
        h1 = self.block1(x)
        h2 = self.block2(h1)
        s = self.feature_scales
        return [h1 / s[0], h2 / s[1]]

    def features(self, images, batch_size: int = 500) -> list[np.ndarray]:
        """:meth:`feature_maps` of an array of images ``(N, 3, H, W)``, in eval mode with no graph, as float64."""
        array = images.numpy() if isinstance(images, mg.Tensor) else np.asarray(images)
        _check_images(array.shape, "features")
        array = array.astype(self.feature_scales.dtype, copy=False)
        mode = self.training
        self.eval()
        try:
            with mg.no_grad():
                chunks = [[m.numpy() for m in self.feature_maps(mg.tensor(array[i:i + batch_size]))]
                          for i in range(0, len(array), batch_size)]
        finally:
            self.train(mode)
        return [np.concatenate(maps).astype(np.float64) for maps in zip(*chunks)]


def _check_images(shape, what: str) -> None:
    shape = tuple(shape)
    if len(shape) != 4 or shape[1] != 3 or shape[2] % 4 or shape[3] % 4 or shape[2] < 4 or shape[3] < 4:
        raise ValueError(f"PhotoFeatures.{what}: expected RGB images (N, 3, H, W) with H and W multiples of 4, "
                         f"got shape {shape}")


@functools.lru_cache(maxsize=4)
def _shipped(path: Path) -> PhotoFeatures:
    return load_weights(PhotoFeatures(), path, PHOTO_WEIGHTS_FORMAT).eval().requires_grad_(False)


def load_photo_features(path=None) -> PhotoFeatures:
    """The shipped photo feature network (or one saved at ``path``): a fresh copy each call, in eval mode, frozen.

    Its parameters do not require grad: a loss on its feature maps sends
    gradient to the images it reads and never to the network. The file is
    read once; every call returns its own copy, so a caller may move or cast
    it (``.double()``) without touching anyone else's.
    """
    path = Path(path) if path is not None else PHOTO_WEIGHTS_PATH
    if not path.exists():
        raise FileNotFoundError(f"photo feature network weights not found at {path}; "
                                "recreate them with `python -m minigan.metrics.train_photo_features`")
    shipped = _shipped(path)
    network = PhotoFeatures().eval().requires_grad_(False)
    network.load_state_dict(shipped.state_dict())
    return network
