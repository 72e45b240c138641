import fcntl
import json
import math
import os
import re
import threading
import warnings
from collections import OrderedDict

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

from minigan.autograd import Tensor
from minigan.serialization import (
    CheckpointError,
    LogError,
    TornLogWarning,
    append_jsonl,
    atomic_path,
    load,
    read_jsonl,
    remove_partial_files,
    save,
    write_jsonl,
)


def assert_same(saved, loaded):
    """``loaded`` is what ``saved`` should come back as: same types, keys, order, dtypes and bits."""
    if isinstance(saved, Tensor):
        assert type(loaded) is Tensor and not loaded.requires_grad
        saved, loaded = saved.array, loaded.array
    if isinstance(saved, (np.ndarray, np.generic)):
        assert type(loaded) is type(saved)
        assert (loaded.dtype, loaded.shape) == (saved.dtype, saved.shape)
        assert loaded.tobytes() == saved.tobytes()
    elif isinstance(saved, dict):
        assert type(loaded) is dict
        assert [(type(k), k) for k in loaded] == [(type(k), k) for k in saved]
        for key in saved:
            assert_same(saved[key], loaded[key])
    elif isinstance(saved, (list, tuple)):
        assert type(loaded) is type(saved) and len(loaded) == len(saved)
        for a, b in zip(saved, loaded):
            assert_same(a, b)
    elif isinstance(saved, float):
        assert type(loaded) is float
        assert (math.isnan(saved) and math.isnan(loaded)) or (saved == loaded and
                                                              math.copysign(1, saved) == math.copysign(1, loaded))
    else:
        assert type(loaded) is type(saved) and loaded == saved


def round_trip(state, path):
    save(state, path)
    loaded = load(path)
    assert_same(state, loaded)
    return loaded


arrays = hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
leaves = st.one_of(
    arrays, arrays.map(Tensor), st.none(), st.booleans(), st.text(max_size=8),
    st.integers(), st.integers(min_value=-2**200, max_value=2**200), st.floats(),
    st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e-310, 0.1]),
)
structures = st.recursive(leaves, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.lists(children, max_size=4).map(tuple),
    st.dictionaries(st.one_of(st.text(max_size=6), st.integers(-3, 3)), children, max_size=4),
), max_leaves=12)


@given(state=structures)
def test_any_nested_structure_round_trips_exactly(state, tmp_path_factory):
    round_trip(state, tmp_path_factory.mktemp("rt") / "state.safetensors")


def test_a_model_state_dict_round_trips(tmp_path, rng):
    state = OrderedDict([("0.weight", Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)),
                         ("0.bias", Tensor(np.zeros(4, np.float32))),
                         ("1.running_mean", Tensor(rng.standard_normal(4))),
                         ("1.num_batches_tracked", Tensor(np.array(7, np.int64))),
                         ("2.weight", Tensor(rng.standard_normal((3, 2)).T))])  # not contiguous
    loaded = round_trip(state, tmp_path / "model.safetensors")
    assert list(loaded) == list(state)


def test_an_optimiser_state_dict_keeps_int_keys_and_tuples(tmp_path, rng):
    state = {"state": {0: {"step": 3, "exp_avg": Tensor(rng.standard_normal(3)), "exp_avg_sq": Tensor(np.ones(3))},
                       1: {"step": 3, "exp_avg": Tensor(np.zeros((2, 2), np.float32))}},
             "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False, "params": [0, 1]}]}
    loaded = round_trip(state, tmp_path / "opt.safetensors")
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999) and 0 in loaded["state"]


def test_colliding_paths_and_numpy_scalars_are_kept_apart(tmp_path):
    state = {"a/b": np.arange(2), "a": {"b": np.arange(3)}, 1: np.ones(1), "1": np.zeros(1),
             "__metadata__": np.eye(2), "x": np.float32(1.5), "y": np.int64(-2), "z": np.bool_(True)}
    round_trip(state, tmp_path / "c.safetensors")
    round_trip(Tensor(np.ones(2)), tmp_path / "t.safetensors")  # a bare tensor as the whole state


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
def test_a_generator_state_round_trips_and_the_generator_continues_identically(tmp_path, bit_generator):
    rng = np.random.Generator(bit_generator(0))
    rng.random(5)
    save({"rng": rng.bit_generator.state, "step": 5}, tmp_path / "ckpt.safetensors")
    expected = rng.random(10)
    restored = np.random.Generator(bit_generator())
    restored.bit_generator.state = load(tmp_path / "ckpt.safetensors")["rng"]
    np.testing.assert_array_equal(restored.random(10), expected)
    assert_same(rng.bit_generator.state, restored.bit_generator.state)


@pytest.fixture
def saved(tmp_path, rng):
    path = tmp_path / "ckpt.safetensors"
    save({"w": Tensor(rng.standard_normal((8, 8))), "step": 1, "name": "ring8"}, path)
    return path


def test_a_truncated_file_is_a_checkpoint_error_naming_it(saved):
    data = saved.read_bytes()
    for cut in [0, 3, 8, 40, len(data) // 2, len(data) - 1]:
        saved.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=str(saved)):
            load(saved)


def test_random_bytes_and_foreign_safetensors_files_are_checkpoint_errors(tmp_path, rng):
    noise, foreign, future = (tmp_path / name for name in ("noise.bin", "foreign.safetensors", "future.safetensors"))
    noise.write_bytes(rng.bytes(1000))
    foreign.write_bytes(safetensors.numpy.save({"w": np.ones(3)}))
    future.write_bytes(safetensors.numpy.save({"w": np.ones(3)}, metadata={"minigan": '{"version": 99, "tree": 1}'}))
    for path, message in [(noise, "not a safetensors file"), (foreign, "not written by minigan"),
                          (future, "version 99")]:
        with pytest.raises(CheckpointError, match=message) as err:
            load(path)
        assert str(path) in str(err.value) and isinstance(err.value, ValueError)


def test_a_missing_file_or_directory_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load(tmp_path / "nope.safetensors")
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        save({}, tmp_path / "no_such_dir" / "x.safetensors")
    assert not (tmp_path / "no_such_dir").exists()


def test_an_unsaveable_leaf_names_its_path_and_leaves_the_old_file_alone(saved):
    before, listing = saved.read_bytes(), sorted(os.listdir(saved.parent))
    state = {"optimizer": {"state": {0: {"step": 1, "fn": lambda x: x}}}}
    with pytest.raises(TypeError, match=r"state\['optimizer'\]\['state'\]\[0\]\['fn'\]"):
        save(state, saved)
    with pytest.raises(TypeError, match=r"state\[1\]\[0\].*complex128"):
        save([1, [np.ones(2, np.complex128)]], saved)
    assert saved.read_bytes() == before and sorted(os.listdir(saved.parent)) == listing


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary_file(saved, monkeypatch):
    before, listing = saved.read_bytes(), sorted(os.listdir(saved.parent))

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save({"w": Tensor(np.zeros(100))}, saved)
    assert saved.read_bytes() == before and sorted(os.listdir(saved.parent)) == listing


def test_save_replaces_an_existing_file(saved):
    save({"step": 2}, str(saved))
    assert load(str(saved)) == {"step": 2}
    assert os.listdir(saved.parent) == [saved.name]


# -- temporary files ---------------------------------------------------------------------------------------

def test_a_temporary_is_recognisable_keeps_the_suffix_and_has_a_normal_files_mode(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    for name, suffix, expected in [("samples.png", None, ".png"), ("checkpoint.safetensors", ".tmp", ".tmp"),
                                   ("README", None, "")]:
        with atomic_path(tmp_path / name, suffix=suffix) as tmp:
            assert re.fullmatch(rf"\.{re.escape(name)}\.partial-[0-9a-f]{{8}}{re.escape(expected)}", tmp.name)
            assert tmp.parent == tmp_path and tmp.suffix == (expected or tmp.suffix)
            assert tmp.stat().st_mode & 0o777 == 0o666 & ~umask
            tmp.write_text("x")
        assert (tmp_path / name).read_text() == "x" and not tmp.exists()


def test_leftover_partial_files_are_removed_and_nothing_else(tmp_path):
    crashed = atomic_path(tmp_path / "samples.png")
    left = crashed.__enter__()  # a process killed before __exit__ leaves this behind
    others = [".checkpoint.safetensors.partial-0123abcd.tmp", ".metrics.jsonl.partial-deadbeef.jsonl",
              ".README.partial-00000000"]
    kept = ["notes.partial.txt", ".hidden.png", "samples.png", ".samples.png.partial-0123abc.png",
            ".samples.png.partial-0123ABCD.png", "samples.png.partial-0123abcd.png", ".partial-0123abcd.png"]
    for name in others + kept:
        (tmp_path / name).write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / others[0]).write_text("")  # not recursive
    (tmp_path / ".dir.partial-0123abcd").mkdir()   # only files
    removed = remove_partial_files(tmp_path)
    assert removed == sorted(tmp_path / name for name in [left.name, *others])
    assert sorted(os.listdir(tmp_path)) == sorted([*kept, "sub", ".dir.partial-0123abcd"])
    assert (tmp_path / "sub" / others[0]).exists()
    assert remove_partial_files(tmp_path) == [] and remove_partial_files(tmp_path / "missing") == []


# -- JSON-lines logs ---------------------------------------------------------------------------------------

def test_jsonl_records_come_back_in_order_with_non_finite_floats(tmp_path):
    path = tmp_path / "metrics.jsonl"
    assert read_jsonl(path) == [] and not path.exists()  # a log not yet written holds no records
    records = [{"step": 1, "d_loss": 0.5}, {"step": 2, "d_loss": math.inf, "note": "é"}]
    for record in records:
        append_jsonl(str(path), record)
    assert read_jsonl(str(path)) == records
    path.write_text(path.read_text() + "\n")  # blank lines are not records
    append_jsonl(path, {"step": 3, "d_loss": math.nan})
    back = read_jsonl(path)
    assert len(back) == 3 and math.isnan(back[-1]["d_loss"])
    assert all(line.startswith("{") for line in path.read_text().splitlines() if line)


def test_write_jsonl_replaces_the_log_atomically(tmp_path):
    path = tmp_path / "evaluations.jsonl"
    append_jsonl(path, {"step": 1})
    write_jsonl(path, [{"step": 0}, {"step": 1, "fid": 3.5}])
    assert read_jsonl(path) == [{"step": 0}, {"step": 1, "fid": 3.5}]
    assert os.listdir(tmp_path) == [path.name]


RECORDS = [{"step": 1, "d_loss": 0.5}, {"step": 2, "d_loss": math.inf, "note": "é"}, {"step": 3, "g_loss": -1.25}]


@given(cut=st.integers(0, 10**6))
def test_a_log_cut_anywhere_reads_back_its_complete_lines(tmp_path_factory, cut):
    path = tmp_path_factory.mktemp("log") / "metrics.jsonl"
    for record in RECORDS:
        append_jsonl(path, record)
    data = path.read_bytes()
    cut %= len(data) + 1
    path.write_bytes(data[:cut])
    ends = [data.index(b"}\n", data.index(json.dumps(r).encode())) + 1 for r in RECORDS]  # just past each "}"
    complete = sum(end <= cut for end in ends)
    torn = data[:cut].rstrip() and not data[:cut].rstrip().endswith(b"}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read_jsonl(path) == RECORDS[:complete]
    assert [str(w.message) for w in caught] == (
        [f"{path}: dropped an incomplete last line (a crash while it was written)"] if torn else [])
    assert all(issubclass(w.category, TornLogWarning) and w.filename == __file__ for w in caught)


def test_a_multibyte_character_cut_in_half_is_a_torn_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 1}\n' + '{"step": 2, "note": "é"}'.encode()[:-4])  # ends inside the é
    with pytest.warns(TornLogWarning, match="incomplete last line"):
        assert read_jsonl(path) == [{"step": 1}]


@pytest.mark.parametrize("bad", [b"{\"step\": 2", b"[1, 2]", b"\xff\xfe", b"\x00\x00\x00"])
def test_a_bad_line_before_the_last_is_a_log_error_naming_the_file_and_line(tmp_path, bad):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 1}\n\n' + bad + b'\n{"step": 3}\n')
    with pytest.raises(LogError, match=rf"{re.escape(str(path))}: line 3 is not a JSON object") as err:
        read_jsonl(path)
    assert isinstance(err.value, ValueError)


def test_appending_after_a_torn_line_removes_it_first_without_a_second_warning(tmp_path):
    path = tmp_path / "metrics.jsonl"
    torn = [b'{"step": 2, "d_lo',
            b'{"step": 2, "x": "' + b"a" * 20000,  # longer than one block read from the end
            b"\x00" * 5000]                       # what a crash can leave: the line's bytes, zeroed
    for tail in torn:
        path.write_bytes(b'{"step": 1}\n' + tail)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # read_jsonl is the one that warns about it
            append_jsonl(path, {"step": 2})
        assert path.read_bytes() == b'{"step": 1}\n{"step": 2}\n'
    path.write_bytes(b"\x00" * 5000)
    append_jsonl(path, {"step": 1})
    assert path.read_bytes() == b'{"step": 1}\n'


def test_appending_after_a_complete_line_without_its_newline_keeps_it(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 1}\n{"step": 2}')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        append_jsonl(path, {"step": 3})
        assert read_jsonl(path) == [{"step": 1}, {"step": 2}, {"step": 3}]


def test_a_record_is_one_write_on_an_append_only_descriptor(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, {"step": 1})
    writes, real_write = [], os.write

    def write(fd, data):
        writes.append((fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND, bytes(data)))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    append_jsonl(path, {"step": 2, "d_loss": 0.5})
    assert writes == [(os.O_APPEND, b'{"step": 2, "d_loss": 0.5}\n')]


def test_concurrent_appends_never_interleave(tmp_path):
    path = tmp_path / "metrics.jsonl"
    padding = "x" * 5000  # lines longer than a page

    def writer(k):
        for step in range(50):
            append_jsonl(path, {"writer": k, "step": step, "pad": padding})

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = read_jsonl(path)
    assert sorted((r["writer"], r["step"]) for r in records) == [(k, s) for k in range(4) for s in range(50)]
