import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.train import config as cfg

EXPECTED_RECIPES = {"dcgan-digits", "mlp-digits", "wgan-digits", "wgan-gp-digits", "lsgan-digits", "sngan-digits",
                    "ring8", "grid25", "wgan-gp-grid25"}


def test_every_promised_recipe_ships_and_is_complete():
    assert EXPECTED_RECIPES <= set(cfg.recipe_names())
    for name in cfg.recipe_names():
        config = cfg.load_recipe(name)
        assert set(config) == set(cfg.DEFAULTS) | {"recipe"}
        for section, values in cfg.DEFAULTS.items():
            assert set(config[section]) == set(values)
        assert cfg.describe_recipes()[name], f"recipe {name} has no description"


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
])
def test_bad_overrides_are_named(override, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.apply_overrides(cfg.load_recipe("ring8"), [override])


def test_unknown_recipe_lists_the_available_ones():
    with pytest.raises(cfg.ConfigError, match="ring8"):
        cfg.load_recipe("ring9")
