"""The ``minigan`` command: train, recipes, sample, interpolate, eval, bench.

Every user error (unknown recipe, bad ``--set``, unreadable checkpoint)
prints one line to stderr and exits with status 2, leaving files untouched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

__all__ = ["main"]


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit status 2."""


def _train(args) -> None:
    from minigan.runner import run_training
    from minigan.serialization import CheckpointError
    from minigan.train import config as cfg
    from minigan.train.checkpoint import CHECKPOINT, load_checkpoint

    if args.steps is not None and args.steps < 0:
        raise UsageError(f"--steps must be at least 0, got {args.steps}")
    if args.resume:
        if args.recipe or args.set or args.seed is not None:
            raise UsageError("--resume continues the run in --out with its saved configuration; "
                             "only --steps may change")
        out = Path(args.out or "runs/dcgan-digits")
        if (out / CHECKPOINT).exists():
            try:
                load_checkpoint(out / CHECKPOINT)
            except (CheckpointError, OSError) as err:
                raise UsageError(f"cannot resume from {out / CHECKPOINT}: {err}") from None
        config = None
    else:
        recipe = args.recipe or "dcgan-digits"
        given = [f"train.{key}={value}" for key, value in (("steps", args.steps), ("seed", args.seed))
                 if value is not None]
        config = cfg.apply_overrides(cfg.load_recipe(recipe), args.set + given)
        out = Path(args.out or f"runs/{recipe}")
    paths = run_training(config, out, resume=args.resume, progress=not args.quiet,
                         steps=args.steps if args.resume else None)
    print(_summary(paths))


def _summary(paths: dict) -> str:
    lines = [f"Done. The run is in {paths['checkpoint'].parent}/:",
             f"  samples.png      what the generator makes now, from fixed latent vectors ({paths['samples']})"]
    if "losses" in paths:
        lines.append(f"  losses.png       discriminator and generator losses over training ({paths['losses']})")
    if "progress" in paths:
        lines.append(f"  progress.gif     the samples over training ({paths['progress']})")
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
    from minigan.serialization import CheckpointError

    if not path.exists():
        raise UsageError(f"checkpoint not found: {path}")
    try:
        game, _ = load_game(path)
    except (CheckpointError, OSError) as err:
        raise UsageError(f"cannot read checkpoint {path}: {err}") from None
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

    if out.suffix == ".npy":
        from minigan.serialization import atomic_path

        with atomic_path(out) as tmp, open(tmp, "wb") as f:
            np.save(f, samples)
    elif game.data.kind == "toy":
        viz.plot_toy_samples(samples, out, game.data.toy.centres)
    else:
        viz.save_image_grid(samples, out, nrow=nrow)
    print(f"wrote {out}")


def _sample(args) -> None:
    import minigan as mg

    if args.n < 1:
        raise UsageError(f"-n must be at least 1, got {args.n}")
    game = _load_game(Path(args.checkpoint))
    samples = game.sample(args.n, mg.Generator(args.seed), **_conditions(game, args.label))
    # without --label a conditional family cycles through its classes: one column each
    columns = game.condition_count if game.condition == "labels" and args.label is None else None
    _write_samples(samples, Path(args.output), game, nrow=columns)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""Spherical interpolation :math:`\frac{\sin((1-t)\Omega)}{\sin\Omega} a + \frac{\sin(t\Omega)}{\sin\Omega} b`,
    :math:`\cos\Omega = \hat a \cdot \hat b`; it keeps Gaussian latents at a typical norm (White 2016)."""
    cos = np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t)[:, None] * a + t[:, None] * b
    return (np.sin((1 - t) * omega)[:, None] * a + np.sin(t * omega)[:, None] * b) / np.sin(omega)


def _interpolate(args) -> None:
    game = _load_game(Path(args.checkpoint))
    rng = np.random.default_rng(args.seed)
    ends = rng.standard_normal((args.rows, 2, game.latent_dim))
    t = np.linspace(0, 1, args.steps)
    z = np.concatenate([slerp(a, b, t) for a, b in ends]).astype(np.float32)
    samples = game.sample(len(z), z=z, **_conditions(game, args.label))
    _write_samples(samples, Path(args.output), game, nrow=args.steps)


def _eval(args) -> None:
    from minigan.metrics import format_table, write_eval_json
    from minigan.runner import evaluate_checkpoint
    from minigan.serialization import CheckpointError

    path = Path(args.checkpoint)
    if not path.exists():
        raise UsageError(f"checkpoint not found: {path}")
    try:
        results = evaluate_checkpoint(path, n=args.n, metrics=args.metrics or None, seed=args.seed)
    except (ValueError, CheckpointError, OSError) as err:
        raise UsageError(f"cannot evaluate {path}: {err}") from None
    print(format_table(results))
    out = Path(args.output) if args.output else path.parent / "eval.json"
    write_eval_json(results, out)
    print(f"wrote {out}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minigan", description="GANs from scratch in NumPy.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN from a recipe (default: dcgan-digits)")
    t.add_argument("recipe", nargs="?", help="recipe name (see `minigan recipes`)")
    t.add_argument("--steps", type=int, help="generator steps (overrides the recipe)")
    t.add_argument("--out", help="run folder (default: runs/RECIPE)")
    t.add_argument("--seed", type=int, help="random seed (overrides the recipe)")
    t.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override any configuration key, e.g. --set optim.g_lr=1e-4 (repeatable)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=_train)

    r = sub.add_parser("recipes", help="list the recipes")
    r.set_defaults(run=_recipes)

    s = sub.add_parser("sample", help="draw samples from a checkpoint's generator")
    s.add_argument("checkpoint")
    s.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    s.add_argument("-o", "--output", default="samples.png", help="a .png picture or a .npy array of samples")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", type=int, help="the class to draw (cgan, acgan) or the categorical code (infogan)")
    s.set_defaults(run=_sample)

    i = sub.add_parser("interpolate", help="spherical interpolation between latent vectors")
    i.add_argument("checkpoint")
    i.add_argument("-o", "--output", default="walk.png")
    i.add_argument("--rows", type=int, default=8)
    i.add_argument("--steps", type=int, default=10)
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--label", type=int, help="hold the class (cgan, acgan) or categorical code (infogan) fixed")
    i.set_defaults(run=_interpolate)

    e = sub.add_parser("eval", help="evaluate a checkpoint: mode coverage, Fréchet distance, KID, C2ST, ...")
    e.add_argument("checkpoint")
    e.add_argument("--n", type=int, default=5000, help="generated samples (default 5000)")
    e.add_argument("--metrics", nargs="+", help="which metrics (default: all that fit the data)")
    e.add_argument("-o", "--output", help="where to write the JSON results (default: eval.json beside the checkpoint)")
    e.add_argument("--seed", type=int, default=0)
    e.set_defaults(run=_eval)

    sub.add_parser("bench", help="time training steps against PyTorch (options: minigan bench -h)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # the benchmark has its own options; hand them over untouched
        from minigan import bench

        return bench.main(argv[1:])
    args = _parser().parse_args(argv)
    from minigan.runner import RunExists
    from minigan.serialization import CheckpointError
    from minigan.train.config import ConfigError
    from minigan.train.trainer import TrainingDiverged

    try:
        args.run(args)
    except (UsageError, ConfigError, CheckpointError, RunExists, FileNotFoundError) as err:
        print(f"minigan: error: {err}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"minigan: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("minigan: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
