"""Evaluating generators and checkpoints: the metrics that fit the data and the family, sample counts, table, JSON."""

import json

import numpy as np
import pytest

import minigan as mg
from minigan import losses
from minigan.metrics import (CLASS_METRICS, IMAGE_METRICS, TOY_METRICS, evaluate_generator, format_table,
                             gaussian_mmd2, write_eval_json)
from minigan.runner import evaluate_game
from minigan.runner.table import recipe_tables, update_between_markers
from minigan.train.config import apply_overrides, load_recipe
from minigan.train.setup import build_data, build_game


def untrained(recipe, *overrides):
    config = apply_overrides(load_recipe(recipe), list(overrides))
    return build_game(config, build_data(config))


@pytest.fixture(scope="module")
def toy_results():
    game = untrained("ring8", "model.pack=1")  # DRS needs a D that judges single samples
    return evaluate_game(game, n=600, seed=1)


@pytest.fixture(scope="module")
def image_results():
    game = untrained("dcgan-digits", "model.g_width=16", "model.d_width=16")
    return evaluate_game(game, n=400, seed=1)


def test_toy_data_get_the_toy_metrics_with_and_without_rejection_sampling(toy_results):
    assert list(toy_results["metrics"]) == [m for m in TOY_METRICS if m != "drs"]
    assert toy_results["n_generated"] == 600 and toy_results["n_real"] == 600
    assert toy_results["metrics"]["mode_coverage"]["n_generated"] == 600
    drs = toy_results["drs"]
    assert drs["n_accepted"] == 600 and drs["n_proposed"] >= 600 and 0 < drs["acceptance_rate"] <= 1
    assert list(drs["metrics"]) == list(toy_results["metrics"])


def test_image_data_get_the_image_metrics_with_sample_counts(image_results):
    metrics = image_results["metrics"]
    assert list(metrics) == [m for m in IMAGE_METRICS if m != "drs"] + ["class_fd"]
    assert image_results["features"] == "digits classifier"
    assert (metrics["fd"]["n_real"], metrics["fd"]["n_generated"]) == (1438, 400)
    assert metrics["precision_recall"]["n_real"] == metrics["precision_recall"]["n_generated"] == 400
    assert metrics["fd_infinity"]["sizes"][-1] == 400
    assert metrics["fd"]["fd"] > 10  # an untrained generator is far from digits
    assert "drs" in image_results and "metrics" in image_results["drs"]


def test_table_names_every_metric_and_its_counts(toy_results, image_results):
    toy, images = format_table(toy_results), format_table(image_results)
    for text in ("modes covered", "high-quality fraction", "KL(mode histogram", "MMD²", "C2ST", "with DRS", "DRS:"):
        assert text in toy
    for text in ("Fréchet distance (digits classifier)", "FD∞", "KID (digits classifier)",
                 "Inception-style score (digits classifier)", "precision (k=3)", "coverage (k=5)", "1438", "400"):
        assert text in images
    assert "FID" not in images  # not Inception features


def test_fid_is_named_so_only_on_inception_features(image_results):
    inception = format_table(dict(image_results, features="Inception-v3 pool3"))
    assert "FID" in inception and "Inception Score" in inception and "digits classifier" not in inception
    assert "Fréchet distance (my net)" in format_table(dict(image_results, features="my net"))


def test_custom_features_are_used_and_named():
    game = untrained("dcgan-digits", "model.g_width=16", "model.d_width=16")

    def mean_brightness(images):
        return images.reshape(len(images), -1).mean(1, keepdims=True)
    mean_brightness.name = "mean brightness"
    result = evaluate_game(game, n=200, metrics=["fd"], features=mean_brightness)
    assert result["features"] == "mean brightness"
    real, fake = game.data.samples, game.sample(200, mg.Generator(0))
    assert result["metrics"]["fd"]["fd"] == pytest.approx(
        (real.mean() - fake.mean()) ** 2 + (real.reshape(len(real), -1).mean(1).std(ddof=1)
                                             - fake.reshape(200, -1).mean(1).std(ddof=1)) ** 2)


def test_metrics_can_be_chosen_and_unfitting_ones_are_refused():
    game = untrained("ring8")
    result = evaluate_game(game, n=300, metrics=["mmd"])
    assert list(result["metrics"]) == ["mmd"] and "drs" not in result
    with pytest.raises(ValueError, match="do not apply to toy data"):
        evaluate_game(game, n=300, metrics=["fd"])


def test_same_seed_same_results():
    game = untrained("ring8")
    runs = [evaluate_game(game, n=300, metrics=["mode_coverage", "mmd"], seed=4) for _ in range(2)]
    assert json.dumps(runs[0]) == json.dumps(runs[1])  # as text, where NaN equals NaN


def test_write_eval_json_is_atomic_and_strict(tmp_path, toy_results):
    path = tmp_path / "eval.json"
    write_eval_json(toy_results, path)
    loaded = json.loads(path.read_text())
    assert loaded["metrics"]["mode_coverage"]["kl_uniform"] is None  # NaN (no high-quality sample) -> null
    assert loaded["n_generated"] == 600
    with pytest.raises(TypeError):
        write_eval_json({"not serialisable": object()}, path)
    assert json.loads(path.read_text()) == loaded  # the earlier file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["eval.json"]  # no temporary file left


def test_recipe_table_fills_the_markers(tmp_path, toy_results, image_results):
    runs = [dict(toy_results, recipe="ring8", step=2), dict(image_results, recipe="dcgan-digits", step=2)]
    text = recipe_tables(runs, "abc123", 600, 1)
    assert "`abc123`" in text and "| ring8 | 2 | 600 | 600 |" in text and "| dcgan-digits | 2 | 400 | 1438 |" in text
    doc = tmp_path / "doc.md"
    doc.write_text("# Title\n<!-- recipe-table:start -->\nold\n<!-- recipe-table:end -->\nafter\n")
    update_between_markers(doc, text)
    content = doc.read_text()
    assert "old" not in content and "abc123" in content and content.endswith("<!-- recipe-table:end -->\nafter\n")


@pytest.mark.skipif(not hasattr(losses, "available"), reason="the GAN losses are not in minigan.losses yet")
def test_evaluate_checkpoint_of_a_tiny_training_run(tmp_path):
    from minigan.runner import evaluate_checkpoint
    from minigan.train.trainer import Trainer

    config = apply_overrides(load_recipe("ring8"), ["train.steps=2", "optim.ema=0.9"])
    trainer = Trainer(config)
    for _ in range(2):
        trainer.train_step()
    path = tmp_path / "checkpoint.safetensors"
    mg.save(trainer.state_dict(), path)
    result = evaluate_checkpoint(path, n=500, seed=0)
    assert result["step"] == 2 and result["recipe"] == "ring8" and result["data"] == "ring8"
    assert result["n_generated"] == 500 and set(result["metrics"]) == {"mode_coverage", "mmd", "c2st"}
    assert "ring8 (recipe ring8, step 2)" in format_table(result)
    again = evaluate_checkpoint(path, n=500, metrics=["mode_coverage", "mmd"], seed=0)
    assert json.dumps(again["metrics"]) == json.dumps({k: result["metrics"][k] for k in again["metrics"]})
    # the EMA generator was evaluated: its samples give the same MMD
    ema_samples = trainer.game.sample(500, mg.Generator(0))
    assert "G" in trainer.game.averaged
    real = trainer.data.toy.sample(500, np.random.default_rng(1))
    assert result["metrics"]["mmd"] == gaussian_mmd2(real, ema_samples)


def test_conditional_families_get_label_accuracy_and_per_class_distance():
    game = untrained("cgan-digits", "model.g_width=8", "model.d_width=8")
    result = evaluate_game(game, n=200, metrics=["label_accuracy", "class_fd"], seed=2)
    accuracy, per_class = result["metrics"]["label_accuracy"], result["metrics"]["class_fd"]
    assert accuracy["n_generated"] == 200 and set(accuracy["per_class"]) == set(range(10))
    assert per_class["n_generated"] == 200 and all(generated == 20 for _, generated in per_class["counts"].values())
    assert "label accuracy" in format_table(result) and "per-class" in format_table(result)
    # the generator is run for the labels asked for: its accuracy is that of the digits classifier on them
    from minigan.metrics import load_digits_classifier

    labels = np.arange(200) % 10
    samples = game.sample(200, mg.Generator(5), labels=labels)
    predicted = load_digits_classifier().probabilities(samples).argmax(1)
    assert result["metrics"]["label_accuracy"]["accuracy"] == (predicted == labels).mean()
    with pytest.raises(ValueError, match="do not apply"):
        evaluate_game(game, n=100, metrics=["code_nmi"])


def test_infogan_gets_the_mutual_information_of_its_code():
    game = untrained("infogan-digits", "model.g_width=8", "model.d_width=8")
    result = evaluate_game(game, n=100, metrics=["code_nmi"], seed=0)
    assert 0 <= result["metrics"]["code_nmi"]["nmi"] <= 1 and "label_accuracy" not in result["metrics"]
    with pytest.raises(ValueError, match="do not apply"):
        evaluate_game(game, n=100, metrics=["label_accuracy"])


def test_every_class_metric_is_named_in_the_table_order():
    assert set(CLASS_METRICS) == {"class_fd", "label_accuracy", "code_nmi"}


def test_a_generator_is_evaluated_through_its_sampling_function_alone():
    source = untrained("ring8").data
    centres = source.toy.centres

    def perfect(n, generator):  # the true distribution: every mode covered
        return source.toy.sample(n, np.random.default_rng(0))

    result = evaluate_generator(perfect, source, n=2500, metrics=["mode_coverage"])
    assert result["metrics"]["mode_coverage"]["modes_covered"] == len(centres)


def test_drs_on_the_toy_grid_raises_the_high_quality_fraction_and_loses_no_mode():
    """A generator that misses no mode but spreads too wide and leaks a background, judged by the exact logit
    log p_data/p_g: rejection sampling keeps the modes and drops what lies off them."""
    source = build_data(load_recipe("grid25"))
    centres, std, background = source.toy.centres, source.toy.std, 0.2

    def sample(n, generator):
        rng = generator.rng
        points = centres[rng.integers(0, len(centres), n)] + 3 * std * rng.standard_normal((n, 2))
        stray = rng.random(n) < background
        points[stray] = rng.uniform(-3, 3, (stray.sum(), 2))
        return points.astype(np.float32)

    def log_density(x, scale):
        d2 = ((np.asarray(x, np.float64)[:, None, :] - centres[None]) ** 2).sum(-1)
        return np.log(np.exp(-d2 / (2 * (scale * std) ** 2)).mean(1) / (2 * np.pi * (scale * std) ** 2))

    def critic(x):
        p_g = (1 - background) * np.exp(log_density(x, 3)) + background / 36
        return log_density(x, 1) - np.log(p_g)

    results = evaluate_generator(sample, source, n=2000, metrics=["mode_coverage", "drs"], seed=0, critic=critic)
    plain, drs = results["metrics"]["mode_coverage"], results["drs"]["metrics"]["mode_coverage"]
    assert drs["high_quality_fraction"] > plain["high_quality_fraction"] + 0.3
    assert drs["modes_covered"] == plain["modes_covered"] == 25
    assert results["drs"]["calibration"]["real"].endswith("fresh samples of the true distribution")


def test_drs_calibrates_on_held_out_digits_never_on_the_training_images():
    from minigan.metrics.evaluate import _calibration_set

    digits = build_data(load_recipe("dcgan-digits"))
    real, what = _calibration_set(digits, digits.samples)
    assert real is digits.unseen and len(real) == 359 and "held-out" in what
    assert not (real[:, None] == digits.samples[None, :50]).all(axis=(2, 3, 4)).any()  # none is a training image
    no_split = build_data(apply_overrides(load_recipe("dcgan-digits"), []))
    no_split.unseen = None
    assert _calibration_set(no_split, no_split.samples)[1].endswith("(the data has no held-out split)")
