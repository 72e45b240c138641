"""A whole training run on disk: progress bar, metrics log, sample pictures, atomic checkpoints.

Layout of a run folder::

    checkpoint.safetensors   the latest checkpoint (written atomically)
    metrics.jsonl            one JSON record per logged step
    samples/step_XXXXXX.png  pictures from fixed latents during training
    samples.png              the final samples
    losses.png               loss curves and mean D outputs
    progress.gif             the samples over training
    config.json              the resolved configuration
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tqdm import tqdm

import minigan as mg
from minigan import viz
from minigan.serialization import atomic_path
from minigan.train.trainer import MetricsLog, Trainer, TrainingDiverged, steps_per_second

__all__ = ["run_training", "CHECKPOINT", "RunExists", "load_checkpoint"]

CHECKPOINT = "checkpoint.safetensors"


class RunExists(RuntimeError):
    """The output folder already holds a run and ``resume`` was not asked for."""


def load_checkpoint(path) -> dict:
    """A training checkpoint, checked to be one (the file format is checked by :func:`minigan.load`)."""
    state = mg.load(path)
    if not isinstance(state, dict) or state.get("format") != "minigan-checkpoint":
        raise ValueError(f"{path} is not a minigan training checkpoint")
    return state


def _picture(trainer: Trainer, path: Path, title: str) -> Path:
    samples = trainer.samples()
    if trainer.data.kind == "toy":
        toy = trainer.data.toy
        return viz.plot_toy_samples(samples, path, toy.centres, trainer.data.loader.data[:2500], title)
    return viz.save_image_grid(samples, path)


def run_training(config: dict, out: Path, resume: bool = False, progress: bool = True,
                 steps: int | None = None) -> dict:
    """Train (or resume) a run in folder ``out``; returns a summary of where everything is."""
    out = Path(out)
    ckpt_path = out / CHECKPOINT
    if resume:
        if not ckpt_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {ckpt_path}")
        state = load_checkpoint(ckpt_path)
        config = state["config"]
        if steps is not None:
            config["train"]["steps"] = steps
        trainer = Trainer(config)
        trainer.load_state_dict(state)
    else:
        if ckpt_path.exists():
            raise RunExists(f"{out} already holds a run; pass --resume to continue it, or --out DIR for a new one")
        trainer = Trainer(config)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(config, indent=2) + "\n")
    log = MetricsLog(out / "metrics.jsonl")
    log.truncate_after(trainer.step)
    t = config["train"]
    total = t["steps"]

    def checkpoint() -> None:
        mg.save(trainer.state_dict(), ckpt_path)

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
                bar.set_postfix(d=f"{stats['d_loss']:.3f}", g=f"{stats['g_loss']:.3f}")
            if trainer.step % t["sample_every"] == 0:
                _picture(trainer, out / "samples" / f"step_{trainer.step:06d}.png", f"step {trainer.step}")
            if trainer.step % t["checkpoint_every"] == 0:
                checkpoint()
    except TrainingDiverged as err:
        diverged = err
    finally:
        bar.close()
    if diverged is not None:
        raise diverged
    checkpoint()
    return finish_pictures(trainer, out)


def finish_pictures(trainer: Trainer, out: Path) -> dict:
    """samples.png, losses.png and progress.gif; returns the paths."""
    paths = {"checkpoint": out / CHECKPOINT, "metrics": out / "metrics.jsonl"}
    paths["samples"] = _picture(trainer, out / "samples.png", f"{trainer.config.get('recipe', '')}, "
                                                              f"step {trainer.step}")
    if (out / "metrics.jsonl").exists():
        paths["losses"] = viz.plot_losses(out / "metrics.jsonl", out / "losses.png")
    frames = sorted((out / "samples").glob("step_*.png"))
    if frames:
        paths["progress"] = viz.save_animation(frames + [paths["samples"]], out / "progress.gif")
    return paths
