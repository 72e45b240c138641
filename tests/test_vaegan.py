"""VAE-GAN: the KL and feature-reconstruction terms and the reparameterisation (values and gradients), the
Gaussian encoder, the game's objectives against the paper's equations, encoding, the picture and a short run."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_games import tiny_game

import minigan as mg
from minigan.games import GAMES
from minigan.losses import feature_reconstruction_loss, gaussian_kl
from minigan.models import GaussianEncoder, MLPDiscriminator, reparameterize
from minigan.runner import run_training
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as mst
from minigan.train import config as cfg
from minigan.train.setup import build_data, build_game

checks = settings(max_examples=10, deadline=None)


def tensor(array, requires_grad=True):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def tiny_vaegan(*extra: str, model: str = "mlp"):
    return tiny_game("vaegan-digits", *extra, model=model)[0]


def real_batch(game, n: int = 3):
    batch = game.data.loader.next_batch()
    return type(batch)(batch.x[:n].double(), None)


# -- the loss terms --------------------------------------------------------------------------------------------

@checks
@given(n=st.integers(1, 4), k=st.integers(1, 4), data=st.data())
def test_gaussian_kl_first_and_second_derivatives(n, k, data):
    mu, logvar = tensor(data.draw(mst.arrays((n, k)))), tensor(data.draw(mst.arrays((n, k))))
    gradcheck(gaussian_kl, [mu, logvar])
    gradgradcheck(gaussian_kl, [mu, logvar])


@checks
@given(shape=st.sampled_from([(1,), (2, 3), (3, 1, 2)]), data=st.data())
def test_gaussian_kl_elementwise_vjp_under_a_random_upstream_gradient(shape, data):
    """The fused primitive on its own, so that each element's VJP meets its own upstream value (inside
    gaussian_kl the sum and mean give every element the same one)."""
    from minigan.losses.variational import _gaussian_kl

    mu, logvar = tensor(data.draw(mst.arrays(shape))), tensor(data.draw(mst.arrays(shape)))
    gradcheck(_gaussian_kl, [mu, logvar])
    gradgradcheck(_gaussian_kl, [mu, logvar])


def test_gaussian_kl_is_the_closed_form_and_zero_at_the_prior():
    mu, logvar = np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([[np.log(2.0), 0.0], [-1.0, 0.3]])
    expected = (0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar)).sum(1).mean()
    assert gaussian_kl(tensor(mu), tensor(logvar)).item() == pytest.approx(expected, rel=1e-14)
    assert gaussian_kl(tensor(np.zeros((3, 4))), tensor(np.zeros((3, 4)))).item() == 0.0
    # against a Monte Carlo estimate of E_q[log q(z) - log p(z)] for one sample
    rng = np.random.default_rng(0)
    m, v = mu[0], logvar[0]
    z = m + np.exp(v / 2) * rng.standard_normal((400_000, 2))
    log_ratio = (-0.5 * (z - m) ** 2 / np.exp(v) - 0.5 * v + 0.5 * z ** 2).sum(1)
    assert gaussian_kl(tensor(mu[:1]), tensor(logvar[:1])).item() == pytest.approx(log_ratio.mean(), abs=1e-2)


def test_gaussian_kl_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"gaussian_kl: mu and logvar must both have shape \(N, latent_dim\)"):
        gaussian_kl(tensor(np.zeros((2, 3))), tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="gaussian_kl"):
        gaussian_kl(tensor(np.zeros(3)), tensor(np.zeros(3)))


@checks
@given(shape=st.sampled_from([(1, 3), (3, 2), (2, 2, 2)]), data=st.data())
def test_feature_reconstruction_loss_gradient(shape, data):
    real, fake = tensor(data.draw(mst.arrays(shape))), tensor(data.draw(mst.arrays(shape)))
    gradcheck(feature_reconstruction_loss, [real, fake])
    gradgradcheck(feature_reconstruction_loss, [real, fake])


def test_feature_reconstruction_loss_is_half_the_squared_distance_per_sample():
    real, fake = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [3.0, 4.0]])
    assert feature_reconstruction_loss(tensor(real), tensor(fake)).item() == pytest.approx((4 + 25) / 2 / 2)
    with pytest.raises(ValueError, match=r"real features \(2, 2\) and reconstructed features \(2, 3\)"):
        feature_reconstruction_loss(tensor(real), tensor(np.zeros((2, 3))))


# -- the reparameterisation and the encoder ---------------------------------------------------------------------

@checks
@given(n=st.integers(1, 4), k=st.integers(1, 3), data=st.data())
def test_reparameterize_gradient_in_mean_and_log_variance(n, k, data):
    noise = tensor(data.draw(mst.arrays((n, k))), requires_grad=False)
    mu, logvar = tensor(data.draw(mst.arrays((n, k)))), tensor(data.draw(mst.arrays((n, k))))
    gradcheck(lambda m, v: reparameterize(m, v, noise), [mu, logvar])
    gradgradcheck(lambda m, v: reparameterize(m, v, noise), [mu, logvar])


def test_reparameterize_draws_from_the_gaussian_it_is_given():
    mu, logvar = mg.tensor(np.full((20_000, 2), [1.0, -2.0])), mg.tensor(np.full((20_000, 2), [np.log(4.0), 0.0]))
    z = reparameterize(mu, logvar, generator=mg.Generator(0)).numpy()
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(0), [2.0, 1.0], rtol=0.03)
    again = reparameterize(mu, logvar, generator=mg.Generator(0)).numpy()
    np.testing.assert_array_equal(z, again)
    with pytest.raises(ValueError, match=r"noise \(3, 2\) must have mu's shape \(20000, 2\)"):
        reparameterize(mu, logvar, mg.zeros(3, 2))
    with pytest.raises(ValueError, match="reparameterize: mu"):
        reparameterize(mu, logvar[:, :1])


def test_gaussian_encoder_splits_its_base_outputs_into_mean_and_log_variance():
    base = MLPDiscriminator((1, 8, 8), (8,), outputs=6)
    encoder = GaussianEncoder(base, 3)
    x = mg.randn(5, 1, 8, 8)
    mu, logvar = encoder(x)
    out = base(x).numpy()
    assert mu.shape == logvar.shape == (5, 3)
    np.testing.assert_array_equal(mu.numpy(), out[:, :3])
    np.testing.assert_array_equal(logvar.numpy(), out[:, 3:])
    with pytest.raises(ValueError, match=r"GaussianEncoder: the base network must give \(N, 8\) outputs"):
        GaussianEncoder(base, 4)(x)


# -- the game ---------------------------------------------------------------------------------------------------

def _softplus(x):
    return np.logaddexp(0, x)


def test_objectives_are_the_vaegan_equations():
    game = tiny_vaegan("game.gamma=0.5", "game.kl_weight=2.0")
    batch, seed = real_batch(game), 3
    x = batch.x
    values = {}
    for player in ("d", "e", "g"):
        mg.manual_seed(seed)
        values[player] = getattr(game, f"{player}_objective")(batch).loss.item()
    mg.manual_seed(seed)
    with mg.no_grad():
        mu, logvar = game.E(x)
        reconstructed = game.G(reparameterize(mu, logvar))
        prior = game.G(game.z(len(batch)))
        real_out, rec_out, prior_out = (game.D(v).numpy() for v in (x, reconstructed, prior))
        gap = game.D.features(x).numpy() - game.D.features(reconstructed).numpy()
    m, v = mu.numpy(), logvar.numpy()
    kl = (0.5 * (m ** 2 + np.exp(v) - 1 - v)).sum(1).mean()
    llike = 0.5 * (gap ** 2).sum(1).mean()
    d_value = 2 * _softplus(-real_out).mean() + _softplus(rec_out).mean() + _softplus(prior_out).mean()
    assert values["d"] == pytest.approx(d_value, rel=1e-12)
    assert values["e"] == pytest.approx(2.0 * kl + llike, rel=1e-12)
    # G draws the same reconstruction noise (E first), then its prior latents
    mg.manual_seed(seed)
    with mg.no_grad():
        mu, logvar = game.E(x)
        reconstructed = game.G(reparameterize(mu, logvar))
        prior_out = game.D(game.G(game.z(len(batch)))).numpy()
        rec_out = game.D(reconstructed).numpy()
        gap = game.D.features(x).numpy() - game.D.features(reconstructed).numpy()
    g_value = 0.5 * 0.5 * (gap ** 2).sum(1).mean() + _softplus(-rec_out).mean() + _softplus(-prior_out).mean()
    assert values["g"] == pytest.approx(g_value, rel=1e-12)


def test_the_three_players_update_their_own_network_and_the_gradient_reaches_it():
    game = tiny_vaegan()
    assert [(p.name, p.updates, p.critic) for p in game.players] == [("D", ("D",), True), ("E", ("E",), False),
                                                                     ("G", ("G",), False)]
    batch = real_batch(game)
    for player in game.players:
        for net in game.networks:
            game.network(net).zero_grad()
        getattr(game, f"{player.name.lower()}_objective")(batch).loss.backward()
        (own,) = player.updates
        assert all(p.grad is not None for p in game.network(own).parameters()), player.name


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_encodes_to_the_mean_reconstructs_and_draws_inputs_reconstructions_and_samples(model):
    game = tiny_vaegan(model=model)
    x = game.data.samples[:5]
    codes = game.encode(x)
    with mg.no_grad():
        game.E.eval()
        np.testing.assert_array_equal(codes, game.E(mg.tensor(x.astype(np.float64)))[0].numpy())
    np.testing.assert_array_equal(game.reconstruct(x), game.sample(5, z=codes))
    grid, columns = game.sample_grid(30, mg.Generator(0))
    assert columns == 5 and grid.shape == (30, 1, 8, 8)  # two groups of three rows of five
    real, reconstructed = grid[:5], grid[5:10]
    assert all(any(np.array_equal(r, s) for s in game.data.samples.astype(r.dtype)) for r in real)
    np.testing.assert_allclose(reconstructed, game.reconstruct(real), rtol=1e-12, atol=1e-12)
    assert not any(np.array_equal(s, r) for s in grid[10:15] for r in reconstructed)
    with pytest.raises(ValueError, match=r"encode\(\) takes samples of shape \(N, 1, 8, 8\), got \(5, 64\)"):
        game.encode(x.reshape(5, 64))


def test_plays_on_points_too_and_draws_them_as_samples():
    game = tiny_vaegan("data.name=ring8")
    samples, columns = game.sample_grid(6, mg.Generator(0))
    assert samples.shape == (6, 2) and columns is None
    for player in game.players:
        getattr(game, f"{player.name.lower()}_objective")(real_batch(game)).loss.backward()


def test_is_registered_with_the_papers_weights_as_defaults():
    assert GAMES.options("vaegan") == {"gamma": 1.0, "kl_weight": 1.0}


@pytest.mark.parametrize("extra,message", [(["loss.name=ebgan"], "set game.name = 'ebgan'"),
                                           (["model.pack=2"], "model.pack must be 1"),
                                           (["game.gamma=-1"], r"game.gamma must be in \[0, inf\)")])
def test_refuses_settings_it_cannot_play(extra, message):
    with pytest.raises(cfg.ConfigError, match=message):
        config = cfg.apply_overrides(cfg.load_recipe("vaegan-digits"), extra)
        build_game(config, build_data(config))


def test_a_short_run_trains_every_player_and_writes_the_picture(tmp_path):
    config = cfg.apply_overrides(cfg.load_recipe("vaegan-digits"), [
        "model.g_width=4", "model.d_width=4", "model.latent_dim=4", "train.steps=3", "train.sample_every=3",
        "train.checkpoint_every=3", "train.n_samples=12"])
    run_training(config, tmp_path, progress=False)
    assert (tmp_path / "samples.png").is_file()
    records = [line for line in (tmp_path / "metrics.jsonl").read_text().splitlines() if line]
    assert all(key in records[-1] for key in ('"d_loss"', '"e_loss"', '"g_loss"', '"kl"', '"llike"'))
