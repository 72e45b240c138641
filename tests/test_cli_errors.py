"""Bad input to the ``minigan`` command: one line ``minigan: ...``, exit status 2, and no file changed.

Each case is an argument list run in a folder holding two small trained runs
(``ring``: ring8; ``digits``: mlp-digits with an EMA generator), after an
optional change that breaks something (a corrupt checkpoint, a foreign
config, a held lock). The whole folder is compared byte for byte before and
after. ``pytest tests/test_cli_errors.py -q`` reports how many bad inputs
were tried; every one of them is handled cleanly or the test fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan import cli
from minigan.train import config as cfg
from minigan.train.checkpoint import CHECKPOINT, load_checkpoint

SMALL = ["model.g_hidden=[8]", "model.d_hidden=[8]", "model.latent_dim=4", "data.batch_size=8",
         "train.n_samples=4", "train.log_every=1", "train.checkpoint_every=1"]
RING, DIGITS = "ring/" + CHECKPOINT, "digits/" + CHECKPOINT
READ_ONLY = Path("/sys/minigan-cannot-write-here")  # read-only even for root


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A folder with the runs ``ring`` and ``digits``, trained once for every case."""
    root = tmp_path_factory.mktemp("runs")
    with contextlib.redirect_stdout(io.StringIO()):
        for name, recipe, extra in (("ring", "ring8", []), ("digits", "mlp-digits", ["optim.ema=0.9"])):
            argv = ["train", recipe, "--steps", "2", "--quiet", "--out", str(root / name)]
            assert cli.main(argv + [a for s in SMALL + extra for a in ("--set", s)]) == 0
    return root


# -- ways to break a run folder -----------------------------------------------------------------------------


def _tensor_span(path: Path, prefix: str) -> tuple[int, int]:
    """The byte range in the file of the first stored tensor whose name starts with ``prefix``."""
    data = path.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    name = next(n for n in header if n.startswith(prefix))
    start, end = header[name]["data_offsets"]
    return 8 + size + start, 8 + size + end


def _overwrite(path: Path, prefix: str, byte: int | None) -> None:
    start, end = _tensor_span(path, prefix)
    data = bytearray(path.read_bytes())
    if byte is None:  # flip up to 64 bytes spread over the tensor
        for i in np.linspace(start, end - 1, min(64, end - start)).astype(int):
            data[i] ^= 0x5A
    else:
        data[start:end] = bytes([byte]) * (end - start)
    path.write_bytes(bytes(data))


def _edit_state(path: Path, edit) -> None:
    state = load_checkpoint(path)
    edit(state)
    mg.save(state, path)


def _nan_weight(state, where=("networks", "D")):
    weight = next(iter(state[where[0]][where[1]].values()))
    weight.data[...] = np.nan


BREAK = {
    "truncated": lambda d: (d / RING).write_bytes((d / RING).read_bytes()[:300]),
    "empty": lambda d: (d / RING).write_bytes(b""),
    "pickled": lambda d: (d / RING).write_bytes(pickle.dumps({"format": "minigan-checkpoint"})),
    "header": lambda d: (d / RING).write_bytes((d / RING).read_bytes()[:8] + b"\xff" * 40
                                                 + (d / RING).read_bytes()[48:]),
    "text": lambda d: (d / RING).write_text("this is not a checkpoint\n"),
    "flipped": lambda d: _overwrite(d / RING, "networks/D/", None),
    "ff_ema": lambda d: _overwrite(d / DIGITS, "averaged/G/", 0xFF),
    "nan_weight": lambda d: _edit_state(d / RING, _nan_weight),
    "nan_ema": lambda d: _edit_state(d / DIGITS, lambda s: _nan_weight(s, ("averaged", "G"))),
    "state_dict": lambda d: mg.save({"weight": mg.zeros(2, 2)}, d / RING),
    "other_model": lambda d: _edit_state(d / RING, lambda s: s["config"]["model"].update(g_hidden=[16])),
    "folder": lambda d: ((d / RING).unlink(), (d / RING).mkdir()),
    "foreign": lambda d: shutil.copy(d / RING, d / DIGITS),
    "bad_config_json": lambda d: (d / "ring" / "config.json").write_text("{ not json"),
    "file_out": lambda d: (d / "afile").write_text("keep me\n"),
    "not_png": lambda d: (d / "notes.png").write_text("my notes, not a picture\n"),
    "bad_recipe": lambda d: (d / "bad.toml").write_text("[optim\nd_lr = 1\n"),
    "unknown_section": lambda d: (d / "extra.toml").write_text("[optimiser]\nd_lr = 1e-4\n"),
    "unknown_key": lambda d: (d / "typo.toml").write_text("[optim]\nd_lr = 1e-4\ng_rl = 1e-4\n"),
    "folder_recipe": lambda d: (d / "dir.toml").mkdir(),
    "binary_recipe": lambda d: (d / "binary.toml").write_bytes(b"\xff\xfe\x00\x01"),
}


@contextlib.contextmanager
def _held_lock(folder: Path):
    """The lock of a run folder held as another process would hold it (flock is per open file)."""
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    (folder / ".lock").write_text("4242\n")
    try:
        yield
    finally:
        os.close(fd)


# -- the cases: (argv, what breaks first, a fragment of the one line) -----------------------------------------


def _range_cases() -> list:
    """For every numeric key with an interval: values just outside it, and a value of the wrong type."""
    cases = []
    for key, interval in cfg.RANGES.items():
        low = float(interval[1:].split(",")[0])
        outside = low if interval[0] == "(" else low - 1
        value = int(outside) if isinstance(cfg.DEFAULTS[key.split(".")[0]][key.split(".")[1]], int) else outside
        cases.append((["train", "ring8", "--set", f"{key}={value}"], None, f"{key} must be in {interval}"))
        cases.append((["train", "ring8", "--set", f"{key}=lots"], None, f"{key} must be"))
    for key, choices in cfg.CHOICES.items():
        wrong = 2 if isinstance(choices[0], int) else "bogus"
        cases.append((["train", "ring8", "--set", f"{key}={wrong}"], None, f"{key} must be one of"))
    return cases


CASES = _range_cases() + [
    # options of the command
    (["train", "ring8", "--steps", "0"], None, "argument --steps: must be at least 1, got 0"),
    (["train", "ring8", "--steps", "-5"], None, "argument --steps: must be at least 1, got -5"),
    (["train", "ring8", "--steps", "ten"], None, "argument --steps: expected an integer, got 'ten'"),
    (["train", "ring8", "--seed", "-1"], None, "argument --seed: must be at least 0"),
    (["train", "ring8", "--bogus"], None, "unrecognized arguments: --bogus"),
    (["train", "ring9"], None, "unknown recipe 'ring9'"),
    (["train", "missing.toml"], None, "recipe file missing.toml not found"),
    (["train", "dir.toml"], "folder_recipe", "recipe file dir.toml is a folder"),
    (["train", "bad.toml"], "bad_recipe", "recipe file bad.toml:"),
    (["train", "extra.toml"], "unknown_section", "unknown section [optimiser]"),
    (["train", "typo.toml"], "unknown_key", "unknown key optim.g_rl"),
    (["train", "binary.toml"], "binary_recipe", "cannot read recipe file binary.toml"),
    (["train", "ring8", "--set", "optim.glr=1"], None, "unknown key optim.glr"),
    (["train", "ring8", "--set", "optimiser.g_lr=1"], None, "unknown section 'optimiser'"),
    (["train", "ring8", "--set", "optim"], None, "--set expects section.key=value"),
    (["train", "ring8", "--set", "=1"], None, "--set expects section.key=value"),
    (["train", "ring8", "--set", "optim.d_lr="], None, "optim.d_lr must be float"),
    (["train", "ring8", "--set", "optim.d_lr=nan"], None, "optim.d_lr must be in (0, inf), got nan"),
    (["train", "ring8", "--set", "optim.d_lr=inf"], None, "optim.d_lr must be in (0, inf), got inf"),
    (["train", "ring8", "--set", "model.g_hidden=[0]"], None, "model.g_hidden must be a list of positive integers"),
    (["train", "ring8", "--set", "model.g_hidden=8"], None, "model.g_hidden must be list"),
    (["train", "ring8", "--set", "loss.name=nope"], None, "loss.name: unknown"),
    (["train", "ring8", "--set", "game.name=cgan"], None, "needs labelled data"),
    (["train", "mlp-digits", "--set", "data.batch_size=1"], None,
     "data.batch_size = 1 with model.pack = 1 gives batches of one, and G has batch normalisation"),
    (["train", "dcgan-digits", "--set", "data.batch_size=2", "--set", "model.pack=2",
      "--set", "model.g_batch_norm=false"], None, "and D has batch normalisation (BatchNorm2d)"),
    (["train", "ring8", "--set", "train.eval_every=1", "--set", 'train.eval_metrics=["fd"]'], None,
     "'fd' cannot be computed on ring8"),
    (["train", "ring8", "--set", "model.latent_dim=100000000000000"], None, "out of memory"),
    (["sample", RING, "-n", "0"], None, "argument -n: must be at least 1, got 0"),
    (["sample", RING, "-n", "-3"], None, "argument -n: must be at least 1, got -3"),
    (["sample", RING, "--seed", "-2"], None, "argument --seed: must be at least 0"),
    (["sample", RING, "--label", "1"], None, "draws no labels"),
    (["sample", RING, "--label", "x"], None, "argument --label: invalid int value: 'x'"),
    (["interpolate", RING, "--steps", "0"], None, "argument --steps: must be at least 2, got 0"),
    (["interpolate", RING, "--steps", "1"], None, "argument --steps: must be at least 2, got 1"),
    (["interpolate", RING, "--rows", "0"], None, "argument --rows: must be at least 1, got 0"),
    (["eval", RING, "--n", "0"], None, "argument --n: must be at least 2, got 0"),
    (["eval", RING, "--n", "1"], None, "argument --n: must be at least 2, got 1"),
    (["eval", RING, "--metrics", "fd", "--n", "20"], None, "metrics fd do not apply to toy data"),
    (["bench", "--batch", "0"], None, "argument --batch: must be at least 1, got 0"),
    (["bench", "--rounds", "-1"], None, "argument --rounds: must be at least 1"),
    (["bench", "--workloads", "resnet"], None, "argument --workloads: invalid choice: 'resnet'"),
    (["bench", "--json", "nodir/bench.json"], None, "--json nodir/bench.json: folder nodir does not exist"),
    (["bench", "--json", "/sys/bench.json"], None, "--json /sys/bench.json: cannot write in /sys"),
    (["bench", "--profile", "--json", "bench.json"], None, "--json saves the timing tables, which --profile"),
    (["frobnicate"], None, "invalid choice: 'frobnicate'"),
    ([], None, "the following arguments are required: command"),
    # outputs
    (["sample", RING, "-o", RING], None, "unknown format '.safetensors'"),
    (["eval", RING, "-o", RING, "--n", "20"], None, "unknown format '.safetensors'"),
    (["interpolate", RING, "-o", RING], None, "unknown format '.safetensors'"),
    (["sample", RING, "-o", "out.xyz"], None, "unknown format '.xyz'; the extension decides it: .png"),
    (["sample", RING, "-o", "samples"], None, "unknown format '(no extension)'"),
    (["eval", RING, "-o", "eval.png", "--n", "20"], None, "unknown format '.png'; the extension decides it: .json"),
    (["sample", RING, "-o", "nodir/x.png"], None, "-o nodir/x.png: folder nodir does not exist"),
    (["eval", RING, "-o", "nodir/e.json", "--n", "20"], None, "-o nodir/e.json: folder nodir does not exist"),
    (["sample", RING, "-o", "notes.png"], "not_png", "-o notes.png exists and is not a PNG picture"),
    (["sample", RING, "-o", "ring/config.json"], None, "unknown format '.json'"),
    (["sample", RING, "-o", str(READ_ONLY / "x.png")], None, "folder /sys/minigan-cannot-write-here does not exist"),
    (["sample", RING, "-o", "/sys/x.png"], None, "cannot write in /sys"),
    (["interpolate", RING, "-o", "/sys/x.png"], None, "cannot write in /sys"),
    (["eval", RING, "-o", "/sys/e.json", "--n", "20"], None, "cannot write in /sys"),
    (["train", "ring8", "--out", "afile"], "file_out", "afile is a file, not a run folder"),
    (["train", "ring8", "--out", "/sys/minigan-run", "--steps", "1"], None, "/sys/minigan-run: "),
    (["train", "ring8", "--out", "ring"], None, "ring already holds a run; pass --resume"),
    # checkpoints that cannot be read
    (["sample", "missing.safetensors"], None, "checkpoint not found: missing.safetensors"),
    (["eval", "missing.safetensors"], None, "checkpoint not found: missing.safetensors"),
    (["interpolate", "missing.safetensors"], None, "checkpoint not found: missing.safetensors"),
    (["sample", "ring"], None, "ring is not a file"),
    (["eval", "ring"], None, "ring is not a file"),
    (["train", "--resume", "--out", "nowhere"], None, "no checkpoint at nowhere/checkpoint.safetensors"),
    (["train", "--resume", "--out", "ring", "--set", "optim.d_lr=1"], None, "only --steps may change"),
    (["train", "ring8", "--resume", "--out", "ring"], None, "only --steps may change"),
    (["train", "--resume", "--out", "ring", "--steps", "1"], None, "--steps 1 is behind the checkpoint"),
    (["train", "--resume", "--out", "digits"], "foreign",
     "does not match digits/config.json: it is a run of 'ring8', the folder one of 'mlp-digits'"),
    (["train", "--resume", "--out", "ring", "--steps", "3"], "bad_config_json", "config.json is not a readable"),
    (["train", "--resume", "--out", "ring", "--steps", "3"], "folder", "no checkpoint at"),
    (["sample", DIGITS], "ff_ema", "averaged/G/"),
    (["sample", DIGITS, "-o", "x.npy"], "nan_ema", "averaged/G/net.0.weight holds non-finite values"),
    (["eval", DIGITS, "--n", "20"], "nan_ema", "averaged/G/net.0.weight holds non-finite values"),
    (["eval", DIGITS, "--n", "20"], "ff_ema", "averaged/G/"),
    (["train", "--resume", "--out", "digits", "--steps", "3"], "ff_ema", "averaged/G/"),
]
for _name in ("truncated", "empty", "pickled", "header", "text", "flipped", "nan_weight", "state_dict",
              "other_model"):
    _fragment = {"flipped": "networks/D/", "nan_weight": "NaN", "state_dict": "not a minigan training checkpoint",
                 "other_model": "does not fit the game"}.get(_name, RING)
    CASES += [(["sample", RING, "-o", "x.png"], _name, _fragment),
              (["interpolate", RING, "-o", "x.png"], _name, _fragment),
              (["eval", RING, "--n", "20"], _name, _fragment),
              (["train", "--resume", "--out", "ring", "--steps", "3"], _name,
               "they differ in model.g_hidden" if _name == "other_model" else _fragment)]


def _read_only(folder: str) -> bool:
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return Path(folder).is_dir()
    return False


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("argv,broken,fragment", CASES, ids=[" ".join(c[0])[:60] + (f" [{c[1]}]" if c[1] else "")
                                                              for c in CASES])
def test_a_bad_input_is_one_line_with_status_2_and_changes_nothing(argv, broken, fragment, runs, tmp_path, capsys,
                                                                   monkeypatch):
    if any(a.startswith("/sys") for a in argv) and not _read_only("/sys"):
        pytest.skip("needs a read-only /sys")
    shutil.copytree(runs, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    if broken:
        BREAK[broken](tmp_path)
    before = _tree(tmp_path)
    status = cli.main(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert status == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("minigan: "), captured.err
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert _tree(tmp_path) == before


def test_a_run_folder_in_use_is_refused_naming_the_holder(runs, tmp_path, capsys, monkeypatch):
    shutil.copytree(runs, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    with _held_lock(tmp_path / "ring"):
        before = _tree(tmp_path)
        assert cli.main(["train", "--resume", "--out", "ring", "--steps", "3"]) == 2
        assert _tree(tmp_path) == before
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ring is in use by another minigan process (PID 4242)" in err


def test_debug_shows_the_traceback_of_a_user_error(runs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--debug", "sample", "missing.safetensors"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.splitlines()[-1] == "minigan: checkpoint not found: missing.safetensors"


def test_an_internal_error_is_one_line_asking_for_debug_and_debug_raises_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "_recipes", broken)
    assert cli.main(["recipes"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error, ZeroDivisionError: a bug" in err and "--debug" in err
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "recipes"])
    monkeypatch.setenv("MINIGAN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["recipes"])


def test_numpy_warnings_never_reach_the_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def noisy(args):
        np.log(np.zeros(2))
        np.float32(3e38) * np.float32(10)
        print("done")

    monkeypatch.setattr(cli, "_recipes", noisy)
    assert cli.main(["recipes"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "done\n" and captured.err == ""


def test_a_reader_that_leaves_early_is_no_error():
    """``minigan recipes | head -1``: the pipe closes before minigan has written everything."""
    process = subprocess.Popen([sys.executable, "-m", "minigan", "recipes"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""


@pytest.mark.parametrize("setting, fragment", [
    ("MINIGAN_NUM_THREADS=two", "MINIGAN_NUM_THREADS must be a positive integer, got 'two'"),
    ("MINIGAN_NUM_THREADS=0", "MINIGAN_NUM_THREADS must be a positive integer, got '0'"),
    ("MINIGAN_MALLOC=often", "MINIGAN_MALLOC must be 'reuse' or 'system', got 'often'"),
    ("MINIGAN_KERNELS=fast", "MINIGAN_KERNELS must be one of auto, numba, numpy, got 'fast'"),
])
def test_a_bad_environment_setting_is_one_line_with_status_2(setting, fragment, tmp_path):
    """Settings are read when the work starts (in a fresh process: the policy applies once per process)."""
    name, value = setting.split("=")
    run = subprocess.run([sys.executable, "-m", "minigan", "train", "ring8", "--steps", "1", "--out",
                          str(tmp_path / "run")], env={**os.environ, name: value}, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and run.stderr.splitlines() == [f"minigan: {fragment}"], run.stderr
    assert not (tmp_path / "run").exists()
