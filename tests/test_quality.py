"""The quality the shipped recipes must reach, trained in full (``pytest -m slow``; minutes each).

``pytest -m slow tests/test_quality.py -rP`` also shows the measured figures.
"""

import numpy as np
import pytest

import minigan as mg
from minigan.data import digits
from minigan.metrics import mode_coverage
from minigan.train import config as cfg
from minigan.train.trainer import Trainer

pytestmark = pytest.mark.slow


def trained(recipe: str, seed: int) -> Trainer:
    trainer = Trainer(cfg.apply_overrides(cfg.load_recipe(recipe), [f"train.seed={seed}"]))
    for _ in range(trainer.config["train"]["steps"]):
        trainer.train_step()
    return trainer


def toy_scores(recipe: str, seed: int) -> dict:
    trainer = trained(recipe, seed)
    z = mg.randn(2500, trainer.latent_dim, generator=mg.Generator(1000 + seed))
    return mode_coverage(trainer.samples(z), trainer.data.toy.centres, trainer.data.toy.std)


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
    trainer = trained("dcgan-digits", 0)
    samples = trainer.samples(mg.randn(1000, trainer.latent_dim, generator=mg.Generator(7)))
    probabilities = classifier.predict_proba(samples.reshape(1000, -1))
    confident = probabilities.max(axis=1) > 0.8
    shares = np.bincount(probabilities.argmax(axis=1), minlength=10) / 1000
    print(f"dcgan-digits: confident {confident.mean():.3f}, class shares {shares.min():.3f}-{shares.max():.3f}")
    assert confident.mean() >= 0.8, confident.mean()
    assert shares.min() > 0 and shares.max() <= 0.2, shares
