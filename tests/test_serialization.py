import math
import os
from collections import OrderedDict

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

from minigan.autograd import Tensor
from minigan.serialization import CheckpointError, append_jsonl, load, read_jsonl, save, write_jsonl


def assert_same(saved, loaded):
    """``loaded`` is what ``saved`` should come back as: same types, keys, order, dtypes and bits."""
    if isinstance(saved, Tensor):
        assert type(loaded) is Tensor and not loaded.requires_grad
        saved, loaded = saved.data, loaded.data
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
