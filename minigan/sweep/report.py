"""A sweep's results as a ranked table, the rank metric against each swept key, and the best trials' samples."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from minigan.serialization import atomic_path
from minigan.sweep.trial import rank_value
from minigan.sweep.spec import Spec

__all__ = ["ranked", "ranked_table", "plot_metric_vs_key", "plot_best", "write_figures"]

BEST = 4  # trials in best.png


def ranked(spec: Spec, records: list[dict]) -> list[dict]:
    """Best first by the spec's rank metric; done trials without the metric next; failed ones last."""
    metric, direction = spec.rank
    sign = -1 if direction == "max" else 1
    scored = [r for r in records if r["status"] == "done" and _finite(rank_value(r, metric))]
    scored.sort(key=lambda r: sign * rank_value(r, metric))
    unscored = [r for r in records if r["status"] == "done" and r not in scored]
    return scored + unscored + [r for r in records if r["status"] != "done"]


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def ranked_table(spec: Spec, records: list[dict]) -> str:
    """The trials as plain text, best first; a failed trial shows its error."""
    metric, direction = spec.rank
    rows = [["#", "trial", f"{metric} ({direction})", "time", "id"]]
    failures = []
    for place, r in enumerate(ranked(spec, records), 1):
        if r["status"] != "done":
            failures.append(f"  {r['name']} ({r['id']}): {r.get('error') or 'failed'}")
            continue
        value = rank_value(r, metric)
        rows.append([str(place), r["name"], "–" if value is None else f"{value:.4g}", f"{r['wall_time']:.0f} s",
                     r["id"]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"{spec.name}: {len(records)} trials, {len(records) - len(failures)} done, {len(failures)} failed"]
    if len(rows) > 1:
        head, *body = ["  ".join(c.rjust(w) if i in (0, 2, 3) else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]
        lines += [head, "-" * len(head), *body]
    if failures:
        lines += ["failed:", *failures]
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    _pyplot().close(fig)
    return path


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _file_name(key: str) -> str:
    return "metric_vs_" + re.sub(r"[^A-Za-z0-9._-]", "_", key) + ".png"


def plot_metric_vs_key(spec: Spec, records: list[dict], key: str, path) -> Path:
    """The rank metric of each done trial against its value of ``key`` (points), and their mean (line or bars).

    Strings, booleans and lists are categories in the order of the spec; numbers lie
    on a linear axis, or a logarithmic one when they span a factor of 20 or more.
    """
    plt = _pyplot()
    metric = spec.rank[0]
    values = []  # in the spec's order, then the records'; a value may be a list, which no dict can key
    for swept in [t.swept for t in spec.trials] + [r["swept"] for r in records]:
        if swept.get(key) not in values:
            values.append(swept.get(key))
    points = [(r["swept"].get(key), rank_value(r, metric)) for r in records if r["status"] == "done"]
    points = [(x, y) for x, y in points if _finite(y)]
    fig, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(values) + 2), 3.6))
    if _numeric(values):
        xs = np.array([x for x, _ in points], dtype=float)
        ys = np.array([y for _, y in points], dtype=float)
        ax.scatter(xs, ys, alpha=0.6, label="trials")
        order = sorted(set(xs.tolist()))
        if order:
            ax.plot(order, [ys[xs == x].mean() for x in order], "-o", color="C1", label="mean")
        if len(values) > 1 and min(values) > 0 and max(values) / min(values) >= 20:
            ax.set_xscale("log")
    else:
        labels = [str(v) for v in values]
        where = {label: i for i, label in enumerate(labels)}
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(points))
        xs = np.array([where[str(x)] for x, _ in points], dtype=float)
        ys = np.array([y for _, y in points], dtype=float)
        means = [ys[xs == i].mean() if (xs == i).any() else np.nan for i in range(len(labels))]
        ax.bar(range(len(labels)), np.nan_to_num(means), color="C1", alpha=0.35, label="mean")
        ax.scatter(xs + jitter, ys, alpha=0.8, zorder=3, label="trials")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=30 if max(map(len, labels), default=0) > 6 else 0, ha="right"
                           if max(map(len, labels), default=0) > 6 else "center")
    ax.set_xlabel(key)
    ax.set_ylabel(f"{metric}\n({spec.rank[1]} is best)", fontsize="small")
    ax.set_title(f"{spec.name}: {len(points)} trials", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return _save(fig, Path(path))


def plot_best(spec: Spec, records: list[dict], trials_folder, path, count: int = BEST) -> Path | None:
    """The ``samples.png`` of the best ``count`` done trials side by side, titled; None if there are none."""
    best = [r for r in ranked(spec, records) if r["status"] == "done"
            and (Path(trials_folder) / r["id"] / "samples.png").is_file()][:count]
    if not best:
        return None
    plt = _pyplot()
    images = [plt.imread(Path(trials_folder) / r["id"] / "samples.png") for r in best]
    height, width = images[0].shape[:2]
    wide = width > 1.5 * height  # a toy's samples beside their density: one row each
    if wide:
        fig, axes = plt.subplots(len(best), 1, figsize=(8, (8 * height / width + 0.6) * len(best)), squeeze=False)
    else:
        fig, axes = plt.subplots(1, len(best), figsize=(3.4 * len(best), 3.9), squeeze=False)
    for place, (ax, r, image) in enumerate(zip(axes.ravel(), best, images, strict=True), 1):
        ax.imshow(image)
        ax.set_axis_off()
        value = rank_value(r, spec.rank[0])
        shown = "–" if value is None else f"{value:.3g}"
        name = r["name"] if wide else r["name"].replace(",", "\n")
        ax.set_title(f"#{place} {name}\n{spec.rank[0]} = {shown}", fontsize=8)
    return _save(fig, Path(path))


def write_figures(spec: Spec, records: list[dict], out) -> dict[str, Path]:
    """``metric_vs_<key>.png`` for each swept key and ``best.png`` in ``out``; ``{name: path}`` of those written."""
    out = Path(out)
    paths = {}
    if any(r["status"] == "done" for r in records):
        for key in spec.keys:
            paths[_file_name(key)] = plot_metric_vs_key(spec, records, key, out / _file_name(key))
    best = plot_best(spec, records, out / "trials", out / "best.png")
    if best is not None:
        paths["best.png"] = best
    return paths
