"""BEGAN: the objectives against the paper's equation, k_t moved once per D step after its update (and never by
evaluating an objective), k_t kept by a resumed run, the picture with its convergence curve."""

import json

import numpy as np
import pytest
from test_games import tiny_game as tiny_family_game

import minigan as mg
from minigan import viz
from minigan.games import GAMES
from minigan.runner import run_training
from minigan.train import config as cfg
from minigan.train.checkpoint import CHECKPOINT, load_checkpoint
from minigan.train.trainer import Trainer

TINY = ["model.g_width=2", "model.d_width=2", "model.latent_dim=2", "model.g_hidden=[8]", "model.d_hidden=[8]",
        "data.batch_size=4", "game.code_dim=3", "model.dcgan_init=false"]
RUN = ["model.g_hidden=[16]", "model.d_hidden=[16]", "train.n_samples=20", "train.log_every=1",
       "train.sample_every=2", "train.checkpoint_every=2", "loss.k=0.5", "loss.lambda_k=0.1"]


def tiny(*extra: str) -> dict:
    return cfg.apply_overrides(cfg.load_recipe("began-digits"), [*TINY, *extra])


def tiny_game(*extra: str):
    return tiny_family_game("began-digits", *TINY, *extra, model="dcgan")[0]


def batch_of(game, n: int = 3):
    return type(game.data.loader.next_batch())(mg.tensor(game.data.samples[:n].astype(np.float64)), None)


def test_began_is_registered_with_its_options_and_draws_its_convergence_curve():
    assert GAMES.options("began") == {"code_dim": 32, "energy": "l1"}
    assert GAMES.get("began").curves == ("m_global", "k")


def test_began_objectives_are_the_papers_equation_and_evaluating_them_leaves_k_alone():
    game = tiny_game("loss.k=0.25")
    batch, seed = batch_of(game), 6
    mg.manual_seed(seed)
    d_objective = game.d_objective(batch)
    mg.manual_seed(seed)
    with mg.no_grad():
        fake = game.G(game.z(3))
        real_loss, fake_loss = game.D(batch.x).numpy(), game.D(fake).numpy()
        reconstructed = game.D.reconstruct(batch.x).numpy()
        g_value = game.g_objective(batch).loss.item()
    np.testing.assert_allclose(real_loss, np.abs(reconstructed - batch.x.numpy()).reshape(3, -1).mean(1), rtol=1e-12)
    assert d_objective.loss.item() == pytest.approx(real_loss.mean() - 0.25 * fake_loss.mean(), rel=1e-12)
    mg.manual_seed(seed + 1)
    assert g_value != pytest.approx(game.g_objective(batch).loss.item())  # G's own draw: z_G, not z_D
    assert game.loss.k == 0.25  # evaluated twice, moved by neither


def test_after_d_steps_update_k_moves_once_by_the_proportional_control_law():
    game = tiny_game("loss.k=0.25", "loss.lambda_k=0.1", "loss.gamma=0.5")
    objective = game.d_objective(batch_of(game))
    real, fake = objective.logs["d_real"].numpy().mean(), objective.logs["d_fake"].numpy().mean()
    logged = objective.after_step()
    k = min(max(0.25 + 0.1 * (0.5 * real - fake), 0.0), 1.0)
    assert game.loss.k == pytest.approx(k, rel=1e-12) and logged["k"] == game.loss.k
    assert logged["m_global"] == pytest.approx(real + abs(0.5 * real - fake), rel=1e-12)


@pytest.mark.parametrize("d_steps", [1, 2])
def test_the_trainer_moves_k_after_each_d_step_and_logs_it(d_steps, monkeypatch):
    trainer = Trainer(tiny("loss.k=0.5", "loss.lambda_k=0.1", f"optim.d_steps={d_steps}"))
    moves = []
    balance = trainer.game.balance

    def recorded(real, fake):
        moves.append(trainer.critic_steps)  # the D step has been counted: its update is done
        return balance(real, fake)

    monkeypatch.setattr(trainer.game, "balance", recorded)
    stats = trainer.train_step()
    assert moves == list(range(1, d_steps + 1))
    assert trainer.game.loss.k != 0.5 and {"k", "m_global"} <= set(stats)
    if d_steps == 1:
        assert stats["k"] == trainer.game.loss.k


def test_resume_keeps_k_and_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    whole, part = tmp_path / "whole", tmp_path / "part"
    run_training(cfg.apply_overrides(tiny(*RUN), ["train.steps=5"]), whole, progress=False)
    run_training(cfg.apply_overrides(tiny(*RUN), ["train.steps=2"]), part, progress=False)
    run_training(None, part, resume=True, progress=False, steps=5)
    a, b = load_checkpoint(whole / CHECKPOINT), load_checkpoint(part / CHECKPOINT)
    assert a["loss"] == b["loss"] and a["loss"]["k"] != 0.5
    for name in a["networks"]:
        for key, value in a["networks"][name].items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(b["networks"][name][key]))
    assert (whole / "metrics.jsonl").read_text().count("\n") == (part / "metrics.jsonl").read_text().count("\n")


def test_a_short_run_logs_k_and_m_global_and_draws_them_beside_the_samples(tmp_path):
    paths = run_training(cfg.apply_overrides(tiny(*RUN), ["train.steps=4"]), tmp_path, progress=False)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines() if line]
    assert all(0 <= r["k"] <= 1 and r["m_global"] > 0 for r in records)
    assert records[-1]["k"] == load_checkpoint(paths["checkpoint"])["loss"]["k"]
    from PIL import Image

    with Image.open(paths["samples"]) as picture, Image.open(tmp_path / "samples" / "step_000002.png") as early:
        assert picture.size == early.size and picture.width > picture.height  # the grid, then the curves
    assert paths["losses"].stat().st_size > 0


def test_the_picture_of_samples_and_curves_draws_before_anything_is_logged_and_needs_a_curve(tmp_path):
    images = np.zeros((4, 1, 8, 8))
    path = viz.plot_samples_with_curves(images, tmp_path / "a.png", [], ("m_global", "k"), title="step 0")
    assert path.stat().st_size > 0
    with pytest.raises(ValueError, match="no curve to draw"):
        viz.plot_samples_with_curves(images, tmp_path / "b.png", [], ())
