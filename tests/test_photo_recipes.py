"""The unconditional colour recipes on the bundled photographs: dcgan-photos (also on a folder of the user's own
images, as its description says) and sagan-photos (the settings of Zhang et al. 2019, and its attention.png)."""

import json
import re

import numpy as np
import pytest
from PIL import Image

import minigan as mg
from minigan import cli
from minigan.data import photos
from minigan.metrics import colour_distance
from minigan.runner import load_game, photo_scores, run_training
from minigan.train import config as cfg

TINY = ["model.g_width=4", "model.d_width=4", "model.latent_dim=4", "data.batch_size=4", "train.n_samples=4",
        "train.sample_every=2", "train.checkpoint_every=2", "train.log_every=1"]


def description_overrides(recipe: str) -> list[str]:
    """The ``--set key=value`` pairs a recipe's description tells the user to give."""
    return re.findall(r"--set (\S+)", cfg.describe_recipes()[recipe])


def test_dcgan_photos_trains_on_a_folder_of_the_users_images_as_its_description_says(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "mine" / "more").mkdir(parents=True)
    for i, (h, w) in enumerate([(40, 48), (32, 32), (64, 50), (36, 36), (33, 70)]):
        folder = tmp_path / "mine" / ("more" if i % 2 else "")
        Image.fromarray(rng.integers(0, 256, (h, w, 3)).astype(np.uint8)).save(folder / f"{i}.png")
    given = [s.replace("DIR", str(tmp_path / "mine")) for s in description_overrides("dcgan-photos")]
    assert given == ["data.name=image_folder", f"data.root={tmp_path / 'mine'}", "data.image_size=32",
                     "data.channels=3"]
    config = cfg.apply_overrides(cfg.load_recipe("dcgan-photos"), [*given, *TINY, "train.steps=3"])
    paths = run_training(config, tmp_path / "run", progress=False)
    with Image.open(paths["samples"]) as picture:
        assert picture.mode == "RGB"
    assert "attention" not in paths


def test_minigan_eval_scores_a_generator_of_the_photos_against_the_held_out_crops(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "dcgan-photos", "--steps", "2", "--out", str(out), "--quiet",
                     *sum([["--set", s] for s in TINY], [])]) == 0
    checkpoint = str(out / "checkpoint.safetensors")
    capsys.readouterr()
    assert cli.main(["eval", checkpoint, "-o", str(tmp_path / "eval.json")]) == 0
    shown = capsys.readouterr().out
    assert "gan on the held-out crops of the photographs (dcgan-photos, step 2): 450 images" in shown
    game, _ = load_game(checkpoint)
    scores = json.loads((tmp_path / "eval.json").read_text())["held_out"]
    assert scores == pytest.approx(photo_scores(game, 0))
    held_out = photos("test").images
    assert scores["colour_tv"] == pytest.approx(colour_distance(held_out, game.sample(450, mg.Generator(1000)))["tv"])
    assert 0.5 <= scores["patch_c2st"] <= 1  # after two steps: easy to tell apart
    assert cli.main(["eval", checkpoint, "--metrics", "fd"]) == 2
    assert "is scored on their held-out images; leave the metrics out" in capsys.readouterr().err


def test_sagan_photos_has_the_papers_settings():
    config = cfg.load_recipe("sagan-photos")
    model, optim = config["model"], config["optim"]
    assert config["data"]["name"] == "photos" and config["loss"]["name"] == "hinge"
    assert model["self_attention"] and model["spectral_norm"] and not model["d_batch_norm"]
    assert (optim["g_lr"], optim["d_lr"], optim["beta1"], optim["beta2"]) == (1e-4, 4e-4, 0.0, 0.9)


def test_a_sagan_run_draws_the_attention_and_the_summary_lists_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "sagan-photos", "--steps", "2", "--out", str(out), "--quiet",
                     *sum([["--set", s] for s in TINY], [])]) == 0
    summary = capsys.readouterr().out
    assert f"attention.png    where G's self-attention looks from a few query pixels ({out / 'attention.png'})" \
        in summary
    with Image.open(out / "attention.png") as picture:
        assert picture.size == (800, 640)  # 4 samples, each beside the maps of 4 query pixels
