"""Run a sweep's trials on a Dask cluster (a local one by default), record each as it finishes, and resume.

Layout of a sweep folder::

    results.jsonl        one record per finished trial (done or failed), appended as each arrives
    results.csv          one row per trial of the spec, written at the end
    trials/<id>/         each trial's run folder (checkpoint, samples.png, eval.json, ...)
    metric_vs_<key>.png  the rank metric against each swept key (see :mod:`minigan.sweep.report`)
    best.png             the samples of the best trials

Running the same spec into the same folder again skips the trials recorded
as done and runs the others (failed ones included). A search (``[optuna]``)
gives Optuna every recorded trial of its settings, done or failed, and runs
the rest of its ``trials``.
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
from minigan.sweep.search import Proposer
from minigan.sweep.spec import Spec, Trial, load_spec
from minigan.sweep.trial import failed_record, one_line, rank_value, run_trial

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


def _proposer(spec: Spec, records: list[dict]) -> Proposer:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise SweepError("an [optuna] sweep needs optuna: pip install 'minigan[sweep]'") from None
    return Proposer(spec, records)


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


def _payload(t: Trial) -> dict:
    return {"id": t.id, "name": t.name, "swept": t.swept, "overrides": t.overrides, "recipe": t.recipe,
            "config": t.config}


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

    A search (an ``[optuna]`` spec) keeps one trial in flight per worker
    thread and asks Optuna for the next as each finishes
    (:class:`~minigan.sweep.search.Proposer`); its records come in the
    order they were made, those of earlier runs first.
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    out = Path(out)
    (out / "trials").mkdir(parents=True, exist_ok=True)
    results = out / RESULTS
    latest = latest_records(results)
    proposer = None if spec.search is None else _proposer(spec, list(latest.values()))
    first = [t for t in spec.trials if latest.get(t.id, {}).get("status") != "done"]
    finished = len(spec.trials) - len(first) if proposer is None else proposer.finished
    if first or proposer is not None and not proposer.exhausted:
        client, cluster = _client(scheduler, workers)
        try:
            if proposer is not None:
                first = proposer.propose(_slots(client))
            _execute(client, spec, out, latest, first, proposer, finished, progress, trial_function)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    records = [latest[t.id] for t in spec.trials] if proposer is None else proposer.records
    write_csv(spec, records, out / TABLE)
    return records


def _slots(client) -> int:
    """Worker threads of the cluster: how many trials of a search run at once."""
    return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))


def _execute(client, spec: Spec, out: Path, latest: dict, first: list, proposer, finished: int, progress: bool,
             trial_function) -> None:
    """Run ``first`` and whatever ``proposer`` asks for next, appending each record as it arrives."""
    distributed = _distributed()

    def submit(t: Trial):
        return client.submit(trial_function, _payload(t), str((out / "trials" / t.id).resolve()), spec.eval_n,
                             spec.eval_metrics, spec.eval_seed, 1, key=f"trial-{t.id}",
                             retries=1, pure=False)

    total = len(spec.trials) if proposer is None else spec.search.trials
    futures = {submit(t): t for t in first}
    running = distributed.as_completed(futures)
    with tqdm(total=total, initial=finished, disable=not progress, desc=spec.name, unit="trial",
              dynamic_ncols=True) as bar:
        for future in running:
            try:
                record = future.result()
            except Exception as err:  # noqa: BLE001 - the worker died twice, or the task was lost
                record = failed_record(_payload(futures[future]), one_line(err))
            append_jsonl(out / RESULTS, record)
            latest[record["id"]] = record
            if proposer is not None:
                proposer.tell(record)
                for t in proposer.propose(1):
                    new = submit(t)
                    futures[new] = t
                    running.add(new)
            bar.update(1 if proposer is None else proposer.finished - bar.n)
            bar.set_postfix(last=f"{record['name']}: {record['status']}")
