"""The GAN families as games: each player's whole objective gradient-checked, its value against the paper's
equation, sampling with labels and codes, and the check catching a wrong objective.

Every family is built from its shipped recipe with tiny float64 networks on a
few real digits. An objective is checked as a function of *every* parameter
of the networks its player updates (D and Q together for InfoGAN's critic),
with the default generator re-seeded on each call so that finite differences
see the same latents, labels and codes.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import games, losses
from minigan.autograd import primitive
from minigan.games import GAMES
from minigan.testing import GradcheckError, NonDifferentiableError, gradcheck
from minigan.testing.modules import parameters_replaced
from minigan.train import config as cfg
from minigan.train.setup import build_data, build_game

FAMILIES = {"gan": "mlp-digits", "cgan": "cgan-digits", "acgan": "acgan-digits", "infogan": "infogan-digits",
            "bigan": "bigan-digits", "vaegan": "vaegan-digits", "catgan": "catgan-digits",
            "ebgan": "ebgan-digits", "began": "began-digits", "stylegan": "stylegan-digits",
            "pix2pix": "pix2pix-colour", "cyclegan": "cyclegan-photos", "srgan": "srgan-photos"}
TINY_OPTIONS = {"cgan-digits": ["game.embedding_dim=2"], "acgan-digits": ["game.embedding_dim=2"],
                "infogan-digits": ["game.categories=3", "game.q_hidden=4"], "catgan-digits": ["game.classes=3"],
                # under N(0, 0.02) weights D's code is tiny, and its decoder's first ReLU sits at the kink
                "ebgan-digits": ["game.code_dim=2", "model.dcgan_init=false"], "began-digits": ["game.code_dim=2"],
                "stylegan-digits": ["model.g_width=1", "game.w_dim=3", "game.mapping_depth=2"],
                # spectral norm's power iteration moves the weights on every training-mode call: no fixed function
                "bigan-digits": ["model.spectral_norm=false"],
                # 8x8 crops: the smallest the 16-pixel PatchGAN reads (it needs 6 per side)
                "pix2pix-colour": ["data.image_size=8"],
                # 8x8 crops: ResnetGenerator's smallest (2x2 at the bottom); one residual block
                "cyclegan-photos": ["data.image_size=8", "game.blocks=1"],
                # 8x8 crops: G's trunk runs at 4x4, the feature network's maps are 4x4 and 2x2; one residual block
                "srgan-photos": ["data.image_size=8", "game.blocks=1", "model.d_width=1"]}
TINY = ["model.g_width=2", "model.d_width=2", "model.latent_dim=2", "model.g_hidden=[4]", "model.d_hidden=[4]",
        "data.batch_size=4"]


def tiny_game(recipe: str, *extra: str, model: str = "mlp"):
    overrides = [f"model.name={model}", *TINY, *TINY_OPTIONS.get(recipe, []), *extra]
    config = cfg.apply_overrides(cfg.load_recipe(recipe), overrides)
    mg.manual_seed(config["train"]["seed"])
    game = build_game(config, build_data(config))
    for name in game.networks:
        game.network(name).double()
    return game, config


def whole_and_resumed(config, tmp_path):
    """Train ``config`` straight through, and again stopped halfway and resumed; assert the two end with the same
    weights, bit for bit. Returns the whole run's game and its metrics records (one JSON line each)."""
    from minigan.runner import load_game, run_training

    steps = config["train"]["steps"]
    run_training(config, tmp_path / "whole", progress=False)
    run_training(cfg.apply_overrides(config, [f"train.steps={steps // 2}"]), tmp_path / "half", progress=False)
    run_training(None, tmp_path / "half", resume=True, progress=False, steps=steps)
    whole, _ = load_game(tmp_path / "whole" / "checkpoint.safetensors")
    half, _ = load_game(tmp_path / "half" / "checkpoint.safetensors")
    for name in whole.networks:
        for (key, a), (_, b) in zip(whole.network(name).state_dict().items(),
                                    half.network(name).state_dict().items()):
            np.testing.assert_array_equal(a, b, err_msg=f"{name}.{key}")
    return whole, (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()


def real_batch(game, n: int = 3):
    batch = game.data.loader.next_batch()
    def first(t, double=True):
        return None if t is None else (t[:n].double() if double else t[:n])

    return type(batch)(first(batch.x), first(batch.y, double=False), first(batch.x_b))


def objective_of(game, player, batch, seed: int):
    """The player's loss as a function of the parameters of every network it updates, others frozen."""
    mine = [game.network(n) for n in player.updates]
    others = [game.network(n) for n in game.networks if n not in player.updates]
    method = getattr(game, f"{player.name.lower()}_objective")

    def objective(*params):
        mg.manual_seed(seed)
        for net in others:
            net.requires_grad_(False)
        try:
            with parameters_replaced(mine, params):
                return method(batch).loss
        finally:
            for net in others:
                net.requires_grad_(True)

    params = list({id(p): p for net in mine for p in net.parameters()}.values())
    return objective, params


def check(objective, params):
    try:
        gradcheck(objective, params)
    except NonDifferentiableError:  # a LeakyReLU kink within a step of the point: rare, and no verdict
        assume(False)


# -- every player's whole objective, gradient-checked ---------------------------------------------------------

CASES = [("gan", "mlp", []), ("gan", "dcgan", ["loss.name=ragan"]), ("cgan", "mlp", []), ("cgan", "dcgan", []),
         ("cgan", "mlp", ["game.projection=true"]), ("acgan", "dcgan", []), ("acgan", "mlp", ["loss.name=hinge"]),
         ("infogan", "mlp", []), ("infogan", "dcgan", ["game.learn_std=true"]), ("bigan", "mlp", []),
         ("bigan", "dcgan", ["loss.name=hinge"]), ("vaegan", "mlp", []), ("vaegan", "dcgan", ["loss.name=ragan"]),
         ("catgan", "mlp", []), ("catgan", "dcgan", []), ("ebgan", "mlp", []), ("ebgan", "dcgan", ["game.energy=l1"]),
         ("began", "mlp", ["loss.k=0.3"]), ("began", "dcgan", ["game.energy=mse", "loss.k=0.7"]),
         ("stylegan", "mlp", ["game.mixing=1.0"]), ("stylegan", "dcgan", ["game.mixing=0.0", "loss.name=hinge"]),
         ("pix2pix", "dcgan", []),
         ("pix2pix", "dcgan", ["data.task=superres", "loss.name=lsgan", "game.norm=instance"]),
         *(pytest.param(*case, marks=pytest.mark.slow) for case in [  # about a minute of differences each
             ("srgan", "dcgan", []),
             ("srgan", "dcgan", ["loss.name=lsgan", "model.g_batch_norm=false", "game.pixel_weight=0"]),
             ("srgan", "dcgan", ["loss.name=ragan", "game.global_residual=false", "game.adversarial_weight=0.5"])])]


@pytest.mark.parametrize("family,model,extra", CASES)
@settings(max_examples=2)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 4))
def test_each_players_objective_has_the_gradient_of_its_value(family, model, extra, seed, n):
    game, _ = tiny_game(FAMILIES[family], *extra, model=model)
    batch = real_batch(game, n)
    for player in game.players:
        check(*objective_of(game, player, batch, seed))


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["data.task=colour", "loss.name=nonsaturating", "game.norm=batch"]])
@settings(max_examples=1)
@given(seed=st.integers(0, 2**16))
def test_cyclegans_players_objectives_have_the_gradient_of_their_value(extra, seed):
    """As above, for CycleGAN's two players (four networks, G's objective running a generator six times): one
    draw at width 1, each parameter of G and F (about 1,600) moved in turn, minutes each: with the slow tests."""
    game, _ = tiny_game("cyclegan-photos", "model.g_width=1", "model.d_width=1", *extra, model="dcgan")
    batch = real_batch(game, 2)
    for player in game.players:
        check(*objective_of(game, player, batch, seed))


def test_infogan_critic_player_updates_d_and_q_and_its_gradient_reaches_both():
    game, _ = tiny_game("infogan-digits")
    (critic, generator) = game.players
    assert critic.updates == ("D", "Q") and generator.updates == ("G",)
    objective, params = objective_of(game, critic, real_batch(game), seed=3)
    assert len(params) == len(list(game.D.parameters())) + len(list(game.Q.parameters()))
    objective(*params).backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in params)


# -- a wrong objective fails the check -------------------------------------------------------------------------

@primitive(name="class_loss_with_flipped_gradient")
def _wrong_class_loss(logits, onehot):
    """Cross-entropy -sum(onehot * log_softmax(logits)) / N, with its gradient's sign flipped (deliberately wrong)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -(onehot * log_p).sum() / len(logits)


@_wrong_class_loss.vjp
def _(g, loss, logits, onehot):
    return g * (onehot - mg.softmax(logits, dim=1)) * (1.0 / logits.shape[0]), None  # should be softmax - onehot


def test_a_flipped_sign_in_a_hand_written_gradient_fails_the_whole_step_check(monkeypatch):
    game, _ = tiny_game("acgan-digits")
    monkeypatch.setattr(games.acgan, "acgan_class_loss",
                        lambda logits, y: _wrong_class_loss(logits, mg.tensor(np.eye(logits.shape[1])[y.numpy()])))
    for player in game.players:
        with pytest.raises(GradcheckError, match="wrong gradient"):
            gradcheck(*objective_of(game, player, real_batch(game), seed=1))


def test_a_term_missing_from_the_gradient_fails_the_whole_step_check(monkeypatch):
    """InfoGAN's G objective with the information term read off detached samples: G gets none of its gradient."""
    game, _ = tiny_game("infogan-digits", "model.dcgan_init=false")  # weights large enough for Q's term to show
    generator_player = game.players[1]

    def cut_g_objective(batch):
        categorical, uniform = game.codes(len(batch))
        fake = game.G(game.latent(game.z(len(batch)), categorical, uniform))
        info = game.information(game.D.features(fake.detach()), categorical, uniform)
        return games.Objective(game.loss.g_loss(game.D(fake)) + game.info_weight * info)

    monkeypatch.setattr(game, "g_objective", cut_g_objective)
    with pytest.raises(GradcheckError, match="wrong gradient"):
        gradcheck(*objective_of(game, generator_player, real_batch(game), seed=2))


# -- each objective's value is the paper's equation --------------------------------------------------------

def _softplus(x):
    return np.logaddexp(0, x)


def _cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def _values(game, batch, seed):
    """Each player's objective value, with the latents it drew (re-drawn from the same seed)."""
    mg.manual_seed(seed)
    d = game.d_objective(batch).loss.item()
    mg.manual_seed(seed)
    z = game.z(len(batch)).numpy()
    return d, z


def test_conditional_gan_objectives_are_the_cgan_equation():
    game, _ = tiny_game("cgan-digits")
    batch, seed = real_batch(game), 5
    d_value, z = _values(game, batch, seed)
    with mg.no_grad():
        fake = game.G(mg.tensor(z), batch.y)
        real_out, fake_out = game.D(batch.x, batch.y).numpy(), game.D(fake, batch.y).numpy()
        mg.manual_seed(seed)
        g_value = game.g_objective(batch).loss.item()
    assert d_value == pytest.approx(_softplus(-real_out).mean() + _softplus(fake_out).mean(), rel=1e-12)
    assert g_value == pytest.approx(_softplus(-fake_out).mean(), rel=1e-12)


def test_acgan_objectives_add_the_class_cross_entropy_of_both_players():
    game, config = tiny_game("acgan-digits", "game.class_weight=0.5")
    batch, seed = real_batch(game), 7
    y = batch.y.numpy()
    d_value, z = _values(game, batch, seed)
    with mg.no_grad():
        fake = game.G(mg.tensor(z), batch.y)
        (real_out, real_cls), (fake_out, fake_cls) = ([t.numpy() for t in game.D(x)] for x in (batch.x, fake))
        mg.manual_seed(seed)
        g_value = game.g_objective(batch).loss.item()
    class_d = _cross_entropy(real_cls, y) + _cross_entropy(fake_cls, y)
    assert d_value == pytest.approx(_softplus(-real_out).mean() + _softplus(fake_out).mean() + 0.5 * class_d,
                                    rel=1e-12)
    assert g_value == pytest.approx(_softplus(-fake_out).mean() + 0.5 * _cross_entropy(fake_cls, y), rel=1e-12)


def test_infogan_objectives_add_the_information_term_to_both_players():
    game, _ = tiny_game("infogan-digits", "game.info_weight=2.0", "game.continuous_weight=0.5")
    batch, seed = real_batch(game), 11
    mg.manual_seed(seed)
    d_value = game.d_objective(batch).loss.item()
    mg.manual_seed(seed)
    categorical, uniform = game.codes(len(batch))
    z = game.z(len(batch))
    with mg.no_grad():
        h = game.D.features(game.G(game.latent(z, categorical, uniform)))
        logits, mean, _ = (t.numpy() if t is not None else None for t in game.Q(h))
        real_out, fake_out = game.D(batch.x).numpy(), game.D.head(h).numpy()
    c, u = categorical.numpy(), uniform.numpy()
    info = _cross_entropy(logits, c) + 0.5 * (0.5 * (u - mean) ** 2 + 0.5 * np.log(2 * np.pi)).sum(1).mean()
    assert d_value == pytest.approx(_softplus(-real_out).mean() + _softplus(fake_out).mean() + 2.0 * info, rel=1e-12)


def test_bigan_objectives_are_the_bigan_equation_and_g_and_e_play_it_with_the_labels_swapped():
    game, _ = tiny_game("bigan-digits")
    batch, seed = real_batch(game), 13
    d_value, z = _values(game, batch, seed)
    with mg.no_grad():
        real_out = game.D(batch.x, game.E(batch.x)).numpy()
        fake_out = game.D(game.G(mg.tensor(z)), mg.tensor(z)).numpy()
        mg.manual_seed(seed)
        g_value = game.g_objective(batch).loss.item()
    assert d_value == pytest.approx(_softplus(-real_out).mean() + _softplus(fake_out).mean(), rel=1e-12)
    assert g_value == pytest.approx(_softplus(real_out).mean() + _softplus(-fake_out).mean(), rel=1e-12)


def test_bigan_generator_player_updates_g_and_e_and_its_gradient_reaches_both():
    game, _ = tiny_game("bigan-digits")
    critic, generator = game.players
    assert critic.updates == ("D",) and generator.updates == ("G", "E")
    objective, params = objective_of(game, generator, real_batch(game), seed=3)
    assert len(params) == len(list(game.G.parameters())) + len(list(game.E.parameters()))
    objective(*params).backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in params)


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_bigan_gradient_penalty_is_taken_on_the_joined_pairs(model):
    """The penalty's critic is D on ``[x; z]`` split back; on the objective's own pairs it is D's output."""
    game, _ = tiny_game("bigan-digits", model=model)
    objective = game.d_objective(real_batch(game))
    assert objective.real.shape == (3, 64 + game.latent_dim) == objective.fake.shape
    x, code = objective.real[:, :64].reshape(3, 1, 8, 8), objective.real[:, 64:]
    np.testing.assert_array_equal(objective.critic(objective.real).numpy(), game.D(x, code).numpy())
    penalty = losses.gradient_penalty(objective.critic, objective.real, objective.fake)
    penalty.backward()  # the penalty reaches D's weights (not its last bias, which no input gradient depends on)
    assert sum(np.abs(p.grad.numpy()).sum() for p in game.D.parameters() if p.grad is not None) > 0


def test_bigan_encodes_reconstructs_and_draws_real_samples_beside_their_reconstructions():
    game, _ = tiny_game("bigan-digits")
    x = game.data.samples[:5]
    codes = game.encode(x)
    assert codes.shape == (5, game.latent_dim)
    np.testing.assert_array_equal(game.reconstruct(x), game.sample(5, z=codes))
    grid, columns = game.sample_grid(18, mg.Generator(0))
    assert columns == 4 and grid.shape == (16, 1, 8, 8)  # two pairs of rows of four
    real, again = grid[:4], grid[4:8]
    assert any(np.array_equal(r, s) for r in real for s in game.data.samples.astype(real.dtype))
    np.testing.assert_allclose(again, game.reconstruct(real), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="latents of shape"):
        game.D(mg.tensor(x), mg.zeros(5, game.latent_dim + 1, dtype=np.float64))
    with pytest.raises(ValueError, match=r"encode\(\) takes samples of shape \(N, 1, 8, 8\), got \(5, 64\)"):
        game.encode(x.reshape(5, 64))


def test_bigan_plays_on_points_too_and_draws_them_as_samples():
    game, _ = tiny_game("bigan-digits", "data.name=ring8")
    samples, columns = game.sample_grid(6, mg.Generator(0))
    assert samples.shape == (6, 2) and columns is None
    for player in game.players:
        getattr(game, f"{player.name.lower()}_objective")(real_batch(game)).loss.backward()


# -- sampling with labels and codes -----------------------------------------------------------------------------

@pytest.mark.parametrize("family", ["cgan", "acgan"])
def test_conditional_sampling_takes_labels_and_checks_them(family):
    game, _ = tiny_game(FAMILIES[family])
    z = np.random.default_rng(0).standard_normal((4, game.latent_dim))
    threes, fives = game.sample(4, z=z, labels=3), game.sample(4, z=z, labels=[5, 5, 5, 5])
    assert threes.shape == (4, 1, 8, 8) and not np.allclose(threes, fives)  # the label reaches G
    np.testing.assert_array_equal(game.sample(4, z=z, labels=3), threes)
    np.testing.assert_array_equal(game.sample(4, mg.Generator(1)), game.sample(4, mg.Generator(1), labels=[0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        game.sample(2, labels=10)
    with pytest.raises(ValueError, match="one integer or 2 of them"):
        game.sample(2, labels=[1, 2, 3])
    grid, columns = game.sample_grid(30, mg.Generator(0))
    assert grid.shape == (30, 1, 8, 8) and columns == 3
    np.testing.assert_array_equal(grid[:3], game.sample(3, z=game.z(3, mg.Generator(0)).numpy(), labels=0))


def test_sampling_needs_a_positive_number_of_samples():
    game, _ = tiny_game("mlp-digits")
    for n in (0, -3, 2.5):
        with pytest.raises(ValueError, match="positive number of samples"):
            game.sample(n)


def test_infogan_sampling_takes_categories_and_continuous_codes():
    game, _ = tiny_game("infogan-digits")
    z = np.zeros((3, game.latent_dim))
    a = game.sample(3, z=z, categories=[0, 1, 2], continuous=np.zeros((3, 2)))
    b = game.sample(3, z=z, categories=[0, 1, 2], continuous=np.ones((3, 2)))
    assert not np.allclose(a, b) and not np.allclose(a[0], a[1])  # both codes reach G
    grid, columns = game.sample_grid(12, mg.Generator(0))
    assert grid.shape == (12, 1, 8, 8) and columns == 4  # 3 categories down, 4 values of c_1 across
    with pytest.raises(ValueError, match="categories must lie"):
        game.sample(1, categories=3)


def test_every_family_is_registered_with_its_options():
    assert {"gan", "cgan", "acgan", "infogan", "bigan"} <= set(GAMES.available())
    assert GAMES.options("cgan") == {"embedding_dim": 16, "projection": False}
    assert set(GAMES.options("infogan")) == {"categories", "continuous", "info_weight", "continuous_weight",
                                             "learn_std", "q_hidden"}
    assert GAMES.options("gan") == {}


@pytest.mark.parametrize("recipe,extra,message", [
    ("infogan-digits", ["game.categories=1", "game.continuous=0"], "categorical code of 2 or more"),
    ("acgan-digits", ["model.pack=2"], "model.pack must be 1"),
    ("cgan-digits", ["data.name=ring8", "model.name=mlp"], "needs labelled data"),
    ("dcgan-digits", ["loss.name=ebgan"], "set game.name = 'ebgan'"),
    ("dcgan-digits", ["data.name=photos", "data.image_size=20"], "DCGAN supports image sizes .* got 20"),
    ("bigan-digits", ["loss.name=began"], "set game.name = 'began'"),
    ("ebgan-digits", ["loss.name=began"], "game 'ebgan' cannot use it"),
    ("ebgan-digits", ["loss.name=hinge"], "set loss.name = 'ebgan'"),
    ("began-digits", ["loss.name=hinge"], "set loss.name = 'began'"),
    ("began-digits", ["game.energy=l2"], "game.energy must be one of 'mse', 'l1', got 'l2'"),
    ("ebgan-digits", ["model.pack=2"], "model.pack must be 1"),
    ("bigan-digits", ["model.pack=2"], "model.pack must be 1"),
])
def test_a_family_refuses_settings_it_cannot_play(recipe, extra, message):
    with pytest.raises(cfg.ConfigError, match=message):  # when the configuration is made, or the game built
        config = cfg.apply_overrides(cfg.load_recipe(recipe), extra)
        build_game(config, build_data(config))


def test_the_nonsaturating_loss_is_what_the_families_use_by_default():
    papers = {"cyclegan-photos": losses.LSGANLoss}  # a family whose paper plays another loss, by its recipe
    for recipe in FAMILIES.values():
        game, _ = tiny_game(recipe)
        expected = papers.get(recipe, losses.NonSaturatingLoss)
        assert isinstance(game.loss, expected) or game.loss.game == game.name  # or its own loss
