"""Property: whatever arguments and ``--set`` values a user types, ``minigan`` ends with status 0 or 2, never a
traceback, at most one line on stderr when it refuses, and no file touched outside the run folder."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from minigan import cli
from minigan.train import config as cfg
from minigan.train.checkpoint import CHECKPOINT


def mostly(valid: list, wild):
    """A valid value four times in five, so that many commands get past one check to the next."""
    return st.tuples(st.integers(0, 4), st.sampled_from(valid), wild).map(lambda t: t[2] if t[0] == 4 else t[1])


KEYS = sorted(f"{section}.{key}" for section, table in cfg.defaults().items() if isinstance(table, dict)
              for key in table)
NUMBERS = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([-1e-300, 0.5, -0.5, 1e308, -1e308, 10**20, -10**20, 2**63, 2**64, 10**400]))
VALUES = st.one_of(NUMBERS.map(str), st.text(max_size=6),
                   st.sampled_from(["", "abc", "[]", "[1, 2]", "[0]", "[-1]", "[1e9]", "true", "false", '"x"', "nan",
                                    "inf", "-inf", "{}", "[", "1e400", "0x10", '"none"', "gp", "mlp", "cgan"]))
KEY_NAMES = st.one_of(st.sampled_from(KEYS), st.text(max_size=8),
                      st.sampled_from(["optim.glr", "nosection.x", "train", "model..x"]))
# a valid setting: a key (outside [data]) at its default, written as TOML
SETTINGS = mostly([f"{section}.{key}={json.dumps(value)}" for section, table in cfg.defaults().items()
                   if isinstance(table, dict) and section != "data" for key, value in table.items()],
                  st.builds("{}={}".format, KEY_NAMES, VALUES))
STEPS = mostly(["1", "2", "3"], st.one_of(st.integers(-3, 3).map(str), st.sampled_from(["", "x", "1.5", "1e3"])))
COUNT = mostly(["2", "5", "9"], st.one_of(st.integers(-3, 12).map(str), st.sampled_from(["", "x", "2.5"])))
OUTPUT = mostly(["x.png", "x.npy"], st.sampled_from(["x.json", "x.xyz", "x", "nodir/x.png", "ring/" + CHECKPOINT,
                                                     "ring/config.json", "ring"]))
RECIPE = mostly(["ring8", "grid25", "mlp-digits"], st.sampled_from(["", "ring9", "x.toml"]))
CHECKPOINT_PATH = mostly(["ring/" + CHECKPOINT], st.sampled_from(["ring", "missing.safetensors", "ring/config.json"]))


def _train_argv():
    return st.builds(lambda recipe, steps, sets, seed: ["train", *([recipe] if recipe else []), "--out", "out",
                                                        "--quiet", "--steps", steps,
                                                        *[a for s in sets for a in ("--set", s)],
                                                        *(["--seed", seed] if seed is not None else [])],
                     RECIPE, STEPS, st.lists(SETTINGS, max_size=3), st.none() | COUNT)


def _reading_argv():
    sample = st.builds(lambda c, n, o, seed, label: ["sample", c, "-n", n, "-o", o, "--seed", seed,
                                                     *(["--label", label] if label else [])],
                       CHECKPOINT_PATH, COUNT, OUTPUT, COUNT, st.none() | st.none() | COUNT)
    interpolate = st.builds(lambda c, rows, steps, o: ["interpolate", c, "--rows", rows, "--steps", steps, "-o", o],
                            CHECKPOINT_PATH, COUNT, COUNT, OUTPUT)
    evaluate = st.builds(lambda c, n, o, metrics: ["eval", c, "--n", n, *(["-o", o] if o else []),
                                                   *(["--metrics", *metrics] if metrics else [])],
                         CHECKPOINT_PATH, COUNT, st.none() | OUTPUT,
                         st.lists(st.sampled_from(["mmd", "fd", "mode_coverage", "c2st", "nope"]), max_size=2))
    return st.one_of(sample, interpolate, evaluate)


@pytest.fixture(scope="module")
def ring(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ring")
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["train", "ring8", "--steps", "2", "--quiet", "--out", str(root / "ring"),
                         "--set", "model.g_hidden=[8]", "--set", "model.d_hidden=[8]"]) == 0
    return root / "ring"


def _files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _allowed(argv: list[str]) -> set[str]:
    """What the command may write: its output (``-o``, else its default), the run folder of a training."""
    if argv[0] == "train":
        return {"out"}
    default = {"sample": "samples.png", "interpolate": "walk.png", "eval": str(Path(argv[1]).parent / "eval.json")}
    return {argv[argv.index("-o") + 1] if "-o" in argv else default[argv[0]]}


@given(argv=_train_argv())
def test_any_training_command_ends_in_status_0_or_2_with_one_line_and_touches_nothing_outside_its_run(argv, ring):
    _check(argv, ring)


@given(argv=_reading_argv())
def test_any_sample_interpolate_or_eval_command_ends_in_status_0_or_2_and_writes_only_its_output(argv, ring):
    _check(argv, ring)


def _check(argv: list[str], ring: Path) -> None:
    """Run ``minigan argv`` in a fresh folder holding a copy of ``ring``; check status, stderr and files."""
    with tempfile.TemporaryDirectory() as where:
        folder = Path(where)
        shutil.copytree(ring, folder / "ring")
        before = _files(folder)
        err, out = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                status = cli.main(argv)
        finally:
            os.chdir(cwd)
        after = _files(folder)
    event(f"status {status}")
    assert status in (0, 2), (argv, err.getvalue())
    assert "Traceback" not in err.getvalue() + out.getvalue()
    if status == 2:
        assert len(err.getvalue().splitlines()) == 1 and err.getvalue().startswith("minigan: "), err.getvalue()
    # a refusal changes nothing; a run that diverged keeps its checkpoint, in its own folder
    allowed = _allowed(argv) if status == 0 or "training diverged" in err.getvalue() else set()

    def outside(files):
        return {p: d for p, d in files.items() if p not in allowed and p.split("/")[0] not in allowed}

    assert outside(after) == outside(before), argv
