"""The ``minigan`` command: train, recipes, sample, interpolate, eval, bench, sweep.

Errors have one boundary, :func:`main`:

- whatever a user can get wrong (an option or ``--set`` value out of range,
  a missing, corrupt or foreign checkpoint, an output that cannot be
  written, a run folder in use) ends with one line ``minigan: <what is
  wrong>`` on stderr and exit status 2, and no file changed;
- so does a training that diverges (settings that make it explode), except
  that its checkpoint then holds the last step whose state was all finite;
- anything else is a bug in minigan: one line and status 1; ``--debug`` (or
  ``MINIGAN_DEBUG=1``) shows the traceback instead.

NumPy's floating-point warnings never reach the terminal; minigan's own
warnings (a torn log line dropped) are one line each.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from pathlib import Path

import numpy as np

__all__ = ["main"]


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose mistakes are a :class:`UsageError` (one line) instead of usage text and an exit."""

    def error(self, message):
        command = self.prog.removeprefix("minigan").strip()
        raise UsageError(f"{command + ': ' if command else ''}{message} (see {self.prog} -h)")


def at_least(minimum: int):
    """An argparse type: an integer of at least ``minimum``."""
    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return integer


# output formats: suffix -> (name, how a file of that kind starts)
PICTURE_OR_ARRAY = {".png": ("PNG picture", (b"\x89PNG",)), ".npy": ("NumPy array", (b"\x93NUMPY",))}
JSON = {".json": ("JSON file", (b"{", b"[", b"\n", b" "))}


def _output(text: str, formats: dict, reading: Path) -> Path:
    """Check an output path before any work: known format, an existing folder we may write to, not the input."""
    from minigan.serialization import unwritable

    out = Path(text)
    if out.suffix.lower() not in formats:
        raise UsageError(f"-o {text}: unknown format {out.suffix or '(no extension)'!r}; the extension decides it: "
                         + ", ".join(f"{suffix} ({name})" for suffix, (name, _) in formats.items()))
    name, starts = formats[out.suffix.lower()]
    if (problem := unwritable(out)) is not None:
        raise UsageError(f"-o {text}: {problem}")
    if out.exists():
        if out.is_dir():
            raise UsageError(f"-o {text} is a folder")
        if reading.exists() and out.samefile(reading):
            raise UsageError(f"-o {text} is the checkpoint being read; refusing to overwrite it")
        with open(out, "rb") as f:
            head = f.read(8)
        if head and not head.startswith(starts):
            raise UsageError(f"-o {text} exists and is not a {name}; refusing to overwrite it")
    return out


def _train(args) -> None:
    from minigan.runner import run_training
    from minigan.train import config as cfg

    if args.resume:
        if args.recipe or args.set or args.seed is not None:
            raise UsageError("--resume continues the run in --out with its saved configuration; "
                             "only --steps may change")
        config, out = None, Path(args.out or "runs/dcgan-digits")
    else:
        given = [f"train.{key}={value}" for key, value in (("steps", args.steps), ("seed", args.seed))
                 if value is not None]
        config = cfg.apply_overrides(cfg.load_recipe(args.recipe or "dcgan-digits"), args.set + given)
        out = Path(args.out or f"runs/{config['recipe']}")
    paths = run_training(config, out, resume=args.resume, progress=not args.quiet,
                         steps=args.steps if args.resume else None)
    print(_summary(paths))


def _summary(paths: dict) -> str:
    lines = [f"Done. The run is in {paths['checkpoint'].parent}/:",
             f"  samples.png      {paths['caption']} ({paths['samples']})"]
    if "losses" in paths:
        lines.append(f"  losses.png       discriminator and generator losses over training ({paths['losses']})")
    if "progress" in paths:
        lines.append(f"  progress.gif     the samples over training ({paths['progress']})")
    if "attention" in paths:
        lines.append(f"  attention.png    where G's self-attention looks from a few query pixels "
                     f"({paths['attention']})")
    if "metric_curves" in paths:
        lines.append(f"  metrics.png      the metrics evaluated during training, against the step "
                     f"({paths['metric_curves']}; values in evaluations.jsonl)")
    lines += ["  metrics.jsonl    the logged statistics, one JSON record per line",
              f"  {paths['checkpoint'].name}  weights, optimiser states and RNG state; "
              f"continue with `minigan train --resume --out {paths['checkpoint'].parent}`, "
              f"sample with `minigan sample {paths['checkpoint']} -o grid.png`"]
    return "\n".join(lines)


def _recipes(args) -> None:
    from minigan.train.config import describe_recipes

    descriptions = describe_recipes()
    width = max(map(len, descriptions))
    for name, text in descriptions.items():
        print(f"{name:<{width}}  {text}")


def _load_game(path: Path):
    """The game of a checkpoint with its trained weights (sampling uses the EMA generator when there is one)."""
    from minigan.runner import load_game

    if not path.is_file():
        raise UsageError(f"checkpoint not found: {path}" if not path.exists() else f"{path} is not a file")
    game, _ = load_game(path)
    return game


def _conditions(game, label) -> dict:
    """``--label`` as the family's condition: a class (cgan, acgan) or a categorical code (infogan)."""
    if label is None:
        return {}
    if game.condition is None:
        raise UsageError(f"--label: the {game.name} family draws no labels; it applies to cgan, acgan and infogan")
    if not 0 <= label < game.condition_count:
        raise UsageError(f"--label must be in 0..{game.condition_count - 1} for this {game.name} checkpoint, "
                         f"got {label}")
    return {game.condition: label}


def _write_samples(samples: np.ndarray, out: Path, game, nrow: int | None = None) -> None:
    from minigan import viz
    from minigan.serialization import CheckpointError, atomic_path

    if not np.isfinite(samples).all():
        raise CheckpointError("the checkpoint's generator makes NaN or inf samples; it cannot be used")
    if out.suffix.lower() == ".npy":
        with atomic_path(out) as tmp, open(tmp, "wb") as f:
            np.save(f, samples)
    elif game.data.kind == "toy":
        viz.plot_toy_samples(samples, out, game.data.toy.centres)
    else:
        viz.save_image_grid(samples, out, nrow=nrow)
    print(f"wrote {out}")


def _sample(args) -> None:
    import minigan as mg

    checkpoint = Path(args.checkpoint)
    out = _output(args.output, PICTURE_OR_ARRAY, checkpoint)
    game = _load_game(checkpoint)
    if game.pairs is not None and out.suffix.lower() != ".npy":  # a picture of inputs, outputs and targets
        samples, columns = game.sample_grid(args.n, mg.Generator(args.seed))
        return _write_samples(samples, out, game, nrow=columns)
    samples = game.sample(args.n, mg.Generator(args.seed), **_conditions(game, args.label))
    # without --label a conditional family cycles through its classes: one column each
    columns = game.condition_count if game.condition == "labels" and args.label is None else None
    _write_samples(samples, out, game, nrow=columns)


def _interpolate(args) -> None:
    from minigan import viz

    checkpoint = Path(args.checkpoint)
    out = _output(args.output, PICTURE_OR_ARRAY, checkpoint)
    game = _load_game(checkpoint)
    if game.pairs is not None:
        raise UsageError(f"interpolate walks a generator's latent space; {game.name} has none (it translates "
                         "images): use `minigan sample`")
    rng = np.random.default_rng(args.seed)
    ends = rng.standard_normal((args.rows, 2, game.latent_dim))
    t = np.linspace(0, 1, args.steps)
    z = np.concatenate([viz.slerp(a, b, t) for a, b in ends]).astype(np.float32)
    samples = game.sample(len(z), z=z, **_conditions(game, args.label))
    _write_samples(samples, out, game, nrow=args.steps)


def _eval(args) -> None:
    from minigan.metrics import format_table, write_eval_json
    from minigan.runner import evaluate_checkpoint

    path = Path(args.checkpoint)
    if not path.is_file():
        raise UsageError(f"checkpoint not found: {path}" if not path.exists() else f"{path} is not a file")
    out = _output(args.output or str(path.parent / "eval.json"), JSON, path)
    results = evaluate_checkpoint(path, n=args.n, metrics=args.metrics or None, seed=args.seed)
    print(_held_out_table(results) if "held_out" in results else format_table(results))
    write_eval_json(results, out)
    print(f"wrote {out}")


def _held_out_table(results: dict) -> str:
    """The held-out scores of a checkpoint of the photos, one per line."""
    scores = results["held_out"]
    lines = [f"{results['game']} on the held-out {results['held_out_of']} ({results['recipe']}, step "
             f"{results['step']}): {scores['n']} images"]
    lines += [f"  {key:<24} {value:.4g}" for key, value in scores.items() if key != "n"]
    return "\n".join(lines)


def _sweep(args) -> None:
    from minigan import sweep

    if args.list:
        if args.spec:
            raise UsageError("sweep: --list takes no SPEC")
        descriptions = sweep.describe_specs()
        width = max(map(len, descriptions))
        for name, text in descriptions.items():
            print(f"{name:<{width}}  {text}")
        return
    if not args.spec:
        raise UsageError("sweep: name a SPEC (see `minigan sweep --list`) or give the path of a sweep .toml file")
    if args.scheduler and args.workers:
        raise UsageError("sweep: --workers sizes the local cluster; with --scheduler the cluster's workers run "
                         "the trials")
    spec = sweep.load_spec(args.spec)  # every trial's configuration checked before anything runs
    out = Path(args.out or f"sweeps/{spec.name}")
    records = sweep.run_sweep(spec, out, scheduler=args.scheduler, workers=args.workers, progress=not args.quiet)
    figures = sweep.write_figures(spec, records, out)
    print(sweep.ranked_table(spec, records))
    print(f"\nThe sweep is in {out}/: results.jsonl and results.csv (one record per trial), trials/<id>/ "
          "(each trial's run)" + (f", {', '.join(figures)}" if figures else ""))


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="minigan", description="GANs from scratch in NumPy.")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error (or set MINIGAN_DEBUG=1)")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN from a recipe (default: dcgan-digits)")
    t.add_argument("recipe", nargs="?", help="recipe name (see `minigan recipes`) or the path of a recipe .toml file")
    t.add_argument("--steps", type=at_least(1), help="generator steps (overrides the recipe)")
    t.add_argument("--out", help="run folder (default: runs/RECIPE)")
    t.add_argument("--seed", type=at_least(0), help="random seed (overrides the recipe)")
    t.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override any configuration key, e.g. --set optim.g_lr=1e-4 (repeatable)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=_train)

    r = sub.add_parser("recipes", help="list the recipes")
    r.set_defaults(run=_recipes)

    s = sub.add_parser("sample", help="draw samples from a checkpoint's generator")
    s.add_argument("checkpoint")
    s.add_argument("-n", type=at_least(1), default=64, help="number of samples (default 64)")
    s.add_argument("-o", "--output", default="samples.png", help="a .png picture or a .npy array of samples")
    s.add_argument("--seed", type=at_least(0), default=0)
    s.add_argument("--label", type=int, help="the class to draw (cgan, acgan) or the categorical code (infogan)")
    s.set_defaults(run=_sample)

    i = sub.add_parser("interpolate", help="spherical interpolation between latent vectors")
    i.add_argument("checkpoint")
    i.add_argument("-o", "--output", default="walk.png", help="a .png picture or a .npy array of samples")
    i.add_argument("--rows", type=at_least(1), default=8, help="walks, one per row (default 8)")
    i.add_argument("--steps", type=at_least(2), default=10, help="points along each walk, ends included (default 10)")
    i.add_argument("--seed", type=at_least(0), default=0)
    i.add_argument("--label", type=int, help="hold the class (cgan, acgan) or categorical code (infogan) fixed")
    i.set_defaults(run=_interpolate)

    e = sub.add_parser("eval", help="evaluate a checkpoint: mode coverage, Fréchet distance, KID, C2ST, ...")
    e.add_argument("checkpoint")
    e.add_argument("--n", type=at_least(2), default=5000, help="generated samples (default 5000)")
    e.add_argument("--metrics", nargs="+", help="which metrics (default: all that fit the data)")
    e.add_argument("-o", "--output", help="where to write the JSON results (default: eval.json beside the checkpoint)")
    e.add_argument("--seed", type=at_least(0), default=0)
    e.set_defaults(run=_eval)

    w = sub.add_parser("sweep", help="many short trainings on Dask, ranked by their metrics")
    w.add_argument("spec", nargs="?", help="a shipped sweep (see --list) or the path of a sweep .toml file")
    w.add_argument("--list", action="store_true", help="list the shipped sweeps")
    w.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://scheduler-host:8786 (default: a local cluster)")
    w.add_argument("--workers", type=at_least(1), help="local worker processes (default: one per core)")
    w.add_argument("--out", help="sweep folder (default: sweeps/SPEC); running again resumes it")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.set_defaults(run=_sweep)

    from minigan import bench

    b = sub.add_parser("bench", help="time training steps against PyTorch")
    bench.add_arguments(b)
    b.set_defaults(run=bench.run)
    return p


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean the user asked for something that cannot be done (one line, status 2)."""
    from minigan.bench import BenchUsageError
    from minigan.kernels import SettingError
    from minigan.metrics import MetricError
    from minigan.registry import ConfigError
    from minigan.runner import RunFolderError
    from minigan.serialization import CheckpointError, LogError
    from minigan.sweep import SweepError

    return (UsageError, ConfigError, CheckpointError, LogError, MetricError, RunFolderError, SettingError,
            BenchUsageError, SweepError, OSError, MemoryError)


def _describe(err: BaseException) -> str:
    """One line for a user error: an OSError names its file, MemoryError says what ran out."""
    if isinstance(err, OSError) and err.strerror and err.filename:
        return f"{err.filename}: {err.strerror}"
    if isinstance(err, MemoryError):
        return f"out of memory ({err}); is a size in the configuration too large?"
    return " ".join(str(err).split()) or type(err).__name__


def _warn(message, category, filename, lineno, file=None, line=None):
    print(f"minigan: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the ``minigan`` command on ``argv``; returns the exit status (see the module's docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv[:1] or os.environ.get("MINIGAN_DEBUG", "") not in ("", "0")
    from minigan import kernels
    from minigan.train.trainer import TrainingDiverged

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow and invalid-value warnings
        warnings.showwarning = _warn
        try:
            args = _parser().parse_args(argv)
            kernels.apply_policy()  # minigan's work starts: this run's share of the cores, the memory policy
            args.run(args)
            sys.stdout.flush()
        except BrokenPipeError:  # `minigan recipes | head`: the reader left, which is no error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except KeyboardInterrupt:
            print("minigan: interrupted; the last checkpoint is kept", file=sys.stderr)
            return 130
        except TrainingDiverged as err:
            print(f"minigan: {err}", file=sys.stderr)
            return 2
        except _user_errors() as err:
            if debug:
                traceback.print_exc()
            print(f"minigan: {_describe(err)}", file=sys.stderr)
            return 2
        except Exception as err:
            if debug:
                raise
            print(f"minigan: internal error, {type(err).__name__}: {_describe(err)} "
                  "(a bug in minigan; rerun with --debug for the traceback)", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
