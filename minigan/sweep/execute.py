"""Run a sweep's trials on a Dask cluster (a local one by default), record each as it finishes, and resume.

Layout of a sweep folder::

    results.jsonl        one record per finished trial (done or failed), appended as each arrives
    results.csv          one row per trial of the spec, written at the end
    trials/<id>/         each trial's run folder (checkpoint, samples.png, eval.json, ...)
    metric_vs_<key>.png  the rank metric against each swept key (see :mod:`minigan.sweep.report`)
    best.png             the samples of the best trials

Running the same spec into the same folder again skips the trials recorded
as done and runs the others (failed ones included).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import warnings
from pathlib import Path

from tqdm import tqdm

from minigan.serialization import append_jsonl, atomic_path, read_jsonl
from minigan.sweep.spec import Spec, load_spec
from minigan.sweep.trial import failed_record, one_line, run_trial

__all__ = ["SweepError", "run_sweep", "latest_records", "rank_value", "flat_metrics", "write_csv", "CONNECT_TIMEOUT"]

CONNECT_TIMEOUT = 10  # seconds to reach a scheduler given by address
RESULTS, TABLE = "results.jsonl", "results.csv"
CLUSTER_CONFIG = {
    # a trial whose worker dies twice fails with KilledWorker: one retry after the first death
    "distributed.scheduler.allowed-failures": 1,
    # a worker holds only the trials it runs, none queued behind them: a dying trial takes no other down with it
    "distributed.scheduler.worker-saturation": 1.0,
}
COUNTS = ("n_real", "n_generated", "n_modes")  # sample counts: no columns of their own in results.csv


class SweepError(Exception):
    """A sweep that cannot start: no Dask installed, a scheduler that cannot be reached."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise SweepError("minigan sweep needs dask: pip install 'minigan[sweep]'") from None
    return distributed


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _client(scheduler: str | None, workers: int | None):
    """A Dask client of the scheduler at ``scheduler``, or of a new local cluster; and the cluster to close."""
    distributed = _distributed()
    import dask

    if scheduler is not None:
        try:
            return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, ValueError, TypeError) as err:
            raise SweepError(f"--scheduler {scheduler}: cannot connect within {CONNECT_TIMEOUT} s "
                             f"({one_line(err)})") from None
    with dask.config.set(CLUSTER_CONFIG), warnings.catch_warnings():
        # its HTTP server (on 127.0.0.1) takes another port when 8787 is taken: no news worth a warning
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(n_workers=workers or _cores(), threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None,
                                           silence_logs=logging.CRITICAL)  # a trial's error is in its record
    try:
        return distributed.Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


def latest_records(path) -> dict[str, dict]:
    """``{trial id: its latest record}`` from a ``results.jsonl``."""
    return {record["id"]: record for record in read_jsonl(path) if "id" in record}


def rank_value(record: dict, path: str):
    """The metric at ``path`` (``"mode_coverage.high_quality_fraction"``) of a record, or None."""
    value = record.get("metrics") or {}
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def flat_metrics(record: dict) -> dict:
    """``{"metric.field": number}`` of a record's metrics, sample counts left out."""
    flat = {}
    for metric, result in (record.get("metrics") or {}).items():
        for key, value in (result.items() if isinstance(result, dict) else ()):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in COUNTS:
                flat[f"{metric}.{key}"] = value
    return flat


def write_csv(spec: Spec, records: list[dict], path) -> Path:
    """One row per trial: id, name, each swept key, status, the rank metric, the flat metrics, wall time, commit."""
    metric_columns = list(dict.fromkeys(k for r in records for k in flat_metrics(r) if k != spec.rank[0]))
    header = ["id", "name", *spec.keys, "status", spec.rank[0], *metric_columns, "wall_time", "commit", "worker",
              "error"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for r in records:
        flat = flat_metrics(r)
        swept = r.get("swept", {})
        writer.writerow([r["id"], r["name"], *[swept.get(k, "") for k in spec.keys], r["status"],
                         _cell(rank_value(r, spec.rank[0])), *[_cell(flat.get(k)) for k in metric_columns],
                         f"{r.get('wall_time', 0.0):.1f}", r.get("commit") or "", r.get("worker") or "",
                         r.get("error") or ""])
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue())
    return Path(path)


def _cell(value) -> str:
    return "" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def run_sweep(spec, out, scheduler: str | None = None, workers: int | None = None, progress: bool = True,
              trial_function=run_trial) -> list[dict]:
    """Run every trial of ``spec`` not yet done in folder ``out``; the record of each trial, in the spec's order.

    ``spec`` is a :class:`~minigan.sweep.spec.Spec` or the name or path
    :func:`~minigan.sweep.spec.load_spec` reads. Trials run on the Dask
    scheduler at ``scheduler`` (``"tcp://host:port"``), or on a new
    ``LocalCluster`` of ``workers`` processes (default: one per core) bound
    to 127.0.0.1, one trial at a time each, one thread per trial. A trial
    whose worker dies is run again once; if that worker dies too, the trial
    is recorded as failed. ``trial_function`` replaces :func:`run_trial`
    (same arguments and record).
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    out = Path(out)
    (out / "trials").mkdir(parents=True, exist_ok=True)
    results = out / RESULTS
    latest = latest_records(results)
    todo = [t for t in spec.trials if latest.get(t.id, {}).get("status") != "done"]
    if todo:
        client, cluster = _client(scheduler, workers)
        distributed = _distributed()
        try:
            futures = {}
            for t in todo:
                trial = {"id": t.id, "name": t.name, "swept": t.swept, "overrides": t.overrides, "recipe": t.recipe,
                         "config": t.config}
                future = client.submit(trial_function, trial, str((out / "trials" / t.id).resolve()),
                                       spec.eval_n, spec.eval_metrics, spec.eval_seed, 1,
                                       key=f"trial-{t.id}", retries=1, pure=False)
                futures[future] = trial
            with tqdm(total=len(spec.trials), initial=len(spec.trials) - len(todo), disable=not progress,
                      desc=spec.name, unit="trial", dynamic_ncols=True) as bar:
                for future in distributed.as_completed(futures):
                    try:
                        record = future.result()
                    except Exception as err:  # noqa: BLE001 - the worker died twice, or the task was lost
                        record = failed_record(futures[future], one_line(err))
                    append_jsonl(results, record)
                    latest[record["id"]] = record
                    bar.update(1)
                    bar.set_postfix(last=f"{record['name']}: {record['status']}")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    records = [latest[t.id] for t in spec.trials]
    write_csv(spec, records, out / TABLE)
    return records
