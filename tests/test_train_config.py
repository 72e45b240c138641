import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.train import config as cfg

EXPECTED_RECIPES = {"dcgan-digits", "mlp-digits", "wgan-digits", "wgan-gp-digits", "lsgan-digits", "sngan-digits",
                    "ring8", "grid25", "wgan-gp-grid25", "cgan-digits", "acgan-digits", "infogan-digits",
                    "bigan-digits", "vaegan-digits", "catgan-digits", "stylegan-digits", "ebgan-digits",
                    "began-digits", "pix2pix-colour", "pix2pix-superres", "cyclegan-photos",
                    "dcgan-photos", "sagan-photos", "srgan-photos"}


def test_every_promised_recipe_ships_and_is_complete():
    assert EXPECTED_RECIPES <= set(cfg.recipe_names())
    for name in cfg.recipe_names():
        config = cfg.load_recipe(name)
        assert set(config) == set(cfg.DEFAULTS) | {"recipe"}
        for section, values in cfg.DEFAULTS.items():
            assert set(values) <= set(config[section])
            if section in cfg.OWNERS and config[section]["name"] != "none":
                owned = cfg.OWNERS[section].options(config[section]["name"])
                assert set(config[section]) == set(values) | set(owned)
        assert cfg.describe_recipes()[name], f"recipe {name} has no description"


def test_a_component_owns_its_keys_and_choosing_another_brings_its_own():
    lsgan = cfg.apply_overrides(cfg.load_recipe("ring8"), ["loss.name=lsgan", "loss.a=-1", "loss.b=1", "loss.c=0"])
    assert lsgan["loss"] == {"name": "lsgan", "a": -1.0, "b": 1.0, "c": 0.0}
    smoothed = cfg.apply_overrides(cfg.load_recipe("grid25"), ["loss.real_label=0.9"])
    assert smoothed["loss"] == {"name": "nonsaturating", "real_label": 0.9}
    assert cfg.apply_overrides(smoothed, ["loss.name=minimax"])["loss"] == {"name": "minimax", "real_label": 0.9}
    assert cfg.apply_overrides(smoothed, ["loss.name=hinge"])["loss"] == {"name": "hinge"}
    assert cfg.apply_overrides(cfg.load_recipe("ring8"), ["loss.name=wgan"])["loss"]["name"] == "wasserstein"
    dragan = cfg.apply_overrides(cfg.load_recipe("ring8"), ["penalty.c=0.25", "penalty.name=dragan"])  # names first
    assert dragan["penalty"] == {"name": "dragan", "every": 1, "weight": 10.0, "k": 1.0, "c": 0.25}
    projection = cfg.apply_overrides(cfg.load_recipe("dcgan-digits"), ["game.name=cgan", "game.projection=true"])
    assert projection["game"] == {"name": "cgan", "embedding_dim": 16, "projection": True}


def test_a_saved_configuration_is_completed_with_keys_added_since():
    config = cfg.load_recipe("infogan-digits")
    del config["game"]["q_hidden"], config["optim"]["weight_clip"]
    completed = cfg.complete(config)
    assert completed["game"]["q_hidden"] == 128 and completed["optim"]["weight_clip"] == 0.0
    assert completed["game"]["categories"] == 10


@given(lr=st.floats(1e-6, 1.0), steps=st.integers(1, 10**6), name=st.sampled_from(["hinge", "lsgan"]),
       flag=st.booleans())
def test_overrides_are_typed_like_the_defaults(lr, steps, name, flag):
    config = cfg.apply_overrides(cfg.load_recipe("ring8"), [
        f"optim.g_lr={lr!r}", f"train.steps={steps}", f"loss.name={name}", f"model.spectral_norm={str(flag).lower()}"])
    assert config["optim"]["g_lr"] == lr and config["train"]["steps"] == steps
    assert config["loss"]["name"] == name and config["model"]["spectral_norm"] is flag


def test_an_integer_is_accepted_for_a_float_key_and_lists_parse():
    config = cfg.apply_overrides(cfg.load_recipe("ring8"), ["optim.d_lr=1", "model.g_hidden=[8, 8]"])
    assert config["optim"]["d_lr"] == 1.0 and isinstance(config["optim"]["d_lr"], float)
    assert config["model"]["g_hidden"] == [8, 8]


@pytest.mark.parametrize("override,message", [
    ("optim.glr=1", "unknown key optim.glr"),
    ("optimiser.g_lr=1", "unknown section"),
    ("optim.g_lr=fast", "must be float"),
    ("train.steps=1.5", "must be int"),
    ("model.spectral_norm=1", "must be bool"),
    ("no-equals-sign", "section.key=value"),
    ("optim.g_lr=-1e-4", r"optim.g_lr must be in \(0, inf\), got -0.0001"),
    ("data.batch_size=0", r"data.batch_size must be in \[1, inf\), got 0"),
    ("optim.ema=1", r"optim.ema must be in \[0, 1\), got 1.0"),
    ("optim.ema=-0.5", r"optim.ema must be in \[0, 1\)"),
    ("model.latent_dim=0", r"model.latent_dim must be in \[1, inf\)"),
    ("train.checkpoint_every=0", r"train.checkpoint_every must be in \[1, inf\)"),
    ("loss.real_label=1.5", r"loss.real_label must be in \(0, 1\]"),
    ("loss.a=1", "unknown key loss.a; keys of loss 'nonsaturating': name, real_label"),
    ("loss.name=hinj", "loss.name: unknown loss 'hinj'; available:"),
    ("penalty.name=gpp", "penalty.name: unknown penalty 'gpp'; available: dragan, gp, r1, r2, none"),
    ("penalty.weight=-1", "unknown key penalty.weight; keys of penalty 'none'"),
    ("game.name=stylegann", "game.name: unknown game 'stylegann'"),
    ("game.categories=10", "unknown key game.categories; keys of game 'gan': name"),
    ("model.g_hidden=[8, 0]", "model.g_hidden must be a list of positive integers"),
    ("model.name=resnet", "model.name must be one of dcgan, mlp"),
    ("data.name=cifar", "data.name must be one of digits,"),
    ("train.eval_samples=1", r"train.eval_samples must be in \[2, inf\)"),
    ("loss.name=began", "loss.name = 'began' reads what only game 'began''s discriminator gives"),
])
def test_bad_overrides_are_named(override, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.apply_overrides(cfg.load_recipe("grid25"), [override])


def test_unknown_recipe_lists_the_available_ones():
    with pytest.raises(cfg.ConfigError, match="ring8"):
        cfg.load_recipe("ring9")
