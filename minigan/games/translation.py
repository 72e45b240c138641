r"""What the image-to-image families share: G translates the batch's images ``x`` into images like ``x_b``.

The data is an image-to-image task of the photos (``data.task``; see
:func:`minigan.data.task_data`): each batch holds images ``x`` of the input
kind and images ``x_b`` of the output kind, paired (the target of each
input) or drawn independently (another domain). There is no latent noise:
:meth:`ImageToImageGame.sample` translates images, by default held-out
inputs that no training batch contains.
"""

from __future__ import annotations

import numpy as np

import minigan as mg
from minigan.data import plain_baseline
from minigan.games.base import Game
from minigan.metrics import psnr, sharpness
from minigan.metrics.patches import patch_two_sample_test

__all__ = ["ImageToImageGame", "as_rgb"]


def as_rgb(images: np.ndarray) -> np.ndarray:
    """Images ``(N, C, H, W)`` with one channel replicated to three, so that grey and colour share a picture."""
    return np.repeat(images, 3, axis=1) if images.shape[1] == 1 else images


class ImageToImageGame(Game):
    """Base of the image-to-image families: ``sample`` and ``translate`` run G on images, not on noise."""

    pairs = "paired"
    picture = "held-out inputs, what the generator makes of them now, and their targets"
    single_samples = True  # D judges each image (or each pair) on its own: PacGAN packing does not apply

    @property
    def image_size(self) -> int:
        return self.data.shape[-1]

    def generator_inputs(self, n, generator=None, x=None):
        """The images G translates: ``x`` ``(n, *data.shape)``, or else ``n`` held-out inputs drawn at random by
        ``generator`` (training inputs when the data keeps none back)."""
        if x is None:
            return (mg.tensor(self.inputs(n, generator)[0]),)
        x = np.asarray(x, dtype=self.dtype)
        if x.shape != (n, *self.data.shape):
            raise ValueError(f"{self.name}: x must have shape ({n}, {', '.join(map(str, self.data.shape))}), "
                             f"got {x.shape}")
        return (mg.tensor(x),)

    def inputs(self, n: int, generator: mg.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` held-out ``(inputs, targets)`` drawn at random (with replacement) by ``generator``; the training
        ones when the data keeps none back. For an unpaired task, targets are the other domain's images."""
        a, b = self.data.held_out or (self.data.samples, self.data.samples_b)
        chosen_a = mg.randint(0, len(a), (n,), generator=generator).numpy()
        chosen_b = chosen_a if len(a) == len(b) else mg.randint(0, len(b), (n,), generator=generator).numpy()
        return a[chosen_a].astype(self.dtype), b[chosen_b].astype(self.dtype)

    def translate(self, x) -> np.ndarray:
        """G's sampling copy (its EMA average when the run keeps one) on images ``x`` ``(N, *data.shape)``, in eval
        mode: the images ``(N, *shape_b)`` it translates them into."""
        return self.on_samples(self.sampler("G"), x, "translate")

    def sample_grid(self, n, generator=None):
        """Groups of three rows from the held-out images: inputs, G's outputs beneath, then the targets."""
        def images(count):
            x, target = self.inputs(count, generator)
            return [as_rgb(x), as_rgb(self.translate(x)), as_rgb(target)]

        return self.grouped_rows(n, 3, images)

    def held_out_scores(self, seed: int = 0) -> dict:
        """How well G translates the held-out inputs of a paired task, against their targets.

        ``psnr``: the PSNR of G's outputs over the whole held-out region, from
        the MSE over every held-out pixel (as a super-resolution paper scores
        a whole test image); ``baseline_psnr``: that of the task's plain
        baseline (:func:`minigan.data.plain_baseline`: the grey input for
        colourisation, the bilinear input for super-resolution); ``psnr_gain``
        their difference in dB. ``image_psnr`` and ``image_baseline_psnr``
        are the mean per-crop PSNRs (:func:`minigan.metrics.psnr`), which
        reward the flat crops (sky, blurred background) where the baseline is
        already close. ``patch_c2st``: held-out accuracy of a fresh PatchGAN
        told to tell the (input, target) pairs from the (input, output) ones
        (:func:`minigan.metrics.patch_two_sample_test`; 0.5 is chance), and
        its ``patch_c2st_p_value``. ``sharpness``, ``baseline_sharpness`` and
        ``target_sharpness``: the :func:`~minigan.metrics.sharpness` of the
        outputs, of the baseline and of the targets.
        """
        x, target = self.data.held_out
        output, plain = self.translate(x), plain_baseline(self.data.task, x)
        ours, baseline = psnr(target, output), psnr(target, plain)
        c2st = patch_two_sample_test(target, output, conditions=x, seed=seed)
        return {"psnr": _region(ours), "baseline_psnr": _region(baseline),
                "psnr_gain": _region(ours) - _region(baseline), "image_psnr": ours["psnr"],
                "image_baseline_psnr": baseline["psnr"], "patch_c2st": c2st["accuracy"],
                "patch_c2st_p_value": c2st["p_value"], "sharpness": sharpness(output)["sharpness"],
                "baseline_sharpness": sharpness(plain)["sharpness"], "target_sharpness": sharpness(target)["sharpness"],
                "n": len(x)}

    def critic(self):
        return None  # D reads the input image beside the one it judges


def _region(result: dict, data_range: float = 2.0) -> float:
    """PSNR of the MSE over every value of every image of a :func:`~minigan.metrics.psnr` result (all of the same
    size)."""
    return float(10 * np.log10(data_range ** 2 / result["mse"]))
