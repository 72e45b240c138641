"""A run folder survives crashes, races and divergence: real ``minigan train`` processes, killed and raced."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan import cli
from minigan.runner import RunLocked, run_training
from minigan.runner.folder import locked
from minigan.train import config as cfg
from minigan.train.checkpoint import CHECKPOINT, load_checkpoint
from minigan.train.trainer import SNAPSHOT_EVERY, Trainer, TrainingDiverged

SETS = ["model.g_hidden=[16]", "model.d_hidden=[16]", "data.batch_size=16", "train.log_every=1",
        "train.checkpoint_every=1", "train.sample_every=25"]
STEPS = 150


def _command(out: Path, steps: int, resume: bool = False) -> list[str]:
    if resume:
        return [sys.executable, "-m", "minigan", "train", "--resume", "--out", str(out), "--steps", str(steps),
                "--quiet"]
    return [sys.executable, "-m", "minigan", "train", "ring8", "--out", str(out), "--steps", str(steps), "--quiet",
            *[a for s in SETS for a in ("--set", s)]]


def _partial_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".partial-" in p.name]


def _arrays(state, prefix=""):
    """Every array of a checkpoint by its path, to compare two states bit for bit."""
    if isinstance(state, dict):
        return {k: v for key, value in state.items() for k, v in _arrays(value, f"{prefix}/{key}").items()}
    if isinstance(state, (list, tuple)):
        return {k: v for i, value in enumerate(state) for k, v in _arrays(value, f"{prefix}/{i}").items()}
    if isinstance(state, mg.Tensor):
        return {prefix: state.numpy()}
    if isinstance(state, (np.ndarray, np.generic, int, float)):
        return {prefix: np.asarray(state)}
    return {}


def _assert_same_state(a: Path, b: Path) -> None:
    left, right = load_checkpoint(a), load_checkpoint(b)
    assert left["step"] == right["step"]
    la, ra = _arrays({k: left[k] for k in ("networks", "optimizers", "rng", "loader")}), \
        _arrays({k: right[k] for k in ("networks", "optimizers", "rng", "loader")})
    assert la.keys() == ra.keys()
    for key in la:
        np.testing.assert_array_equal(la[key], ra[key], err_msg=key)


def _crash_and_resume(tmp_path: Path, kills: int, seed: int) -> None:
    """Kill a training at random moments ``kills`` times, resuming each time; then finish and compare."""
    reference = tmp_path / "reference"
    subprocess.run(_command(reference, STEPS), check=True, capture_output=True)
    run, rng = tmp_path / "run", random.Random(seed)
    for _ in range(kills):
        process = subprocess.Popen(_command(run, STEPS, resume=(run / CHECKPOINT).exists()),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if (run / CHECKPOINT).exists():
            state = load_checkpoint(run / CHECKPOINT)  # checksums verified, every tensor finite
            assert 0 <= state["step"] <= STEPS
    finish = subprocess.run(_command(run, STEPS, resume=(run / CHECKPOINT).exists()), capture_output=True, text=True)
    assert finish.returncode == 0, finish.stderr
    assert not _partial_files(run) and not (run / ".lock").exists()
    _assert_same_state(run / CHECKPOINT, reference / CHECKPOINT)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))


def test_a_run_killed_three_times_resumes_bit_identical_to_an_uninterrupted_one(tmp_path):
    _crash_and_resume(tmp_path, kills=3, seed=0)


@pytest.mark.slow
def test_a_run_killed_twenty_times_resumes_bit_identical_to_an_uninterrupted_one(tmp_path):
    _crash_and_resume(tmp_path, kills=20, seed=1)


def test_two_trainings_on_one_folder_one_runs_and_the_other_is_refused_naming_it(tmp_path):
    out = tmp_path / "run"
    first, second = (subprocess.Popen(_command(out, 20000), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True) for _ in range(2))
    try:
        _wait_until(lambda: first.poll() is not None or second.poll() is not None, "either process to finish")
        refused, running = (first, second) if first.poll() is not None else (second, first)
        assert refused.wait() == 2
        err = refused.stderr.read()
        assert err.count("\n") == 1 and f"is in use by another minigan process (PID {running.pid})" in err, err
        _wait_until(lambda: (out / "metrics.jsonl").exists(), "the other to start training")
        assert running.poll() is None  # still training
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
    assert running.returncode == 130 and "interrupted" in running.stderr.read()
    assert not (out / ".lock").exists()
    assert json.loads((out / "config.json").read_text())["train"]["steps"] == 20000


def _wait_until(condition, what: str, timeout: float = 120) -> None:
    """Poll ``condition`` (generously: CI machines may be busy) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_lock_is_released_on_any_exit_and_refuses_a_second_holder(tmp_path):
    with locked(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(RunLocked, match=rf"PID {os.getpid()}"), locked(tmp_path):
            pass
    assert not (tmp_path / ".lock").exists()
    with pytest.raises(ZeroDivisionError), locked(tmp_path):
        raise ZeroDivisionError
    with locked(tmp_path):  # free again
        pass


def test_debris_of_a_killed_run_is_removed_at_the_next_start(tmp_path):
    config = cfg.apply_overrides(cfg.load_recipe("ring8"), SETS + ["train.steps=2"])
    run_training(config, tmp_path, progress=False)
    debris = [tmp_path / ".checkpoint.safetensors.partial-0123abcd.tmp",
              tmp_path / "samples" / ".step_000002.png.partial-89abcdef.png"]
    for path in debris:
        path.write_bytes(b"half")
    keep = tmp_path / "samples" / "notes.partial.txt"
    keep.write_text("mine")
    run_training(None, tmp_path, resume=True, progress=False, steps=3)
    assert not any(path.exists() for path in debris) and keep.read_text() == "mine"


def test_a_torn_last_metrics_line_is_dropped_with_a_warning_and_resume_continues(tmp_path, capsys):
    config = cfg.apply_overrides(cfg.load_recipe("ring8"), SETS + ["train.steps=3"])
    run_training(config, tmp_path, progress=False)
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 4, "d_lo')  # a crash in the middle of a write
    assert cli.main(["train", "--resume", "--out", str(tmp_path), "--steps", "5", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minigan: warning:") and "metrics.jsonl" in err
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]


# -- divergence --------------------------------------------------------------------------------------------


def _poison_after(monkeypatch, step: int, where: str) -> None:
    """From ``step`` on, the D player's update makes NaN: in its loss, or in Adam's second moment."""
    original = Trainer.play

    def play(self, player, batch):
        stats = original(self, player, batch)
        if self.step + 1 >= step and player.name == "D":
            if where == "loss":
                raise TrainingDiverged(self.step + 1, "d_loss is nan")
            for state in self.optimizers["D"].state.values():
                state["exp_avg_sq"][...] = np.inf
        return stats

    monkeypatch.setattr(Trainer, "play", play)


@pytest.mark.parametrize("where,diverged_at,kept", [("loss", 7, 6), ("optimizer", 7, 6),
                                                     ("optimizer", SNAPSHOT_EVERY + 3, SNAPSHOT_EVERY + 2)])
def test_divergence_keeps_a_checkpoint_of_the_last_finite_step_even_without_one_before(where, diverged_at, kept,
                                                                                       tmp_path, monkeypatch):
    sets = SETS + ["train.checkpoint_every=1000", f"train.steps={SNAPSHOT_EVERY + 10}"]
    reference = cfg.apply_overrides(cfg.load_recipe("ring8"), sets + [f"train.steps={kept}"])
    run_training(reference, tmp_path / "reference", progress=False)
    _poison_after(monkeypatch, diverged_at, where)
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged) as caught:
        run_training(cfg.apply_overrides(cfg.load_recipe("ring8"), sets), run, progress=False)
    message = str(caught.value)
    # a NaN loss stops the step it happens in; NaN in the optimiser is found when the state is next copied
    assert message.startswith("training diverged at step") and f"holds step {kept}," in message
    assert ("d_loss is nan" if where == "loss" else "optimizers/D/") in message
    _assert_same_state(run / CHECKPOINT, tmp_path / "reference" / CHECKPOINT)


def test_an_explosion_beyond_the_threshold_is_a_divergence_and_the_command_says_so_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "ring8", "--out", str(out), "--quiet", "--steps", "5",
            *[a for s in SETS + ["train.explosion_threshold=1e-3"] for a in ("--set", s)]]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "beyond train.explosion_threshold = 0.001" in err and "holds step 0" in err
    assert load_checkpoint(out / CHECKPOINT)["step"] == 0
