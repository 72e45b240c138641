"""CatGAN: the entropies (values, first and second derivatives, stability), the catgan loss against the paper's
equations, the game's checks, classifying, the picture and a short run."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_games import tiny_game

import minigan as mg
from minigan.games import GAMES
from minigan.losses import CatGANLoss, conditional_entropy, get, marginal_entropy, softmax_entropy
from minigan.registry import ConfigError
from minigan.runner import run_training
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst
from minigan.train import config as cfg
from minigan.train.setup import build_data, build_game

checks = settings(max_examples=10, deadline=None)


def tensor(array, requires_grad=True):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def probabilities(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)


def entropy(p, axis=-1):
    return -(p * np.log(p)).sum(axis=axis)


def tiny_catgan(*extra: str, model: str = "mlp"):
    return tiny_game("catgan-digits", *extra, model=model)[0]


logits_shapes = st.tuples(st.integers(1, 4), st.integers(2, 4))


# -- the entropies ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("function", [softmax_entropy, conditional_entropy, marginal_entropy])
@checks
@given(shape=logits_shapes, data=st.data())
def test_entropies_first_and_second_derivatives(function, shape, data):
    logits = tensor(data.draw(mst.arrays(shape)))
    gradcheck(function, [logits])
    gradgradcheck(function, [logits])


@checks
@given(shape=logits_shapes, scale=st.sampled_from([1.0, 30.0]), data=st.data())
def test_entropies_are_their_definitions(shape, scale, data):
    """Also for large logits, where some probabilities are below float64's smallest number."""
    logits = scale * data.draw(mst.arrays(shape))
    p = probabilities(logits)
    marginal = p.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_rows = np.nan_to_num(-(p * np.log(p))).sum(axis=1)
        expected_marginal = np.nan_to_num(-(marginal * np.log(marginal))).sum()
    np.testing.assert_allclose(softmax_entropy(tensor(logits)).numpy(), expected_rows, rtol=1e-10, atol=1e-12)
    assert conditional_entropy(tensor(logits)).item() == pytest.approx(expected_rows.mean(), rel=1e-10, abs=1e-12)
    assert marginal_entropy(tensor(logits)).item() == pytest.approx(expected_marginal, rel=1e-10, abs=1e-12)


def test_entropies_of_certain_and_of_uniform_predictions():
    k = 4
    certain = tensor(1000.0 * np.eye(k))  # each sample sure of its own class, the batch spread evenly
    assert conditional_entropy(certain).item() == 0.0
    assert marginal_entropy(certain).item() == pytest.approx(np.log(k), rel=1e-14)
    uniform = tensor(np.zeros((3, k)))
    assert conditional_entropy(uniform).item() == pytest.approx(np.log(k), rel=1e-14)
    assert marginal_entropy(uniform).item() == pytest.approx(np.log(k), rel=1e-14)
    collapsed = tensor(np.tile([1000.0, 0, 0, 0], (3, 1)))  # every sample sure of the same class
    assert marginal_entropy(collapsed).item() == 0.0


def test_gradients_stay_finite_where_probabilities_underflow():
    logits = tensor([[2000.0, 0.0, -3000.0], [2000.0, 1.0, 0.0]])
    for function in (conditional_entropy, marginal_entropy):
        function(logits).backward()
        assert np.isfinite(logits.grad.numpy()).all()
        logits.grad = None


@pytest.mark.parametrize("function", [softmax_entropy, conditional_entropy, marginal_entropy])
@pytest.mark.parametrize("shape", [(4,), (4, 1), (0, 3), (2, 3, 4)])
def test_entropies_refuse_what_are_not_class_logits(function, shape):
    with pytest.raises(ValueError, match=rf"{function.__name__}: expected class logits of shape \(N, K\)"):
        function(tensor(np.zeros(shape)))


# -- the catgan loss -------------------------------------------------------------------------------------------

@checks
@given(n_real=st.integers(1, 4), n_fake=st.integers(1, 4), k=st.integers(2, 4),
       weight=st.sampled_from([0.0, 0.5, 1.0]), data=st.data())
def test_catgan_loss_is_the_papers_equations_with_their_gradients(n_real, n_fake, k, weight, data):
    loss = CatGANLoss(marginal_weight=weight)
    real, fake = tensor(data.draw(mst.arrays((n_real, k)))), tensor(data.draw(mst.arrays((n_fake, k))))
    p_real, p_fake = probabilities(real.numpy()), probabilities(fake.numpy())
    d = entropy(p_real).mean() - entropy(p_fake).mean() - weight * entropy(p_real.mean(axis=0))
    g = entropy(p_fake).mean() - weight * entropy(p_fake.mean(axis=0))
    assert loss.d_loss(real, fake).item() == pytest.approx(d, rel=1e-10, abs=1e-12)
    assert loss.g_loss(fake).item() == pytest.approx(g, rel=1e-10, abs=1e-12)
    gradcheck(loss.d_loss, [real, fake])
    gradcheck(loss.g_loss, [fake])


def test_catgan_loss_is_registered_with_its_weight():
    loss = get("catgan", marginal_weight=0.5)
    assert isinstance(loss, CatGANLoss) and loss.marginal_weight == 0.5 and get("catgan").marginal_weight == 1.0
    assert loss.game == "catgan"


# -- the game --------------------------------------------------------------------------------------------------

def test_the_game_is_registered_with_its_options():
    assert GAMES.options("catgan") == {"classes": 10}


@pytest.mark.parametrize("recipe,extra,message", [
    ("catgan-digits", ["loss.name=nonsaturating"], "game catgan needs loss.name = 'catgan'"),
    ("mlp-digits", ["loss.name=catgan"], "game 'gan' cannot use it"),
    ("infogan-digits", ["loss.name=catgan"], "game 'infogan' cannot use it"),
    ("catgan-digits", ["model.pack=2"], "model.pack must be 1"),
])
def test_games_refuse_settings_they_cannot_play(recipe, extra, message):
    with pytest.raises(ConfigError, match=message):  # when the configuration is made, or the game built
        config = cfg.apply_overrides(cfg.load_recipe(recipe), extra)
        build_game(config, build_data(config))


def test_fewer_than_two_classes_is_refused():
    with pytest.raises(ConfigError, match="game.classes"):
        cfg.apply_overrides(cfg.load_recipe("catgan-digits"), ["game.classes=1"])


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_d_gives_class_logits_and_classify_reads_them(model):
    game = tiny_catgan(model=model)
    x = game.data.samples[:5]
    assert game.D(mg.tensor(x.astype(np.float64))).shape == (5, 3)
    p = game.class_probabilities(x)
    assert p.shape == (5, 3) and np.allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(game.classify(x), p.argmax(axis=1))
    assert game.critic() is None
    with pytest.raises(ValueError, match=r"takes samples of shape \(N, 1, 8, 8\), got \(5, 64\)"):
        game.classify(x.reshape(5, 64))


def test_the_penalty_looks_at_ds_certainty_on_the_samples_it_judged():
    game = tiny_catgan()
    batch = game.data.loader.next_batch()
    objective = game.d_objective(type(batch)(batch.x.double(), None))
    p = probabilities(game.D(objective.real).numpy())
    np.testing.assert_allclose(objective.critic(objective.real).numpy(), -entropy(p)[:, None], rtol=1e-12)
    assert objective.fake.shape == objective.real.shape


def test_the_picture_has_a_row_per_class_of_real_then_generated_samples_d_is_surest_of():
    game = tiny_catgan()
    grid, columns = game.sample_grid(12, mg.Generator(0))
    assert columns == 4 and grid.shape == (12, 1, 8, 8)  # 3 classes down, 2 real and 2 generated across
    real = game.data.samples.astype(grid.dtype)
    blank = grid.min()
    for row in grid.reshape(3, 4, 1, 8, 8):
        shown = [image for image in row[:2] if not np.all(image == blank)]
        assert all(any(np.array_equal(image, r) for r in real) for image in shown)
        if shown:
            assert (game.classify(np.stack(shown)) == game.classify(shown[0][None])[0]).all()
    assert game.sample_grid(12, mg.Generator(0))[0].tobytes() == grid.tobytes()


def test_catgan_plays_on_points_and_draws_them_as_samples():
    game = tiny_catgan("data.name=ring8")
    samples, columns = game.sample_grid(6, mg.Generator(0))
    assert samples.shape == (6, 2) and columns is None
    assert game.classify(game.data.samples[:4]).shape == (4,)


def test_a_short_run_trains_both_players_and_writes_the_picture(tmp_path):
    config = cfg.apply_overrides(cfg.load_recipe("catgan-digits"), [
        "model.g_hidden=[16]", "model.d_hidden=[16]", "train.steps=3", "train.sample_every=3",
        "train.checkpoint_every=3", "train.n_samples=20", "train.log_every=1"])
    run_training(config, tmp_path, progress=False)
    assert (tmp_path / "samples.png").is_file()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines() if line]
    assert all(key in records[-1] for key in ("d_loss", "g_loss", "h_real", "h_fake"))
    assert 0 <= records[-1]["h_real"] <= np.log(10)
