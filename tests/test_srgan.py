"""The SRGAN game: its objectives against the paper's equations, the frozen feature network (not trained, not
checkpointed, its gradient reaching G), the configuration's checks, the held-out scores with sharpness, and a
short run that resumes bit-identically."""

import numpy as np
import pytest
from test_games import real_batch, tiny_game, whole_and_resumed

import minigan as mg
from minigan.data import photo_pairs
from minigan.games import SRGAN
from minigan.metrics import load_photo_features, sharpness
from minigan.registry import ConfigError
from minigan.train import config as cfg
from minigan.train.setup import build_data, build_game
from minigan.train.trainer import Trainer


def tiny_srgan(*extra: str):
    return tiny_game("srgan-photos", *extra)[0]


def configured(*overrides: str) -> dict:
    return cfg.apply_overrides(cfg.load_recipe("srgan-photos"), list(overrides))


def softplus(t):
    return np.logaddexp(0.0, t)


# -- the objectives ------------------------------------------------------------------------------------------

def test_the_objectives_are_the_papers_equations():
    """L_D = l_D(D(y), D(G(x))); L_G = content + lambda_p MSE + lambda_a l_G(D(G(x))), the content loss the mean over
    both maps of the mean squared difference of the feature network's maps, all written out in NumPy."""
    game = tiny_srgan("game.content_weight=0.7", "game.pixel_weight=0.3", "game.adversarial_weight=0.01")
    batch = real_batch(game, 3)
    y = batch.x_b.numpy()
    d = game.d_objective(batch).loss.item()
    fake = game.G(batch.x).numpy()  # no noise in G: the same output as inside the objective
    real_out, fake_out = game.D(batch.x_b).numpy(), game.D(mg.tensor(fake)).numpy()
    np.testing.assert_allclose(d, softplus(-real_out).mean() + softplus(fake_out).mean(), rtol=1e-10)

    objective = game.g_objective(batch)
    features = load_photo_features().double()
    ours, theirs = features.features(fake), features.features(y)
    content = np.mean([np.mean((a - b) ** 2) for a, b in zip(ours, theirs)])
    pixel = np.mean((fake - y) ** 2)
    adversarial = softplus(-game.D(mg.tensor(fake)).numpy()).mean()
    np.testing.assert_allclose(objective.logs["content"].item(), content, rtol=1e-10)
    np.testing.assert_allclose(objective.logs["pixel_mse"].item(), pixel, rtol=1e-10)
    np.testing.assert_allclose(objective.loss.item(), 0.7 * content + 0.3 * pixel + 0.01 * adversarial, rtol=1e-10)


def test_the_recipe_has_the_papers_adversarial_weight_and_d_judges_single_images():
    config = configured()
    assert config["game"]["adversarial_weight"] == 1e-3 and config["loss"]["name"] == "nonsaturating"
    game = build_game(config, build_data(config))
    assert isinstance(game, SRGAN) and game.networks == ("G", "D")
    assert game.D(mg.zeros(2, 3, 32, 32)).shape == (2, 1)
    objective = game.d_objective(game.data.loader.next_batch())
    assert objective.critic is game.D and objective.real.shape == (16, 3, 32, 32)  # gradient penalties: targets alone


# -- the feature network: frozen, outside the game's networks, its gradient reaching G ------------------------

def test_the_feature_network_is_frozen_in_eval_mode_and_is_not_a_network_of_the_game():
    game = tiny_srgan()
    assert not game.features.training and all(not p.requires_grad for p in game.features.parameters())
    assert "features" not in game.networks and all(game.network(n) is not game.features for n in game.networks)
    trainer = Trainer(configured("data.image_size=8", "model.g_width=2", "model.d_width=2", "game.blocks=1",
                                 "data.batch_size=4"))
    shipped = {k: v.numpy().copy() for k, v in trainer.game.features.state_dict().items()}
    for _ in range(3):
        trainer.train_step()
    for key, value in trainer.game.features.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), shipped[key], err_msg=key)  # never updated
    assert set(trainer.state_dict()["networks"]) == {"G", "D"}  # never checkpointed
    assert not any(p.requires_grad for p in trainer.game.features.parameters())


def test_the_content_loss_sends_its_gradient_through_the_frozen_network_to_g():
    game = tiny_srgan("game.pixel_weight=0", "game.adversarial_weight=0", "model.dcgan_init=false")
    game.g_objective(real_batch(game, 3)).loss.backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in game.G.parameters())
    assert all(p.grad is None for p in game.features.parameters())


def test_the_feature_network_follows_the_images_dtype():
    game = tiny_srgan()  # tiny_game's networks are float64
    game.g_objective(real_batch(game, 2))
    assert game.features.feature_scales.dtype == np.float64
    assert load_photo_features().feature_scales.dtype == np.float32  # the shipped copy is untouched


# -- configuration -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides,message", [
    (["data.task=colour"], "game 'srgan' learns super-resolution: set data.task = 'superres'"),
    (["data.task=domains"], "game 'srgan' learns from paired images"),
    (["data.image_size=14"], "multiple of 4"),
    (["game.blocks=0"], "game.blocks"),
    (["game.adversarial_weight=-1"], "game.adversarial_weight"),
])
def test_a_task_or_option_that_does_not_fit_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        config = configured(*overrides)
        build_game(config, build_data(config))


# -- held-out scores ---------------------------------------------------------------------------------------------

def test_held_out_scores_add_the_sharpness_of_outputs_targets_and_bilinear_inputs():
    game = tiny_srgan()
    scores = game.held_out_scores()
    inputs, targets = photo_pairs("superres", "test", 8)
    assert scores["n"] == len(inputs)
    assert scores["psnr_gain"] == pytest.approx(scores["psnr"] - scores["baseline_psnr"])
    assert scores["target_sharpness"] == pytest.approx(sharpness(targets)["sharpness"])
    assert scores["baseline_sharpness"] == pytest.approx(sharpness(inputs)["sharpness"])
    assert scores["sharpness"] == pytest.approx(sharpness(game.translate(inputs))["sharpness"])
    assert 0 <= scores["patch_c2st"] <= 1


def test_an_untrained_g_whose_last_layer_adds_nothing_scores_the_bilinear_baseline():
    game = tiny_srgan()
    for p in game.G.output.parameters():
        p.numpy()[...] = 0
    scores = game.held_out_scores()
    assert scores["psnr_gain"] == pytest.approx(0, abs=1e-6)
    assert scores["sharpness"] == pytest.approx(scores["baseline_sharpness"], rel=1e-6)


# -- a short run -----------------------------------------------------------------------------------------------

def test_a_short_run_logs_the_content_loss_and_resumes_bit_identically(tmp_path):
    config = configured("data.batch_size=4", "data.image_size=8", "model.g_width=4", "model.d_width=4",
                        "game.blocks=1", "train.steps=4", "train.sample_every=2", "train.checkpoint_every=2",
                        "train.log_every=1", "train.n_samples=9")
    whole, records = whole_and_resumed(config, tmp_path)
    assert isinstance(whole, SRGAN) and (tmp_path / "whole" / "samples.png").is_file()
    assert not whole.features.training and not any(p.requires_grad for p in whole.features.parameters())
    assert len(records) == 4 and '"content"' in records[-1] and '"pixel_mse"' in records[-1]
