"""One trial of a sweep: train it in its own folder, evaluate its checkpoint, and say how it went, never raising."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import time
from pathlib import Path

__all__ = ["run_trial", "failed_record", "one_line", "rank_value"]


def one_line(err: BaseException) -> str:
    """``type: message`` on one line."""
    return f"{type(err).__name__}: {' '.join(str(err).split())}".rstrip(": ")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _where() -> str:
    """The address of the Dask worker running this, or the host and process."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def rank_value(record: dict, path: str):
    """The metric at ``path`` (``"mode_coverage.high_quality_fraction"``) of a record, or None."""
    value = record.get("metrics") or {}
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def failed_record(trial: dict, error: str, wall_time: float = 0.0, worker: str | None = None) -> dict:
    """The record of a trial that did not finish."""
    return {"id": trial["id"], "name": trial["name"], "swept": trial["swept"], "overrides": trial["overrides"],
            "recipe": trial["recipe"], "status": "failed", "error": error, "metrics": {}, "wall_time": wall_time,
            "commit": None, "finished_at": _now(), "worker": worker}


def run_trial(trial: dict, folder, n: int, metrics, seed: int, threads: int = 1) -> dict:
    """Train ``trial["config"]`` in ``folder``, evaluate its checkpoint (``eval.json``); a record of the outcome.

    ``trial`` holds ``id``, ``name``, ``swept``, ``overrides``, ``recipe`` and
    ``config``. The folder is emptied first (a failed or killed attempt may
    have left a run in it). Whatever goes wrong (a diverged training, a
    metric that cannot be computed) makes a record with ``status = "failed"``
    and the error in one line. The process's minigan work gets ``threads``
    threads, its share of the machine.
    """
    import minigan as mg
    from minigan.metrics import write_eval_json
    from minigan.runner import evaluate_checkpoint, run_training
    from minigan.runner.table import git_commit
    from minigan.train.checkpoint import CHECKPOINT

    start = time.perf_counter()
    worker = _where()
    folder = Path(folder)
    try:
        mg.kernels.set_num_threads(threads)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        run_training(trial["config"], folder, progress=False)
        results = evaluate_checkpoint(folder / CHECKPOINT, n=n, metrics=metrics, seed=seed)
        metrics = json.loads(write_eval_json(results, folder / "eval.json").read_text())["metrics"]
    except Exception as err:  # noqa: BLE001 - every failure is the trial's outcome
        return failed_record(trial, one_line(err), time.perf_counter() - start, worker)
    commit = git_commit()
    return {"id": trial["id"], "name": trial["name"], "swept": trial["swept"], "overrides": trial["overrides"],
            "recipe": trial["recipe"], "status": "done", "error": None, "metrics": metrics,
            "wall_time": time.perf_counter() - start,
            "commit": None if commit.startswith("unknown") else commit, "finished_at": _now(), "worker": worker}
