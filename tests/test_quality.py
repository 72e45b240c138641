"""The quality the shipped recipes must reach, trained in full (``pytest -m slow``; minutes each).

``pytest -m slow tests/test_quality.py -rP`` also shows the measured figures.
"""

import functools

import numpy as np
import pytest

import minigan as mg
from minigan.data import digits
from minigan.metrics import (label_accuracy, latent_recovery, load_digits_classifier, mode_coverage,
                             nearest_neighbour_accuracy, reconstruction_error)
from minigan.runner import evaluate_game
from minigan.train import config as cfg
from minigan.train.trainer import Trainer

pytestmark = pytest.mark.slow


@functools.cache
def trained(recipe: str, seed: int) -> Trainer:
    trainer = Trainer(cfg.apply_overrides(cfg.load_recipe(recipe), [f"train.seed={seed}"]))
    for _ in range(trainer.config["train"]["steps"]):
        trainer.train_step()
    return trainer


def toy_scores(recipe: str, seed: int) -> dict:
    trainer = trained(recipe, seed)
    samples = trainer.game.sample(2500, mg.Generator(1000 + seed))
    return mode_coverage(samples, trainer.data.toy.centres, trainer.data.toy.std)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ring8_covers_the_modes_with_high_quality_samples(seed):
    scores = toy_scores("ring8", seed)
    print(f"ring8 seed {seed}: {scores}")
    assert scores["modes_covered"] >= 7 and scores["high_quality_fraction"] >= 0.8, scores


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wgan_gp_covers_the_grid(seed):
    scores = toy_scores("wgan-gp-grid25", seed)
    print(f"wgan-gp-grid25 seed {seed}: {scores}")
    assert scores["modes_covered"] >= 23, scores


def test_dcgan_digits_are_recognisable_and_diverse():
    from sklearn.linear_model import LogisticRegression

    real = digits("all")
    classifier = LogisticRegression(max_iter=2000).fit(real.images.reshape(len(real), -1), real.labels)
    samples = trained("dcgan-digits", 0).game.sample(1000, mg.Generator(7))
    probabilities = classifier.predict_proba(samples.reshape(1000, -1))
    confident = probabilities.max(axis=1) > 0.8
    shares = np.bincount(probabilities.argmax(axis=1), minlength=10) / 1000
    print(f"dcgan-digits: confident {confident.mean():.3f}, class shares {shares.min():.3f}-{shares.max():.3f}")
    assert confident.mean() >= 0.8, confident.mean()
    assert shares.min() > 0 and shares.max() <= 0.2, shares


def class_scores(recipe: str, seed: int = 0) -> dict:
    """On 1,000 samples (100 asked for each class, or 1,000 plain ones binned by the class the classifier reads)."""
    game = trained(recipe, seed).game
    names = ["class_fd", *{"labels": ["label_accuracy"], "categories": ["code_nmi"]}.get(game.condition, [])]
    metrics = evaluate_game(game, n=1000, metrics=names, seed=seed)["metrics"]
    return {name: result.get("accuracy", result.get("nmi", result.get("mean"))) for name, result in metrics.items()}


@pytest.mark.parametrize("recipe", ["cgan-digits", "acgan-digits"])
def test_conditional_digits_show_the_class_asked_for_and_each_class_looks_real(recipe):
    scores, unconditional = class_scores(recipe), class_scores("dcgan-digits")
    print(f"{recipe}: label accuracy {scores['label_accuracy']:.3f}, per-class FD {scores['class_fd']:.3f} "
          f"(dcgan-digits: {unconditional['class_fd']:.3f}, "
          f"ratio {scores['class_fd'] / unconditional['class_fd']:.2f})")
    assert scores["label_accuracy"] >= 0.9, scores
    assert scores["class_fd"] <= 3 * unconditional["class_fd"], (scores, unconditional)


def test_infogan_categorical_code_captures_the_digit_class():
    nmis = [class_scores("infogan-digits", seed)["code_nmi"] for seed in (0, 1, 2)]
    print(f"infogan-digits: NMI(code; digit) {', '.join(f'{v:.3f}' for v in nmis)}, mean {np.mean(nmis):.3f}")
    assert np.mean(nmis) >= 0.5, nmis


def encoder_scores(game, seed: int) -> dict:
    """What BiGAN's E keeps: the digit of its codes by 1-NN (train split -> test split), the reconstructions
    G(E(x)) of the test digits (their error, and how often the classifier reads the true digit in them), and
    the latents of 1,000 samples read back, E(G(z)) against z."""
    train, test = digits("train"), digits("test")
    reconstructions = game.reconstruct(test.images)
    latents = game.z(1000, mg.Generator(1000 + seed)).numpy()
    return {"nearest_neighbour": nearest_neighbour_accuracy(game.encode(train.images), train.labels,
                                                            game.encode(test.images), test.labels)["accuracy"],
            "reconstruction_mse": reconstruction_error(test.images, reconstructions)["mse"],
            "reconstruction_class": label_accuracy(test.labels,
                                                   load_digits_classifier().probabilities(reconstructions))["accuracy"],
            "latent_recovery": latent_recovery(latents, game.encode(game.sample(1000, z=latents)))["correlation"]}


def test_bigan_encoder_keeps_the_digit_and_partly_inverts_the_generator():
    """Chance is 0.1 for the reconstructions' class and 0 for the latent recovery, which an untrained E scores.
    The 1-NN accuracy alone says little: an untrained E, a random projection, already scores about 0.92."""
    scores = [encoder_scores(trained("bigan-digits", seed).game, seed) for seed in (0, 1, 2)]
    mean = {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}
    for seed, s in enumerate(scores):
        print(f"bigan-digits seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in s.items()))
    print("bigan-digits mean: " + ", ".join(f"{k} {v:.3f}" for k, v in mean.items()))
    assert mean["nearest_neighbour"] >= 0.8, mean
    assert mean["reconstruction_class"] >= 0.3 and mean["latent_recovery"] >= 0.3, mean
