"""EBGAN and the autoencoder discriminator: the reconstruction energy (value, gradient, errors), the autoencoder
of both architectures, the EBGAN objectives against the paper's equation, the picture and a short run."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_games import tiny_game as tiny_family_game

import minigan as mg
from minigan.games import GAMES
from minigan.games.networks import autoencoder
from minigan.models import AutoencoderDiscriminator, DCGANGenerator, reconstruction_energy
from minigan.runner import run_training
from minigan.testing import gradcheck
from minigan.testing import strategies as mst
from minigan.train import config as cfg

checks = settings(max_examples=8, deadline=None)


def tiny_game(recipe: str = "ebgan-digits", *extra: str, model: str = "mlp"):
    return tiny_family_game(recipe, "game.code_dim=3", "model.dcgan_init=false", *extra, model=model)[0]


def digits(game, n: int = 4) -> mg.Tensor:
    return mg.tensor(game.data.samples[:n].astype(np.float64))


# -- the reconstruction energy ------------------------------------------------------------------------------

@st.composite
def reconstructions(draw):
    """A batch ``x`` and a reconstruction of it whose every error is at least 0.01 from 0 (the kink of |.|)."""
    shape = draw(mst.shapes(min_dims=2, max_dims=4, max_side=4))
    x = draw(mst.arrays(shape))
    return x + draw(mst.arrays(shape, avoid=(0.0,))), x


@checks
@given(pair=reconstructions(), energy=st.sampled_from(["mse", "l1"]))
def test_reconstruction_energy_is_the_per_sample_mean_error_and_has_its_gradient(pair, energy):
    r, x = pair
    error = (r - x) ** 2 if energy == "mse" else np.abs(r - x)
    value = reconstruction_energy(mg.tensor(r), mg.tensor(x), energy).numpy()
    np.testing.assert_allclose(value, error.reshape(len(x), -1).mean(axis=1), rtol=1e-12)
    gradcheck(lambda a, b: reconstruction_energy(a, b, energy),
              [mg.tensor(r, requires_grad=True), mg.tensor(x, requires_grad=True)])


def test_reconstruction_energy_names_a_bad_energy_or_shape():
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match="energy must be one of mse, l1, got 'l2'"):
        reconstruction_energy(x, x, "l2")
    with pytest.raises(ValueError, match=r"one shape \(N, \.\.\.\), got \(2, 4\) and \(2, 3\)"):
        reconstruction_energy(mg.zeros(2, 4), x)
    with pytest.raises(ValueError, match="energy must be one of"):
        AutoencoderDiscriminator(mg.nn.Identity(), mg.nn.Identity(), energy="l2")


# -- the autoencoder discriminator ---------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_the_autoencoder_encodes_rebuilds_and_outputs_one_energy_per_sample(model):
    game = tiny_game(model=model)
    D, x = game.D, digits(game)
    assert isinstance(D, AutoencoderDiscriminator) and D.energy == "mse"
    assert D.encode(x).shape == (4, 3) and D.reconstruct(x).shape == x.shape
    energy = D(x)
    assert energy.shape == (4,) and (energy.numpy() > 0).all()
    np.testing.assert_array_equal(energy.numpy(), D.energy_of(D.encode(x), x).numpy())
    np.testing.assert_allclose(energy.numpy(), ((D.reconstruct(x) - x) ** 2).numpy().reshape(4, -1).mean(1),
                               rtol=1e-12)


@settings(max_examples=3, deadline=None)
@given(model=st.sampled_from(["mlp", "dcgan"]), energy=st.sampled_from(["mse", "l1"]), n=st.integers(2, 4))
def test_the_autoencoders_energy_has_the_gradient_of_its_value_in_its_input(model, energy, n):
    game = tiny_game("ebgan-digits", f"game.energy={energy}", model=model)
    gradcheck(game.D, [mg.tensor(game.data.samples[:n].astype(np.float64), requires_grad=True)])


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_the_decoder_output_is_linear_so_d_can_raise_the_energy_of_any_sample(model):
    game = tiny_game(model=model)
    assert not any(isinstance(layer, mg.nn.Tanh) for layer in game.D.decoder.net)
    assert isinstance(game.G.net[-1], mg.nn.Tanh)
    with pytest.raises(ValueError, match="output must be 'tanh' or 'linear', got 'relu'"):
        DCGANGenerator(2, 8, 1, 2, output="relu")


def test_a_decoder_that_does_not_rebuild_the_input_shape_is_named():
    D = AutoencoderDiscriminator(mg.nn.Linear(4, 2), mg.nn.Linear(2, 3))
    with pytest.raises(ValueError, match=r"the decoder gives \(5, 3\) for inputs of shape \(5, 4\)"):
        D(mg.zeros(5, 4))


def test_the_autoencoder_of_points_decodes_to_points():
    game = tiny_game("ebgan-digits", "data.name=ring8")
    D = autoencoder(game.model, game.data, 3, "l1")
    assert D(mg.zeros(6, 2)).shape == (6,) and D.reconstruct(mg.zeros(6, 2)).shape == (6, 2)


# -- the game ------------------------------------------------------------------------------------------------

def test_ebgan_is_registered_with_its_options():
    assert GAMES.options("ebgan") == {"code_dim": 32, "energy": "mse", "pt_weight": 0.1}


def test_ebgan_objectives_are_the_papers_equation_with_the_pulling_away_term():
    game = tiny_game("ebgan-digits", "loss.margin=0.8", "game.pt_weight=0.3")
    x, seed = digits(game, 3), 4
    batch = type(game.data.loader.next_batch())(x, None)
    mg.manual_seed(seed)
    d_value = game.d_objective(batch).loss.item()
    mg.manual_seed(seed)
    z = game.z(3)
    with mg.no_grad():
        fake = game.G(z)
        real_energy, fake_energy = game.D(x).numpy(), game.D(fake).numpy()
        code = game.D.encode(fake).numpy()
        mg.manual_seed(seed)
        g_objective = game.g_objective(batch)
    unit = code / np.linalg.norm(code, axis=1, keepdims=True)
    cosine = unit @ unit.T
    pulling_away = ((cosine ** 2).sum() - 3) / 6
    assert d_value == pytest.approx(real_energy.mean() + np.maximum(0.8 - fake_energy, 0).mean(), rel=1e-12)
    assert g_objective.loss.item() == pytest.approx(fake_energy.mean() + 0.3 * pulling_away, rel=1e-12)
    assert g_objective.logs["g_pt"].item() == pytest.approx(pulling_away, rel=1e-12)
    assert "g_pt" not in tiny_game("ebgan-digits", "game.pt_weight=0").g_objective(batch).logs


def test_ebgan_draws_real_digits_and_samples_above_their_reconstructions_by_d_and_offers_no_logit():
    game = tiny_game()
    grid, columns = game.sample_grid(34, mg.Generator(0))
    assert columns == 5 and grid.shape == (20, 1, 8, 8)  # one group of four rows of five
    real, samples = grid[:5], grid[10:15]
    assert all(any(np.array_equal(r, s) for s in game.data.samples.astype(r.dtype)) for r in real)
    np.testing.assert_allclose(grid[5:10], game.reconstruct(real), rtol=1e-12)
    np.testing.assert_allclose(grid[15:], game.reconstruct(samples), rtol=1e-12)
    assert not any(np.array_equal(s, r) for s in samples for r in game.data.samples.astype(s.dtype))
    assert game.critic() is None
    with pytest.raises(ValueError, match=r"reconstruct\(\) takes samples of shape \(N, 1, 8, 8\), got \(5, 64\)"):
        game.reconstruct(samples.reshape(5, 64))
    points = tiny_game("ebgan-digits", "data.name=ring8")
    drawn, columns = points.sample_grid(6, mg.Generator(0))
    assert drawn.shape == (6, 2) and columns is None


def test_other_games_refuse_the_energy_losses_and_name_the_game_to_use():
    for recipe, loss in (("dcgan-digits", "ebgan"), ("infogan-digits", "began")):
        with pytest.raises(cfg.ConfigError, match=f"game.name = '{loss}'|game '{loss}'"):  # refused as configured
            cfg.apply_overrides(cfg.load_recipe(recipe), [f"loss.name={loss}"])


def test_a_short_run_trains_both_players_and_writes_the_picture(tmp_path):
    config = cfg.apply_overrides(cfg.load_recipe("ebgan-digits"), [
        "model.g_hidden=[16]", "model.d_hidden=[16]", "train.steps=3", "train.sample_every=3",
        "train.checkpoint_every=3", "train.n_samples=20", "train.log_every=1"])
    paths = run_training(config, tmp_path, progress=False)
    assert paths["samples"].stat().st_size > 0
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines() if line]
    assert all(key in records[-1] for key in ("d_loss", "g_loss", "d_real", "d_fake", "g_pt"))
    assert 0 <= records[-1]["g_pt"] <= 1
