"""Image-to-image data in training (paired and unpaired batches, the held-out pairs, the configuration's checks) and
the pix2pix game: its objectives against the paper's equations, translation, the picture, the held-out scores,
the command line and a short run."""

import numpy as np
import pytest
from test_games import real_batch, tiny_game, whole_and_resumed

import minigan as mg
from minigan.data import DataLoader, photo_domains, photo_pairs
from minigan.games import Pix2Pix
from minigan.metrics import psnr
from minigan.registry import ConfigError
from minigan.runner import load_game, run_training
from minigan.train import config as cfg
from minigan.train.setup import build_data, build_game


def tiny_pix2pix(*extra: str):
    return tiny_game("pix2pix-colour", *extra)[0]


def configured(*overrides: str) -> dict:
    return cfg.apply_overrides(cfg.load_recipe("pix2pix-colour"), list(overrides))


# -- paired and unpaired batches -------------------------------------------------------------------------------

def test_a_paired_loader_gives_each_sample_its_own_pair_and_resumes_the_same_batches():
    data, pairs = np.arange(12.0)[:, None], 10 * np.arange(12.0)[:, None]
    loader = DataLoader(data, batch_size=5, seed=3, pairs=pairs)
    batch = loader.next_batch()
    np.testing.assert_array_equal(batch.x_b.numpy(), 10 * batch.x.numpy())
    x, x_b = batch  # unpacks like a tuple of the fields it has
    assert x is batch.x and x_b is batch.x_b
    state = loader.state_dict()
    ahead = [loader.next_batch() for _ in range(4)]
    loader.load_state_dict(state)
    for expected in ahead:
        again = loader.next_batch()
        np.testing.assert_array_equal(again.x.numpy(), expected.x.numpy())
        np.testing.assert_array_equal(again.x_b.numpy(), expected.x_b.numpy())


def test_an_unpaired_loader_draws_the_other_domain_independently_without_replacement():
    data, other = np.arange(40.0)[:, None], 1000 + np.arange(7.0)[:, None]
    loader = DataLoader(data, batch_size=6, seed=0, pairs=other, paired=False)
    drawn = [loader.next_batch().x_b.numpy().ravel() for _ in range(20)]
    assert all(len(set(d)) == 6 and set(d) <= set(other.ravel()) for d in drawn)
    assert len({tuple(d) for d in drawn}) > 1  # a fresh draw for every batch
    with pytest.raises(ValueError, match="6 samples but 5 paired samples"):
        DataLoader(np.zeros((6, 1)), batch_size=2, pairs=np.zeros((5, 1)))
    with pytest.raises(ValueError, match="batch_size 6 does not fit 5 unpaired samples"):
        DataLoader(np.zeros((9, 1)), batch_size=6, pairs=np.zeros((5, 1)), paired=False)


@pytest.mark.parametrize("task,paired,channels", [("colour", True, 1), ("superres", True, 3), ("domains", False, 3)])
def test_the_configured_task_trains_on_its_training_images_and_keeps_the_test_ones_back(task, paired, channels):
    data = build_data(configured(f"data.task={task}"))
    assert data.task == task and data.paired == paired and data.kind == "image"
    assert data.shape == (channels, 32, 32) and data.shape_b == (3, 32, 32)
    if paired:
        inputs, targets = photo_pairs(task, "train")
        test = photo_pairs(task, "test")
    else:
        inputs, targets = photo_domains("train")
        test = photo_domains("test")
    np.testing.assert_array_equal(data.samples, inputs)
    np.testing.assert_array_equal(data.samples_b, targets)
    for held, expected in zip(data.held_out, test):
        np.testing.assert_array_equal(held, expected)


@pytest.mark.parametrize("overrides,message", [
    (["data.name=digits"], "data.task = 'colour' is a task on the photos; set data.name = 'photos'"),
    (["data.task=painting"], "data.task must be one of"),
    (["game.name=gan"], "game 'gan' reads no image-to-image task, but data.task = 'colour'"),
    (["data.task="], "game 'pix2pix' learns from paired images: set data.name = 'photos' and data.task"),
    (["data.task=domains"], "game 'pix2pix' learns from paired images"),
    (["data.task=superres", "data.image_size=31"], "data.image_size = 31: .*size must be even"),
    (["game.norm=layer"], "game.norm must be one of 'batch', 'instance', 'none'"),
    (["data.batch_size=2000"], "data.batch_size = 2000 is more than the 1450 training samples"),
])
def test_a_task_and_a_game_that_do_not_fit_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        config = configured(*overrides)
        build_game(config, build_data(config))


# -- the objectives ------------------------------------------------------------------------------------------

def test_the_objectives_are_the_papers_equations():
    """L_D = (1/2) l_D(D(x, y), D(x, G(x))) and L_G = l_G(D(x, G(x))) + lambda mean|y - G(x)|, written out."""
    game = tiny_pix2pix("game.l1_weight=7.0")
    batch = real_batch(game, 3)
    x, y = batch.x.numpy(), batch.x_b.numpy()

    def logits(v):
        return game.D(mg.tensor(v)).numpy()

    def softplus(t):
        return np.logaddexp(0.0, t)

    mg.manual_seed(5)
    d = game.d_objective(batch).loss.item()
    mg.manual_seed(5)
    fake = game.G(batch.x).numpy()  # the same dropout mask as inside the objective
    real_out, fake_out = logits(np.concatenate([x, y], 1)), logits(np.concatenate([x, fake], 1))
    np.testing.assert_allclose(d, 0.5 * (softplus(-real_out).mean() + softplus(fake_out).mean()), rtol=1e-10)

    mg.manual_seed(6)
    objective = game.g_objective(batch)
    mg.manual_seed(6)
    fake = game.G(batch.x).numpy()
    fake_out = logits(np.concatenate([x, fake], 1))
    l1 = np.abs(fake - y).mean()
    np.testing.assert_allclose(objective.logs["l1"].item(), l1, rtol=1e-10)
    np.testing.assert_allclose(objective.loss.item(), softplus(-fake_out).mean() + 7.0 * l1, rtol=1e-10)


def test_the_networks_fit_the_task_and_the_patchgan_sees_16_pixel_patches():
    game = build_game(configured(), build_data(configured()))
    assert (game.G.in_channels, game.G.out_channels, game.G.image_size) == (1, 3, 32)
    assert game.D.in_channels == 4 and game.D.receptive_field == 16
    assert game.D(mg.zeros(2, 4, 32, 32)).shape == (2, 1, 14, 14)
    assert game.critic() is None and game.players[0].critic


def test_a_gradient_penalty_judges_the_target_beside_its_input():
    game = tiny_pix2pix("penalty.name=r1")
    objective = game.d_objective(real_batch(game, 2))
    assert objective.real is not None and objective.real.shape[1] == 3  # the target, not the pair
    assert objective.critic(objective.real).shape[:2] == (2, 1)


# -- translating and the picture ------------------------------------------------------------------------------

def test_translate_and_sample_run_g_in_eval_mode_on_the_given_or_the_held_out_images():
    game = tiny_pix2pix()
    x = game.data.held_out[0][:5]
    out = game.translate(x)
    assert out.shape == (5, 3, 8, 8) and np.all(np.abs(out) <= 1)
    np.testing.assert_array_equal(game.translate(x), out)  # no dropout noise in eval mode
    np.testing.assert_array_equal(game.sample(5, x=x), out)
    np.testing.assert_array_equal(game.sample(4, mg.Generator(2)), game.sample(4, mg.Generator(2)))
    assert game.G.training  # its mode is restored
    with pytest.raises(ValueError, match=r"translate\(\) takes samples of shape \(N, 1, 8, 8\), got \(5, 3, 8, 8\)"):
        game.translate(np.zeros((5, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"x must have shape \(2, 1, 8, 8\)"):
        game.sample(2, x=np.zeros((3, 1, 8, 8)))


def test_the_picture_shows_held_out_inputs_outputs_and_targets_in_rows_of_three():
    game = tiny_pix2pix()
    grid, columns = game.sample_grid(36, mg.Generator(4))
    assert columns == 6 and grid.shape == (36, 3, 8, 8)
    inputs, targets = game.inputs(12, mg.Generator(4))
    rows = grid.reshape(2, 3, 6, 3, 8, 8)
    np.testing.assert_array_equal(rows[:, 0].reshape(12, 3, 8, 8), np.repeat(inputs, 3, axis=1))  # grey as RGB
    np.testing.assert_allclose(rows[:, 1].reshape(12, 3, 8, 8), game.translate(inputs), atol=1e-12)
    np.testing.assert_array_equal(rows[:, 2].reshape(12, 3, 8, 8), targets)
    held_inputs = game.data.held_out[0]
    assert all((held_inputs == image).all(axis=(1, 2, 3)).any() for image in inputs)  # every input is held out


def test_held_out_scores_compare_g_with_the_plain_baseline_on_every_test_pair():
    game = tiny_pix2pix()
    scores = game.held_out_scores()
    inputs, targets = game.data.held_out
    assert scores["n"] == len(inputs) == len(targets)
    assert scores["psnr_gain"] == pytest.approx(scores["psnr"] - scores["baseline_psnr"])
    assert 0 <= scores["patch_c2st"] <= 1 and 0 <= scores["patch_c2st_p_value"] <= 1
    assert scores["baseline_psnr"] < scores["image_baseline_psnr"]  # flat crops are easy: the mean rewards them
    assert scores["baseline_psnr"] == pytest.approx(psnr(targets.reshape(1, -1),
                                                                np.repeat(inputs, 3, axis=1).reshape(1, -1))["psnr"])


# -- a short run and the command line -------------------------------------------------------------------------

def test_a_short_run_translates_held_out_crops_and_resumes_bit_identically(tmp_path):
    config = configured("data.batch_size=4", "model.g_width=4", "model.d_width=4", "train.steps=4",
                        "train.sample_every=2", "train.checkpoint_every=2", "train.log_every=1")
    whole, records = whole_and_resumed(config, tmp_path)
    assert isinstance(whole, Pix2Pix) and (tmp_path / "whole" / "samples.png").is_file()
    assert len(records) == 4 and '"l1"' in records[-1] and '"d_real"' in records[-1]


def test_the_command_line_samples_translations_scores_them_and_refuses_interpolation(tmp_path, capsys):
    from minigan import cli

    config = configured("data.batch_size=4", "data.image_size=8", "model.g_width=4", "model.d_width=4", "train.steps=2")
    run_training(config, tmp_path, progress=False)
    checkpoint = str(tmp_path / "checkpoint.safetensors")
    assert cli.main(["sample", checkpoint, "-n", "6", "-o", str(tmp_path / "translated.npy")]) == 0
    game, _ = load_game(checkpoint)
    np.testing.assert_array_equal(np.load(tmp_path / "translated.npy"), game.sample(6, mg.Generator(0)))
    assert cli.main(["sample", checkpoint, "-n", "9", "-o", str(tmp_path / "triplets.png")]) == 0
    assert (tmp_path / "triplets.png").is_file()
    capsys.readouterr()
    assert cli.main(["eval", checkpoint, "-o", str(tmp_path / "eval.json")]) == 0
    shown = capsys.readouterr().out
    assert "pix2pix on the held-out colour images" in shown and "psnr_gain" in shown and "patch_c2st" in shown
    assert cli.main(["eval", checkpoint, "--metrics", "fd"]) == 2
    assert "is scored on their held-out images" in capsys.readouterr().err
    assert cli.main(["interpolate", checkpoint, "-o", str(tmp_path / "walk.png")]) == 2
    assert "pix2pix has none (it translates images)" in capsys.readouterr().err
