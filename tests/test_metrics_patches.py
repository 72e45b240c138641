"""The PatchGAN classifier and two-sample test: they tell different textures apart, stay at chance on one
distribution, read conditions beside the images, repeat themselves for a seed and refuse bad input."""

import numpy as np
import pytest

from minigan.metrics.patches import patch_two_sample_test, train_patch_classifier

FAST = {"steps": 200, "width": 8}


def textures(n: int, rough: bool, seed: int) -> np.ndarray:
    """Smooth images (one colour each) or rough ones (per-pixel noise) with the same per-pixel spread."""
    rng = np.random.default_rng(seed)
    if rough:
        return rng.uniform(-0.5, 0.5, (n, 3, 8, 8))
    return np.broadcast_to(rng.uniform(-0.5, 0.5, (n, 3, 1, 1)), (n, 3, 8, 8)).copy()


def test_the_classifier_puts_unseen_images_with_their_own_texture():
    score = train_patch_classifier(textures(200, False, 0), textures(200, True, 1), **FAST)
    assert (score(textures(100, True, 2)) > 0).mean() > 0.95
    assert (score(textures(100, False, 3)) <= 0).mean() > 0.95
    assert score(textures(3, True, 4)).shape == (3,)


def test_the_two_sample_test_sees_a_difference_and_stays_near_chance_without_one():
    different = patch_two_sample_test(textures(200, True, 0), textures(200, False, 1), **FAST)
    assert different["accuracy"] > 0.95 and different["p_value"] < 1e-20
    assert different["n_test"] == 100 and different["n_train"] == 100
    same = patch_two_sample_test(textures(200, True, 2), textures(200, True, 3), **FAST)
    assert 0.35 < same["accuracy"] < 0.65 and same["p_value"] > 1e-3


def test_conditions_let_the_test_see_outputs_that_do_not_fit_their_inputs():
    """Outputs from the right distribution but paired with the wrong inputs: only a test reading the pairs sees it."""
    rng = np.random.default_rng(0)
    inputs = textures(300, False, 5)
    real = inputs + 0.01 * rng.standard_normal(inputs.shape)
    fake = real[rng.permutation(300)]  # the same images, each beside another input
    alone = patch_two_sample_test(real, fake, **FAST)
    paired = patch_two_sample_test(real, fake, conditions=inputs, **FAST)
    assert alone["accuracy"] < 0.65 < 0.9 < paired["accuracy"]


def test_the_same_seed_gives_the_same_verdict():
    real, fake = textures(60, True, 0), textures(60, True, 1) * 0.8
    assert patch_two_sample_test(real, fake, seed=3, **FAST) == patch_two_sample_test(real, fake, seed=3, **FAST)


@pytest.mark.parametrize("call,message", [
    (lambda: train_patch_classifier(np.zeros((4, 3, 8)), np.zeros((4, 3, 8, 8))), r"negative must be images"),
    (lambda: train_patch_classifier(np.zeros((4, 3, 8, 8)), np.zeros((4, 1, 8, 8))), "image shapes differ"),
    (lambda: train_patch_classifier(np.full((4, 3, 8, 8), np.nan), np.zeros((4, 3, 8, 8))), "NaN or infinity"),
    (lambda: patch_two_sample_test(np.zeros((4, 3, 8, 8)), np.zeros((4, 3, 8, 8)), conditions=np.zeros((3, 1, 8, 8))),
     "3 conditions for 4 real and 4 fake images"),
    (lambda: patch_two_sample_test(np.zeros((1, 3, 8, 8)), np.zeros((1, 3, 8, 8))), "leave no training or test set"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
