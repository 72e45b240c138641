"""A whole training run on disk: progress bar, metrics log, evaluations, sample pictures, atomic checkpoints.

This module sits above :mod:`minigan.train`, :mod:`minigan.metrics` and
:mod:`minigan.viz` and uses all three; the training loop itself knows
nothing of metrics or pictures. Every picture comes from the game's own
``sample_grid`` (one row per class for conditional families, codes across
rows and columns for InfoGAN).

Layout of a run folder::

    config.json              the resolved configuration
    .lock                    the PID of the process training in the folder, while it runs
    checkpoint.safetensors   the latest checkpoint (written atomically)
    metrics.jsonl            one JSON record per logged step: losses, D outputs, gradient norms
    evaluations.jsonl        one JSON record per evaluation (train.eval_every > 0): the step and each metric
    samples/step_XXXXXX.png  pictures from fixed latents during training
    samples.png              the final samples
    losses.png               loss curves and mean D outputs
    metrics.png              each evaluated metric against the step (train.eval_every > 0)
    progress.gif             the samples over training
    attention.png            where G's self-attention looks, for a few samples (model.self_attention)

With ``train.eval_every = k > 0`` the generator (its EMA copy when there is
one) is scored every ``k`` steps and at the end on ``train.eval_samples``
samples, with the metrics named in ``train.eval_metrics`` or, when that is
empty, the quick ones for the data (:data:`QUICK_METRICS`). Evaluation
draws its own latents and leaves the networks and every random state as it
found them, so a run trains the same with or without it.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import minigan as mg
from minigan import viz
from minigan.metrics import fitting_metrics
from minigan.metrics.c2st import seeded
from minigan.runner.attention import has_attention, save_attention
from minigan.runner.checkpoints import evaluate_game
from minigan.runner.folder import RunExists, RunFolderError, check_resumable, locked, remove_debris
from minigan.serialization import CheckpointError, atomic_path
from minigan.train.checkpoint import CHECKPOINT, fitting, load_checkpoint
from minigan.train.config import ConfigError, complete
from minigan.train.trainer import MetricsLog, Trainer, TrainingDiverged, steps_per_second

__all__ = ["QUICK_METRICS", "RunExists", "evaluation_metrics", "finish_pictures", "run_training"]

# The metrics computed during training when train.eval_metrics is empty, with the family's class metric where
# it has one. C2ST trains a classifier and DRS a rejection sampler at every evaluation: they run only when named.
QUICK_METRICS = {"toy": ("mode_coverage", "mmd"), "image": ("fd", "kid", "label_accuracy", "code_nmi")}

# metric -> {key in evaluations.jsonl: field of the metric's result}
RECORDED = {
    "mode_coverage": {"mode_coverage": "modes_covered"},
    "mmd": {"mmd": "mmd2"},
    "fd": {"fd": "fd"},
    "fd_infinity": {"fd_infinity": "fd_infinity"},
    "kid": {"kid": "kid"},
    "inception_score": {"inception_score": "score"},
    "precision_recall": {"precision": "precision", "recall": "recall"},
    "density_coverage": {"density": "density", "coverage": "coverage"},
    "c2st": {"c2st": "accuracy"},
    "class_fd": {"class_fd": "mean"},
    "label_accuracy": {"label_accuracy": "accuracy"},
    "code_nmi": {"code_nmi": "nmi"},
}
TOY_PICTURE_SAMPLES = 2500


def _picture(trainer: Trainer, path: Path, title: str, log: MetricsLog) -> Path:
    """The game's picture from fixed latents (the same at every step): a grid of images, or 2-D points; beside
    the grid, the curves of the game's :attr:`~minigan.games.Game.curves` logged so far in ``log``."""
    game, data = trainer.game, trainer.data
    n = TOY_PICTURE_SAMPLES if data.kind == "toy" else trainer.config["train"]["n_samples"]
    samples, columns = game.sample_grid(n, mg.Generator(trainer.config["train"]["seed"] + 1))
    if not np.isfinite(samples).all():  # weights can be finite and still overflow G's output
        raise TrainingDiverged(trainer.step, "the generator's samples hold NaN or inf")
    if data.kind == "toy":
        return viz.plot_toy_samples(samples, path, data.toy.centres, data.samples[:TOY_PICTURE_SAMPLES], title)
    if game.curves:
        return viz.plot_samples_with_curves(samples, path, log.records(), game.curves, nrow=columns, title=title)
    return viz.save_image_grid(samples, path, nrow=columns)


def evaluation_metrics(config: dict, game) -> list[str]:
    """The metrics to compute during training, checked against the game's data and family.

    Raises :class:`ConfigError` naming the valid choices, so that a bad name
    stops the run before its first step.
    """
    t = config["train"]
    valid = fitting_metrics(game.data, game.data.kind == "image", game.condition)
    names = t["eval_metrics"] or [m for m in QUICK_METRICS[game.data.kind] if m in valid]
    unknown = [m for m in names if m not in valid]
    if unknown:
        data = game.data.name
        raise ConfigError(f"train.eval_metrics: {', '.join(map(repr, unknown))} cannot be computed on {data}; "
                          f"choose from {', '.join(valid)}")
    if t["eval_every"] and game.data.kind == "image" and tuple(game.data.shape) != (1, 8, 8):
        # the bundled feature network (minigan.metrics.load_digits_classifier) reads 8x8 digits only
        raise ConfigError(f"train.eval_every: image metrics during training use the digits classifier, which reads "
                          f"8x8 images, but {config['data']['name']} images are {tuple(game.data.shape)}; "
                          "evaluate checkpoints with minigan.runner.evaluate_checkpoint(path, features=...)")
    return list(dict.fromkeys(names))


def _evaluate(trainer: Trainer, names: list[str]) -> dict:
    """One flat record ``{"step": s, metric: value, ...}`` for the generator as it is now."""
    t = trainer.config["train"]
    # DRS runs D in train mode, which would move its batch-norm and spectral-norm state: it gets a copy
    game = copy.deepcopy(trainer.game) if "drs" in names else trainer.game
    with seeded(t["seed"]):  # any draw from the default generator is undone afterwards
        try:
            results = evaluate_game(game, t["eval_samples"], names, seed=t["seed"])
        except CheckpointError as err:
            raise TrainingDiverged(trainer.step, str(err)) from None
    record = {"step": trainer.step}
    for name, result in results["metrics"].items():
        record.update({key: result[field] for key, field in RECORDED[name].items()})
    drs = results.get("drs", {})
    if "acceptance_rate" in drs:
        record["drs_acceptance_rate"] = drs["acceptance_rate"]
    for name, result in drs.get("metrics", {}).items():
        record.update({f"{key}_drs": result[field] for key, field in RECORDED[name].items()})
    return record


def run_training(config: dict, out: Path, resume: bool = False, progress: bool = True,
                 steps: int | None = None) -> dict:
    """Train (or resume) a run in folder ``out``; returns a summary of where everything is.

    The folder is locked for the whole run (:func:`minigan.runner.folder.locked`)
    and cleared of a killed run's temporary files. Everything that can be
    refused (the configuration, the checkpoint, the folder) is refused before
    anything in the folder changes. Resuming takes the configuration saved in
    the checkpoint, which must be the folder's own; ``steps``, at least the
    checkpoint's step, replaces ``train.steps``.
    """
    out = Path(out)
    if resume:
        if not (out / CHECKPOINT).is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {out / CHECKPOINT}")
        with locked(out):
            trainer = _resumed(out, steps)
            return _train(trainer, out, progress, evaluation_metrics(trainer.config, trainer.game))
    trainer = Trainer(config)  # before the folder is made: a configuration that cannot be built leaves nothing
    eval_names = evaluation_metrics(config, trainer.game)
    with locked(out):
        if (out / CHECKPOINT).exists():
            raise RunExists(f"{out} already holds a run; pass --resume to continue it, or --out DIR for a new one")
        return _train(trainer, out, progress, eval_names)


def _resumed(out: Path, steps: int | None) -> Trainer:
    """The trainer of the checkpoint in ``out``, checked to belong to the folder and to fit its game."""
    path = out / CHECKPOINT
    state = load_checkpoint(path)
    config = complete(state["config"])  # keys added since the checkpoint was written: their defaults
    check_resumable(out, config)
    if steps is not None:
        if steps < state["step"]:
            raise RunFolderError(f"--steps {steps} is behind the checkpoint in {out}, which is at step "
                                 f"{state['step']}; give --steps {state['step']} or more")
        config["train"]["steps"] = steps
    trainer = Trainer(config)
    with fitting(path):
        trainer.load_state_dict(state)
    return trainer


def _train(trainer: Trainer, out: Path, progress: bool, eval_names: list[str]) -> dict:
    """The training loop of :func:`run_training`, in the locked folder ``out``."""
    config, t = trainer.config, trainer.config["train"]
    ckpt_path = out / CHECKPOINT
    remove_debris(out)
    (out / "samples").mkdir(exist_ok=True)
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(config, indent=2) + "\n")
    log = MetricsLog(out / "metrics.jsonl")
    log.truncate_after(trainer.step)
    evaluations = MetricsLog(out / "evaluations.jsonl")
    evaluations.truncate_after(trainer.step)
    last_evaluated = next((r["step"] for r in reversed(evaluations.records())), None)
    total = t["steps"]
    postfix = {}

    def checkpoint() -> None:
        mg.save(trainer.finite_state(), ckpt_path)

    def evaluate() -> None:
        nonlocal last_evaluated
        record = _evaluate(trainer, eval_names)
        evaluations.write(record)
        last_evaluated = trainer.step
        postfix.update({k: f"{v:.3g}" for k, v in record.items() if k != "step"})
        bar.set_postfix(postfix)

    bar = tqdm(total=total, initial=trainer.step, disable=not progress, desc=config.get("recipe", "train"),
               unit="step", dynamic_ncols=True)
    start, start_step = time.perf_counter(), trainer.step
    diverged = None
    try:
        while trainer.step < total:
            stats = trainer.train_step()
            bar.update(1)
            if trainer.step % t["log_every"] == 0 or trainer.step == total:
                stats["steps_per_s"] = steps_per_second(start, trainer.step - start_step)
                log.write({"step": trainer.step, **stats})
                postfix.update(d=f"{stats['d_loss']:.3f}", g=f"{stats['g_loss']:.3f}")
                bar.set_postfix(postfix)
            if t["eval_every"] and trainer.step % t["eval_every"] == 0:
                evaluate()  # before the checkpoint: a run resumed from it never lacks this record
            if trainer.step % t["sample_every"] == 0:
                _picture(trainer, out / "samples" / f"step_{trainer.step:06d}.png", f"step {trainer.step}", log)
            if trainer.step % t["checkpoint_every"] == 0:
                checkpoint()
        if t["eval_every"] and last_evaluated != trainer.step:
            evaluate()
        checkpoint()
        paths = finish_pictures(trainer, out)
    except TrainingDiverged as err:
        diverged = err
    finally:
        bar.close()
    if diverged is not None:
        kept = trainer.rewind(diverged)
        mg.save(trainer.state_dict(), ckpt_path)
        raise TrainingDiverged(diverged.step, f"{diverged.what}; training stopped, and {ckpt_path} holds step "
                                              f"{kept}, the last whose state was all finite")
    return paths


def finish_pictures(trainer: Trainer, out: Path) -> dict:
    """samples.png, losses.png, metrics.png, progress.gif and attention.png; returns the paths."""
    paths = {"checkpoint": out / CHECKPOINT, "metrics": out / "metrics.jsonl", "caption": trainer.game.picture}
    paths["samples"] = _picture(trainer, out / "samples.png", f"{trainer.config.get('recipe', '')}, "
                                                              f"step {trainer.step}", MetricsLog(out / "metrics.jsonl"))
    if (out / "metrics.jsonl").exists():
        paths["losses"] = viz.plot_losses(out / "metrics.jsonl", out / "losses.png")
    if MetricsLog(out / "evaluations.jsonl").records():
        paths["evaluations"] = out / "evaluations.jsonl"
        paths["metric_curves"] = viz.plot_metrics(paths["evaluations"], out / "metrics.png")
    frames = sorted((out / "samples").glob("step_*.png"))
    if frames:
        paths["progress"] = viz.save_animation(frames + [paths["samples"]], out / "progress.gif")
    if has_attention(trainer.game):
        title = f"{trainer.config.get('recipe', '')}, step {trainer.step}"
        paths["attention"] = save_attention(trainer.game, out / "attention.png",
                                            seed=trainer.config["train"]["seed"] + 1, title=title)
    return paths
