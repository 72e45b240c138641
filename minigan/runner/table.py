"""Evaluate the final checkpoint of each run folder and write one markdown table per kind of data.

    python -m minigan.runner.table runs/* [--n 5000] [--seed 0] [-o table.md]
    python -m minigan.runner.table runs/* --update docs/evaluation.md

``scripts/evaluation-table`` trains every shipped recipe and then runs the
second line: that is how the table in ``docs/evaluation.md`` is made.

Each run's full results are also saved as ``eval.json`` beside its checkpoint.
The tables name the git commit they were computed on (with ``+changes`` when
the working tree differs from it), the sample counts and the seed. With
``--update FILE`` the tables replace what lies between the markers
``<!-- recipe-table:start -->`` and ``<!-- recipe-table:end -->`` in FILE.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from minigan.metrics import format_table, write_eval_json
from minigan.runner.checkpoints import evaluate_checkpoint
from minigan.serialization import atomic_path
from minigan.train.checkpoint import CHECKPOINT

__all__ = ["git_commit", "recipe_tables", "update_between_markers", "main"]

START, END = "<!-- recipe-table:start -->", "<!-- recipe-table:end -->"

# (column header, metric, how to show it) for each kind of data; "drs:" reads the value after rejection sampling
TOY_COLUMNS = [
    ("modes", "mode_coverage", lambda r: f"{r['modes_covered']}/{r['n_modes']}"),
    ("high quality", "mode_coverage", lambda r: f"{r['high_quality_fraction']:.3f}"),
    ("KL(modes‖unif)", "mode_coverage", lambda r: f"{r['kl_uniform']:.3f}"),
    ("MMD²", "mmd", lambda r: f"{r['mmd2']:.2g}"),
    ("C2ST acc.", "c2st", lambda r: f"{r['accuracy']:.3f}"),
    ("high quality, DRS", "drs:mode_coverage", lambda r: f"{r['high_quality_fraction']:.3f}"),
    ("MMD², DRS", "drs:mmd", lambda r: f"{r['mmd2']:.2g}"),
]
IMAGE_COLUMNS = [
    ("FD", "fd", lambda r: f"{r['fd']:.3g}"),
    ("FD∞", "fd_infinity", lambda r: f"{r['fd_infinity']:.3g}"),
    ("KID×10³", "kid", lambda r: f"{1e3 * r['kid']:.3g}"),
    ("IS", "inception_score", lambda r: f"{r['score']:.2f}"),
    ("precision", "precision_recall", lambda r: f"{r['precision']:.3f}"),
    ("recall", "precision_recall", lambda r: f"{r['recall']:.3f}"),
    ("density", "density_coverage", lambda r: f"{r['density']:.3f}"),
    ("coverage", "density_coverage", lambda r: f"{r['coverage']:.3f}"),
    ("C2ST acc.", "c2st", lambda r: f"{r['accuracy']:.3f}"),
    ("class FD", "class_fd", lambda r: f"{r['mean']:.3g}"),
    ("label acc.", "label_accuracy", lambda r: f"{r['accuracy']:.3f}"),
    ("code NMI", "code_nmi", lambda r: f"{r['nmi']:.3f}"),
    ("FD, DRS", "drs:fd", lambda r: f"{r['fd']:.3g}"),
    ("precision, DRS", "drs:precision_recall", lambda r: f"{r['precision']:.3f}"),
]


def git_commit(where=None) -> str:
    """The commit checked out at ``where`` (default: this package's folder), ``+changes`` if tracked files differ."""
    where = Path(where or Path(__file__).parent)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=where, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+changes" if dirty else "")


def _lookup(results: dict, metric: str):
    if metric.startswith("drs:"):
        return results.get("drs", {}).get("metrics", {}).get(metric[4:])
    return results["metrics"].get(metric)


def _markdown(rows: list[dict], columns) -> str:
    header = ["recipe", "step", "generated", "real", *[c[0] for c in columns]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["recipe"] or r["checkpoint"], str(r["step"]), str(r["n_generated"]), str(r["n_real"])]
        for _, metric, show in columns:
            value = _lookup(r, metric)
            cells.append(show(value) if value is not None else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def recipe_tables(results: list[dict], commit: str, n: int, seed: int) -> str:
    """Markdown: a note on how the numbers were made, then a table for toy runs and one for image runs."""
    parts = [f"Computed at commit `{commit}` with `python -m minigan.runner.table` "
             f"({n} generated samples per run, seed {seed}; image metrics use the bundled digits classifier's "
             "features, against the digits train split; toy metrics use fresh samples of the true distribution)."]
    for kind, title, columns in (("toy", "Toy distributions", TOY_COLUMNS), ("image", "Images", IMAGE_COLUMNS)):
        rows = [r for r in results if r["kind"] == kind]
        if rows:
            parts.append(f"**{title}**\n\n" + _markdown(rows, columns))
    return "\n\n".join(parts) + "\n"


def update_between_markers(path, text: str) -> None:
    """Replace what lies between the recipe-table markers in ``path`` with ``text`` (written atomically)."""
    path = Path(path)
    content = path.read_text()
    if START not in content or END not in content:
        raise ValueError(f"{path} has no {START} ... {END} markers to fill")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    with atomic_path(path) as tmp:
        tmp.write_text(f"{head}{START}\n{text}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m minigan.runner.table", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", help="run folders, each holding checkpoint.safetensors")
    p.add_argument("--n", type=int, default=5000, help="generated samples per run (default 5000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", help="write the markdown here (default: print it)")
    p.add_argument("--update", metavar="FILE", help="fill the recipe-table markers of FILE")
    args = p.parse_args(argv)
    results = []
    for run in map(Path, args.runs):
        checkpoint = run / CHECKPOINT
        if not checkpoint.exists():
            print(f"skipping {run}: no {CHECKPOINT}", file=sys.stderr)
            continue
        r = evaluate_checkpoint(checkpoint, n=args.n, seed=args.seed)
        write_eval_json(r, run / "eval.json")
        print(format_table(r) + "\n", file=sys.stderr)
        results.append(r)
    if not results:
        print("no checkpoint to evaluate", file=sys.stderr)
        return 1
    text = recipe_tables(results, git_commit(), args.n, args.seed)
    if args.update:
        update_between_markers(args.update, text)
    if args.output:
        with atomic_path(args.output) as tmp:
            tmp.write_text(text)
    if not (args.update or args.output):
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
