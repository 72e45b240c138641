"""The quality the shipped recipes must reach, trained in full (``pytest -m slow``; minutes each).

``pytest -m slow tests/test_quality.py -rP`` also shows the measured figures.
"""

import functools

import numpy as np
import pytest

import minigan as mg
from minigan.data import digits
from minigan.metrics import (frechet_distance, label_accuracy, latent_recovery, load_digits_classifier, mode_coverage,
                             nearest_neighbour_accuracy, normalized_mutual_information, reconstruction_error)
from minigan.runner import evaluate_game, photo_scores
from minigan.train import config as cfg
from minigan.train.trainer import Trainer

pytestmark = pytest.mark.slow


# The digit families are compared with a DCGAN trained as they are (3,000 steps, both learning rates 2e-4), as
# dcgan-digits was before its tuning gave it twice the steps and a faster G.
DCGAN_REFERENCE = ("train.steps=3000", "optim.g_lr=2e-4")


def untrained(recipe: str, seed: int, overrides: tuple = ()) -> Trainer:
    """The recipe's trainer with ``train.seed = seed`` and ``overrides``, before any step."""
    return Trainer(cfg.apply_overrides(cfg.load_recipe(recipe), [f"train.seed={seed}", *overrides]))


@functools.cache
def trained(recipe: str, seed: int, overrides: tuple = ()) -> Trainer:
    trainer = untrained(recipe, seed, overrides)
    for _ in range(trainer.config["train"]["steps"]):
        trainer.train_step()
    return trainer


def toy_scores(recipe: str, seed: int) -> dict:
    trainer = trained(recipe, seed)
    samples = trainer.game.sample(2500, mg.Generator(1000 + seed))
    return mode_coverage(samples, trainer.data.toy.centres, trainer.data.toy.std)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_ring8_covers_every_mode_with_high_quality_samples(seed):
    """PacGAN (Lin et al. 2018, Table 1) reports 7.9 of 8 modes and 95.6% high-quality samples on this ring."""
    scores = toy_scores("ring8", seed)
    print(f"ring8 seed {seed}: {scores}")
    assert scores["modes_covered"] == 8 and scores["high_quality_fraction"] >= 0.94, scores


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


HELD_OUT = len(digits("test"))  # 359: the generated samples are scored at the count of real held-out digits


@functools.cache
def digit_references():
    """A logistic regression fit on the pixels of the train split, and the bundled classifier's features of it."""
    from sklearn.linear_model import LogisticRegression

    train = digits("train")
    regression = LogisticRegression(max_iter=5000).fit(train.images.reshape(len(train), -1), train.labels)
    return regression, load_digits_classifier().features(train.images)


def held_out_scores(images: np.ndarray) -> dict:
    """The Fréchet distance to the train split (features of the bundled classifier; the mean over disjoint sets of
    359 images), the share of images the logistic regression labels with a probability above 0.8, and the share
    of the class it labels most often."""
    regression, train_features = digit_references()
    features = load_digits_classifier().features(images)
    fds = [frechet_distance(features[i:i + HELD_OUT], train_features) for i in range(0, len(images), HELD_OUT)]
    probabilities = regression.predict_proba(images.reshape(len(images), -1))
    shares = np.bincount(probabilities.argmax(axis=1), minlength=10) / len(images)
    return {"fd": float(np.mean(fds)), "confident": float((probabilities.max(axis=1) > 0.8).mean()),
            "largest_class": float(shares.max())}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dcgan_digits_score_like_held_out_digits(seed):
    """At the held-out count, within twice the real test digits' Fréchet distance, and labelled confidently at
    most 5 points less often than they are."""
    real = held_out_scores(digits("test").images)
    fake = held_out_scores(trained("dcgan-digits", seed).game.sample(5 * HELD_OUT, mg.Generator(1000 + seed)))
    print(f"dcgan-digits seed {seed}: " + ", ".join(f"{k} {v:.3f} (real {real[k]:.3f})" for k, v in fake.items()))
    assert fake["fd"] <= 2 * real["fd"] and fake["confident"] >= real["confident"] - 0.05, (fake, real)
    assert fake["largest_class"] <= 0.2, fake


def game_frechet(game, seed: int) -> float:
    """The Fréchet distance of 1,000 samples of the game, in the bundled classifier's features."""
    return evaluate_game(game, n=1000, metrics=["fd"], seed=seed)["metrics"]["fd"]["fd"]


@functools.cache
def frechet(recipe: str, seed: int = 0, overrides: tuple = ()) -> float:
    """:func:`game_frechet` of the recipe trained with ``train.seed = seed`` and ``overrides``."""
    return game_frechet(trained(recipe, seed, overrides).game, seed)


def class_scores(recipe: str, seed: int = 0, overrides: tuple = ()) -> dict:
    """On 1,000 samples (100 asked for each class, or 1,000 plain ones binned by the class the classifier reads)."""
    game = trained(recipe, seed, overrides).game
    names = ["class_fd", *{"labels": ["label_accuracy"], "categories": ["code_nmi"]}.get(game.condition, [])]
    metrics = evaluate_game(game, n=1000, metrics=names, seed=seed)["metrics"]
    return {name: result.get("accuracy", result.get("nmi", result.get("mean"))) for name, result in metrics.items()}


@pytest.mark.parametrize("recipe", ["cgan-digits", "acgan-digits"])
def test_conditional_digits_show_the_class_asked_for_and_each_class_looks_real(recipe):
    scores, unconditional = class_scores(recipe), class_scores("dcgan-digits", 0, DCGAN_REFERENCE)
    print(f"{recipe}: label accuracy {scores['label_accuracy']:.3f}, per-class FD {scores['class_fd']:.3f} "
          f"(reference DCGAN: {unconditional['class_fd']:.3f}, "
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


def test_catgan_discriminator_sorts_the_test_digits_by_their_class_without_labels():
    """NMI between the class D puts each held-out digit in and its true digit (chance 0). The same D untrained
    scores about 0.2: the argmax of a random projection already groups some digits. The samples' Fréchet distance
    is measured as well: an untrained G scores 39.5."""
    test, seeds = digits("test"), (0, 1, 2)
    before = [normalized_mutual_information(untrained("catgan-digits", seed).game.classify(test.images), test.labels)
              for seed in seeds]
    nmis = [normalized_mutual_information(trained("catgan-digits", seed).game.classify(test.images), test.labels)
            for seed in seeds]
    fds = [frechet("catgan-digits", seed) for seed in seeds]
    for seed, nmi, fd, untrained_nmi in zip(seeds, nmis, fds, before):
        print(f"catgan-digits seed {seed}: NMI(D's class; digit) {nmi:.3f} (untrained {untrained_nmi:.3f}), "
              f"FD {fd:.3f}")
    print(f"catgan-digits mean: NMI {np.mean(nmis):.3f} (untrained {np.mean(before):.3f}), FD {np.mean(fds):.3f}")
    assert np.mean(nmis) >= 0.5 > np.mean(before), (nmis, before)
    assert np.mean(fds) <= 2.0, fds


def test_stylegan_samples_are_within_twice_the_frechet_distance_of_dcgan_digits():
    """The Fréchet distance of the style-based generator's samples, against DCGAN_REFERENCE's (seed 0) and against
    the same generator untrained."""
    seeds = (0, 1, 2)
    before = [game_frechet(untrained("stylegan-digits", seed).game, seed) for seed in seeds]
    fds, reference = [frechet("stylegan-digits", seed) for seed in seeds], frechet("dcgan-digits", 0, DCGAN_REFERENCE)
    for seed, fd, fd_before in zip(seeds, fds, before):
        print(f"stylegan-digits seed {seed}: FD {fd:.3f} (untrained {fd_before:.3f})")
    print(f"stylegan-digits mean: FD {np.mean(fds):.3f} (untrained {np.mean(before):.3f}); "
          f"reference DCGAN seed 0: FD {reference:.3f}, ratio {np.mean(fds) / reference:.2f}")
    assert np.mean(fds) <= 2 * reference < np.mean(before), (fds, reference, before)


def digit_scores(game, seed: int) -> dict:
    """Of 1,000 samples, the fraction the bundled classifier reads with a top probability above 0.8 (confident),
    and the share of the samples in the class it reads most often (largest class)."""
    probabilities = load_digits_classifier().probabilities(game.sample(1000, mg.Generator(1000 + seed)))
    shares = np.bincount(probabilities.argmax(axis=1), minlength=10) / len(probabilities)
    return {"confident": float((probabilities.max(axis=1) > 0.8).mean()), "largest_class": float(shares.max())}


@pytest.mark.parametrize("recipe", ["ebgan-digits", "began-digits"])
def test_energy_based_digits_are_confident_and_spread_over_the_classes(recipe):
    """An untrained G is confident too (its one blob reads as one digit), but all of it in one class."""
    seeds = (0, 1, 2)
    scores = [digit_scores(trained(recipe, seed).game, seed) for seed in seeds]
    fresh = [digit_scores(untrained(recipe, seed).game, seed) for seed in seeds]
    mean, before = ({key: float(np.mean([s[key] for s in rows])) for key in rows[0]} for rows in (scores, fresh))
    for seed, s, u in zip(seeds, scores, fresh):
        print(f"{recipe} seed {seed}: confident {s['confident']:.3f}, largest class {s['largest_class']:.3f} "
              f"(untrained {u['confident']:.3f}, {u['largest_class']:.3f})")
    print(f"{recipe} mean: confident {mean['confident']:.3f}, largest class {mean['largest_class']:.3f} "
          f"(untrained {before['confident']:.3f}, {before['largest_class']:.3f})")
    assert mean["confident"] >= 0.7 and mean["largest_class"] <= 0.2 < before["largest_class"], (scores, fresh)


def test_vaegan_samples_are_near_dcgan_digits_and_reconstructions_keep_the_digit():
    """The Fréchet distance of samples from the prior, against DCGAN_REFERENCE's (seed 0), and what E keeps
    (``encoder_scores``: G(mu(x)) of the test digits, their error and the class the classifier reads in them),
    each against the same networks untrained (chance is 0.1 for the class)."""
    seeds = (0, 1, 2)
    games = {seed: untrained("vaegan-digits", seed).game for seed in seeds}
    fresh = [{"fd": game_frechet(games[seed], seed), **encoder_scores(games[seed], seed)} for seed in seeds]
    scores = [{"fd": frechet("vaegan-digits", seed), **encoder_scores(trained("vaegan-digits", seed).game, seed)}
              for seed in seeds]
    mean = {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}
    before = {key: float(np.mean([s[key] for s in fresh])) for key in fresh[0]}
    reference = frechet("dcgan-digits", 0, DCGAN_REFERENCE)
    for seed, (s, u) in enumerate(zip(scores, fresh)):
        print(f"vaegan-digits seed {seed}: " + ", ".join(f"{k} {v:.3f} (untrained {u[k]:.3f})" for k, v in s.items()))
    print("vaegan-digits mean: " + ", ".join(f"{k} {v:.3f} (untrained {before[k]:.3f})" for k, v in mean.items()))
    print(f"reference DCGAN seed 0: FD {reference:.3f}, ratio {mean['fd'] / reference:.2f}")
    assert mean["fd"] <= 2 * reference < before["fd"], (scores, reference, fresh)
    assert mean["reconstruction_class"] >= 0.8 > before["reconstruction_class"], (scores, fresh)
    assert mean["reconstruction_mse"] < before["reconstruction_mse"] / 4, (scores, fresh)


# The image-to-image and colour recipes take 5 to 15 minutes each on 2 cores: one seed each.

@pytest.mark.parametrize("recipe", [
    "pix2pix-colour",
    pytest.param("pix2pix-superres", marks=pytest.mark.xfail(strict=True, reason=(
        "measured -0.02 dB over bilinear upsampling after 4,000 steps (+0.37 after 2,000) at the paper's "
        "lambda = 100: the adversarial term trades PSNR for texture, and these held-out columns leave little "
        "to gain"))),
])
def test_pix2pix_beats_the_plain_baseline_by_a_decibel_on_the_held_out_columns(recipe):
    """PSNR over the held-out region (columns 480..639 of both photographs) against the task's plain
    baseline (the grey input; the bilinear input), and the PatchGAN two-sample test of (input, output) pairs
    against (input, target) pairs, reported (0.5 is chance), with the same networks untrained."""
    s, u = trained(recipe, 0).game.held_out_scores(0), untrained(recipe, 0).game.held_out_scores(0)
    print(f"{recipe} seed 0: PSNR {s['psnr']:.2f} dB (baseline {s['baseline_psnr']:.2f}, gain {s['psnr_gain']:+.2f}; "
          f"per crop {s['image_psnr']:.2f} vs {s['image_baseline_psnr']:.2f}), PatchGAN C2ST {s['patch_c2st']:.3f}; "
          f"untrained: gain {u['psnr_gain']:+.2f}, C2ST {u['patch_c2st']:.3f}")
    assert s["psnr_gain"] >= 1.0, s


def test_srgan_is_sharper_than_pix2pix_and_bilinear_and_keeps_their_psnr():
    """PSNR and sharpness of SRGAN's outputs on the held-out pairs, beside pix2pix-superres's and the bilinear
    input's: SRGAN's outputs are sharper than both, no sharper than the targets, and lose at most 2 dB
    of PSNR to the bilinear input."""
    s, p = trained("srgan-photos", 0).game.held_out_scores(0), trained("pix2pix-superres", 0).game.held_out_scores(0)
    for name, scores in (("srgan-photos", s), ("pix2pix-superres", p)):
        print(f"{name} seed 0: PSNR {scores['psnr']:.2f} dB (bilinear {scores['baseline_psnr']:.2f}), sharpness "
              f"{scores['sharpness']:.4f} (bilinear {scores['baseline_sharpness']:.4f}, targets "
              f"{scores['target_sharpness']:.4f}), PatchGAN C2ST {scores['patch_c2st']:.3f}")
    assert s["baseline_sharpness"] < s["sharpness"] <= s["target_sharpness"], s
    assert s["sharpness"] > p["sharpness"], (s, p)
    assert s["psnr_gain"] >= -2.0, s  # measured: -0.89 dB with two threads, -1.50 with one


def test_cyclegan_round_trips_the_held_out_crops_and_its_translations_pass_for_the_other_photograph():
    """On the held-out crops: the cycle reconstruction error of A -> B -> A and B -> A -> B, and the share of
    G(a) that a PatchGAN trained on real training crops of the two photographs labels as B (at least 80%)."""
    s = trained("cyclegan-photos", 0).game.held_out_scores(0)
    u = untrained("cyclegan-photos", 0).game.held_out_scores(0)
    print("cyclegan-photos seed 0: " + ", ".join(f"{k} {v:.3f} (untrained {u[k]:.3f})" for k, v in s.items()
                                                 if isinstance(v, float)))
    assert s["a_to_b_labelled_b"] >= 0.8 > u["a_to_b_labelled_b"], (s, u)
    assert s["real_b_labelled_b"] >= 0.8 and s["real_a_labelled_b"] <= 0.2, s  # the classifier itself is sound
    assert max(s["cycle_mae_a"], s["cycle_mae_b"]) <= 0.35 < min(u["cycle_mae_a"], u["cycle_mae_b"]), (s, u)


@pytest.mark.parametrize("recipe,most_c2st", [("dcgan-photos", 0.9), ("sagan-photos", 0.98)])
def test_colour_photo_samples_have_the_held_out_colours_and_are_hard_to_tell_from_them(recipe, most_c2st):
    """A fresh PatchGAN's accuracy at telling 450 samples from the 450 held-out crops, and the total variation between
    their colour histograms (minigan.runner.photo_scores), against the same for the untrained generator. (The
    training crops themselves score 0.758 and 0.445; sagan-photos's 2,000 steps leave it further off.)"""
    s, u = photo_scores(trained(recipe, 0).game), photo_scores(untrained(recipe, 0).game)
    print(f"{recipe} seed 0: " + ", ".join(f"{k} {v:.3f} (untrained {u[k]:.3f})" for k, v in s.items()))
    assert s["colour_tv"] <= 0.65 < u["colour_tv"], (s, u)
    assert s["patch_c2st"] <= most_c2st < u["patch_c2st"], (s, u)
