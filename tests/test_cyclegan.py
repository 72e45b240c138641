"""The CycleGAN game: its objectives against the paper's equations, who updates what, the penalty's joint critic,
translating both ways, the picture, the held-out scores, the configuration's checks and a short run."""

import numpy as np
import pytest
from test_games import real_batch, tiny_game, whole_and_resumed

import minigan as mg
from minigan.games import CycleGAN
from minigan.losses import r1_penalty
from minigan.registry import ConfigError
from minigan.train import config as cfg
from minigan.train.setup import build_data, build_game


def tiny_cyclegan(*extra: str):
    return tiny_game("cyclegan-photos", *extra)[0]


def configured(*overrides: str) -> dict:
    return cfg.apply_overrides(cfg.load_recipe("cyclegan-photos"), list(overrides))


# -- the objectives ------------------------------------------------------------------------------------------

def test_the_objectives_are_the_papers_equations():
    """L_D = (1/2)[l_D(D_B(b), D_B(G(a))) + l_D(D_A(a), D_A(F(b)))] and L_G = l_G(D_B(G(a))) + l_G(D_A(F(b)))
    + lambda (|F(G(a)) - a| + |G(F(b)) - b|) + mu lambda (|G(b) - b| + |F(a) - a|), with lsgan's l, written out."""
    game = tiny_cyclegan("game.cycle_weight=7.0", "game.identity_weight=0.3")
    batch = real_batch(game, 3)
    a, b = batch.x, batch.x_b

    def run(net, v):
        return game.network(net)(v if isinstance(v, mg.Tensor) else mg.tensor(v)).numpy()

    fake_b, fake_a = run("G", a), run("F", b)
    rb, fb, ra, fa = run("D_B", b), run("D_B", fake_b), run("D_A", a), run("D_A", fake_a)
    lsgan_d = 0.5 * (((rb - 1) ** 2).mean() + (fb ** 2).mean() + ((ra - 1) ** 2).mean() + (fa ** 2).mean())
    d = game.d_objective(batch)
    np.testing.assert_allclose(d.loss.item(), 0.5 * lsgan_d, rtol=1e-10)
    np.testing.assert_allclose(d.logs["d_real"].item(), 0.5 * (ra.mean() + rb.mean()), rtol=1e-10)
    np.testing.assert_allclose(d.logs["d_fake"].item(), 0.5 * (fa.mean() + fb.mean()), rtol=1e-10)

    cycle_a = np.abs(run("F", fake_b) - a.numpy()).mean()
    cycle_b = np.abs(run("G", fake_a) - b.numpy()).mean()
    identity = np.abs(run("G", b) - b.numpy()).mean() + np.abs(run("F", a) - a.numpy()).mean()
    adversarial = 0.5 * ((fb - 1) ** 2).mean() + 0.5 * ((fa - 1) ** 2).mean()
    g = game.g_objective(batch)
    np.testing.assert_allclose(g.logs["cycle_a"].item(), cycle_a, rtol=1e-10)
    np.testing.assert_allclose(g.logs["cycle_b"].item(), cycle_b, rtol=1e-10)
    np.testing.assert_allclose(g.logs["identity"].item(), identity, rtol=1e-10)
    np.testing.assert_allclose(g.loss.item(), adversarial + 7.0 * (cycle_a + cycle_b) + 0.3 * 7.0 * identity,
                               rtol=1e-10)


def test_the_identity_term_is_left_out_when_the_domains_differ_in_shape_or_its_weight_is_zero():
    grey = tiny_cyclegan("data.task=colour")
    assert not grey.has_identity and "identity" not in grey.g_objective(real_batch(grey)).logs
    assert (grey.G.in_channels, grey.G.out_channels, grey.F.in_channels, grey.F.out_channels) == (1, 3, 3, 1)
    off = tiny_cyclegan("game.identity_weight=0")
    assert not off.has_identity and "identity" not in off.g_objective(real_batch(off)).logs


def test_each_player_updates_both_of_its_networks_and_its_gradient_reaches_them():
    game = tiny_cyclegan()
    critic, generator = game.players
    assert (critic.name, critic.updates, critic.critic) == ("D", ("D_A", "D_B"), True)
    assert (generator.name, generator.updates, generator.critic) == ("G", ("G", "F"), False)
    assert game.generators == ("G", "F")
    batch = real_batch(game)
    for player in game.players:
        for net in game.networks:
            game.network(net).zero_grad()
        getattr(game, f"{player.name.lower()}_objective")(batch).loss.backward()
        for net in player.updates:
            assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0
                       for p in game.network(net).parameters()), (player.name, net)


def test_the_networks_fit_the_task_and_the_patchgans_see_16_pixel_patches():
    config = configured()
    game = build_game(config, build_data(config))
    assert all(isinstance(game.network(n), type(game.G)) for n in ("G", "F"))
    assert game.G.blocks == 3 and game.G.width == 16
    assert game.D_A.in_channels == game.D_B.in_channels == 3 and game.D_B.receptive_field == 16
    assert game.D_B(mg.zeros(2, 3, 32, 32)).shape == (2, 1, 14, 14)
    assert game.has_identity and game.critic() is None


def test_a_gradient_penalty_sees_both_discriminators_as_one_critic_of_joined_images():
    game = tiny_cyclegan("penalty.name=r1")
    batch = real_batch(game, 2)
    objective = game.d_objective(batch)
    assert objective.real.shape == (2, 6, 8, 8) and objective.fake.shape == (2, 6, 8, 8)
    np.testing.assert_array_equal(objective.real.numpy()[:, 3:], batch.x_b.numpy())
    np.testing.assert_allclose(objective.fake.numpy()[:, :3], game.F(batch.x_b).numpy(), rtol=1e-12)
    patches = game.D_A(batch.x).shape[2] * game.D_A(batch.x).shape[3]
    assert objective.critic(objective.real).shape == (2, 2 * patches)
    joint = r1_penalty(objective.critic, objective.real).item()
    apart = r1_penalty(game.D_A, batch.x).item() + r1_penalty(game.D_B, batch.x_b).item()
    np.testing.assert_allclose(joint, apart, rtol=1e-10)


# -- translating and the picture ------------------------------------------------------------------------------

def test_translate_maps_a_to_b_and_translate_back_b_to_a_in_eval_mode():
    game = tiny_cyclegan("data.task=colour")
    a, b = game.data.held_out[0][:5], game.data.held_out[1][:4]
    forward, back = game.translate(a), game.translate_back(b)
    assert forward.shape == (5, 3, 8, 8) and back.shape == (4, 1, 8, 8)
    np.testing.assert_array_equal(game.translate_back(b), back)  # instance norm only: no batch statistics
    np.testing.assert_array_equal(game.sample(5, x=a), forward)
    assert game.G.training and game.F.training  # their mode is restored
    shapes = r"\(N, 3, 8, 8\), got \(4, 1, 8, 8\)"
    with pytest.raises(ValueError, match=r"translate_back\(\) takes samples of shape " + shapes):
        game.translate_back(np.zeros((4, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"translate\(\) takes samples of shape \(N, 1, 8, 8\)"):
        game.translate(np.zeros((4, 3, 8, 8)))


def test_the_picture_shows_each_held_out_crop_its_translation_and_its_round_trip():
    game = tiny_cyclegan()
    grid, columns = game.sample_grid(36, mg.Generator(4))
    assert columns == 6 and grid.shape == (36, 3, 8, 8)
    a, b = game.inputs(6, mg.Generator(4))
    rows = grid.reshape(6, 6, 3, 8, 8)
    np.testing.assert_array_equal(rows[0], a)
    np.testing.assert_allclose(rows[1], game.translate(a), atol=1e-12)
    np.testing.assert_allclose(rows[2], game.translate_back(game.translate(a)), atol=1e-12)
    np.testing.assert_array_equal(rows[3], b)
    np.testing.assert_allclose(rows[4], game.translate_back(b), atol=1e-12)
    np.testing.assert_allclose(rows[5], game.translate(game.translate_back(b)), atol=1e-12)
    held_a, held_b = game.data.held_out
    assert all((held_a == image).all(axis=(1, 2, 3)).any() for image in a)  # every crop is held out
    assert all((held_b == image).all(axis=(1, 2, 3)).any() for image in b)


def test_held_out_scores_measure_the_round_trip_and_the_domain_of_each_translation():
    game = tiny_cyclegan()
    scores = game.held_out_scores()
    a, b = game.data.held_out
    assert (scores["n_a"], scores["n_b"], scores["n"]) == (len(a), len(b), len(a) + len(b))
    back_a = game.translate_back(game.translate(a))
    assert scores["cycle_mae_a"] == pytest.approx(np.abs(back_a - a).mean(), rel=1e-6)
    assert scores["cycle_psnr_a"] == pytest.approx(10 * np.log10(4 / ((back_a - a) ** 2).mean(axis=(1, 2, 3))).mean())
    for key in ("a_to_b_labelled_b", "b_to_a_labelled_a", "real_a_labelled_b", "real_b_labelled_b"):
        assert 0 <= scores[key] <= 1, key
    assert scores["real_b_labelled_b"] > scores["real_a_labelled_b"]  # the classifier tells the photographs apart
    grey = tiny_cyclegan("data.task=colour").held_out_scores()
    assert "cycle_mae_b" in grey and "a_to_b_labelled_b" not in grey  # no domain test across shapes


# -- configuration ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides,message", [
    (["data.task="], "game 'cyclegan' learns from unpaired images: set data.name = 'photos' and data.task"),
    (["data.image_size=10"], "side is a multiple of 4, at least 8 .* got 10"),
    (["game.norm=layer"], "game.norm must be one of 'batch', 'instance', 'none'"),
    (["game.blocks=-1"], "game.blocks"),
])
def test_settings_that_do_not_fit_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        config = configured(*overrides)
        build_game(config, build_data(config))


def test_it_plays_any_task_of_the_photos():
    for task in ("colour", "superres"):
        game = tiny_cyclegan(f"data.task={task}")
        assert isinstance(game, CycleGAN) and game.data.task == task


# -- a short run -------------------------------------------------------------------------------------------------

def test_a_short_run_translates_held_out_crops_and_resumes_bit_identically(tmp_path):
    config = configured("data.batch_size=2", "data.image_size=16", "model.g_width=2", "model.d_width=2",
                        "game.blocks=1", "optim.ema=0.5", "train.steps=4", "train.sample_every=2",
                        "train.checkpoint_every=2", "train.log_every=1")
    whole, records = whole_and_resumed(config, tmp_path)
    assert isinstance(whole, CycleGAN) and set(whole.averaged) == {"G", "F"}
    assert (tmp_path / "whole" / "samples.png").is_file()
    assert len(records) == 4 and all(f'"{key}"' in records[-1] for key in ("cycle_a", "cycle_b", "identity",
                                                                            "d_real", "d_fake"))
