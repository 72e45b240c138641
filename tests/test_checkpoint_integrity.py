"""Damaged files and diverged states are refused with a CheckpointError naming the file, never loaded wrong."""

import hashlib
import json
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.serialization import CHECKSUM_KEY, CheckpointError, load, save
from minigan.train.checkpoint import first_nonfinite, load_checkpoint


def checkpoint_like(rng) -> dict:
    """A small state shaped like a trainer's checkpoint: networks, averages, optimiser state, RNG, loader."""
    def t(*shape):
        return mg.Tensor(rng.standard_normal(shape).astype(np.float32))

    return {"format": "minigan-checkpoint", "step": 12, "critic_steps": 24,
            "config": {"optim": {"d_lr": 2e-4, "betas": (0.5, 0.999)}, "train": {"steps": 100}},
            "networks": {"D": {"0.weight": t(16, 8), "0.bias": t(16)}, "G": {"net.0.weight": t(8, 4)}},
            "averaged": {"G": {"net.0.weight": t(8, 4)}},
            "ema": {"G": {"decay": 0.999}},
            "optimizers": {"D": {"state": {0: {"step": 3, "exp_avg": t(16, 8), "exp_avg_sq": t(16, 8)}},
                                 "param_groups": [{"lr": 2e-4, "eps": 1e-8, "params": [0, 1]}]}},
            "loss": {"k": 0.25},
            "rng": np.random.default_rng(0).bit_generator.state,
            "loader": {"order": np.arange(10), "position": 3, "empty": np.zeros((0, 3), np.float32)}}


def layout(data: bytes) -> tuple[dict, int]:
    """The safetensors header of ``data`` and where its tensor data starts."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]), 8 + size


def minigan_metadata(data: bytes) -> dict:
    return json.loads(layout(data)[0]["__metadata__"]["minigan"])


def with_minigan_metadata(data: bytes, **changes) -> bytes:
    """``data`` re-written with its minigan metadata changed (a value of None removes the key)."""
    metadata = {**minigan_metadata(data), **changes}
    metadata = {key: value for key, value in metadata.items() if value is not None}
    return safetensors.numpy.save(safetensors.numpy.load(data), metadata={"minigan": json.dumps(metadata)})


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> tuple[bytes, dict]:
    """A saved checkpoint's bytes and the absolute byte range of each non-empty tensor."""
    path = tmp_path_factory.mktemp("original") / "ckpt.safetensors"
    save(checkpoint_like(np.random.default_rng(0)), path)
    data = path.read_bytes()
    header, start = layout(data)
    ranges = {name: (start + entry["data_offsets"][0], start + entry["data_offsets"][1])
              for name, entry in header.items() if name != "__metadata__"}
    return data, {name: r for name, r in ranges.items() if r[1] > r[0]}


def damaged(tmp_path_factory, data: bytes) -> Path:
    path = tmp_path_factory.mktemp("damaged") / "ckpt.safetensors"
    path.write_bytes(data)
    return path


def flip(data: bytes, offsets, masks) -> bytes:
    out = bytearray(data)
    for offset, mask in zip(offsets, masks):
        out[offset] ^= mask
    return bytes(out)


# -- checksums ---------------------------------------------------------------------------------------------

def test_every_tensor_and_the_header_carry_a_sha256_of_what_is_stored(original, tmp_path, rng):
    data, _ = original
    header, start = layout(data)
    assert list(header["__metadata__"]) == ["minigan"]
    digests = minigan_metadata(data)[CHECKSUM_KEY]
    assert set(digests) == {name for name in header if name != "__metadata__"} | {"__metadata__"}
    for name, entry in header.items():
        if name != "__metadata__":
            begin, end = entry["data_offsets"]
            assert digests[name] == hashlib.sha256(data[start + begin:start + end]).hexdigest()
    assert re.fullmatch("[0-9a-f]{64}", digests["__metadata__"])
    state = checkpoint_like(rng)  # and the same state saves to the same bytes, every time
    save(state, tmp_path / "a.safetensors")
    save(state, tmp_path / "b.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


@pytest.mark.parametrize("n_flips", [1, 64])
@settings(max_examples=15)
@given(draw=st.data())
def test_flipped_bytes_in_tensor_data_name_a_damaged_tensor(original, tmp_path_factory, n_flips, draw):
    data, ranges = original
    lo, hi = min(r[0] for r in ranges.values()), max(r[1] for r in ranges.values())
    offsets = draw.draw(st.lists(st.integers(lo, hi - 1), min_size=n_flips, max_size=n_flips, unique=True))
    masks = draw.draw(st.lists(st.integers(1, 255), min_size=n_flips, max_size=n_flips))
    path = damaged(tmp_path_factory, flip(data, offsets, masks))
    with pytest.raises(CheckpointError, match="is corrupt") as err:
        load(path)
    name = re.search(r"tensor '([^']*)'", str(err.value)).group(1)
    begin, end = ranges[name]
    assert str(path) in str(err.value) and any(begin <= offset < end for offset in offsets)


def test_one_tensor_overwritten_with_0xff_is_named(original, tmp_path_factory):
    data, ranges = original
    for name in ("networks/D/0.weight", "optimizers/D/state/0/exp_avg_sq", "loader/order"):
        begin, end = ranges[name]
        path = damaged(tmp_path_factory, data[:begin] + b"\xff" * (end - begin) + data[end:])
        with pytest.raises(CheckpointError, match=f"{re.escape(str(path))} is corrupt.*tensor '{name}'"):
            load(path)


@settings(max_examples=30)
@given(draw=st.data())
def test_damage_anywhere_is_refused_or_changes_nothing(original, tmp_path_factory, draw):
    """Bytes flipped anywhere (length, header, padding, data): a CheckpointError, or the very same state."""
    data, _ = original
    n = draw.draw(st.integers(1, 4))
    offsets = draw.draw(st.lists(st.integers(0, len(data) - 1), min_size=n, max_size=n, unique=True))
    masks = draw.draw(st.lists(st.integers(1, 255), min_size=n, max_size=n))
    path = damaged(tmp_path_factory, flip(data, offsets, masks))
    try:
        state = load(path)
    except CheckpointError as err:
        assert str(path) in str(err)
        return
    save(state, path)  # only header padding can change harmlessly: the state saves to the same bytes
    assert path.read_bytes() == data


def test_a_changed_value_dtype_name_or_checksum_in_the_header_is_refused(original, tmp_path_factory):
    data, _ = original
    header_end = layout(data)[1]
    digest = minigan_metadata(data)[CHECKSUM_KEY]["networks/D/0.weight"].encode()
    edits = [(b'\\"step\\", 12', b'\\"step\\", 13'),                              # a number in the structure
             (b'"F32"', b'"I32"'),                                              # a dtype, same size
             (b'\\"loader/order\\": \\"', b'\\"loader/ordeR\\": \\"'),             # a name in the checksums
             (digest, digest[:-1] + (b"0" if digest[-1:] != b"0" else b"1"))]  # a tensor's checksum
    for old, new in edits:
        assert old in data[:header_end], old
        path = damaged(tmp_path_factory, data.replace(old, new, 1))
        with pytest.raises(CheckpointError, match="is corrupt: its header"):
            load(path)


@settings(max_examples=20)
@given(cut=st.integers(0, 10**6))
def test_a_truncated_file_is_a_checkpoint_error(original, tmp_path_factory, cut):
    data, _ = original
    path = damaged(tmp_path_factory, data[:cut % len(data)])
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        load(path)


def test_empty_pickle_and_unreadable_checksum_files_are_checkpoint_errors(original, tmp_path_factory):
    data, _ = original
    digests = minigan_metadata(data)[CHECKSUM_KEY]
    cases = {
        b"": "not a safetensors file",
        pickle.dumps({"w": np.ones(3)}): "not a safetensors file",
        bytes(len(data)): "not a safetensors file",
        with_minigan_metadata(data, sha256=[]): "is corrupt: its header",
        with_minigan_metadata(data, sha256={**digests, "networks/D/0.bias": 7}): "is corrupt: its header",
        with_minigan_metadata(data, sha256={k: v for k, v in digests.items() if k != "loader/order"}): "its header",
        with_minigan_metadata(data, tree={"dict": [[0, {"tensor": "nope"}]]}): "is corrupt: its header",
        safetensors.numpy.save(safetensors.numpy.load(data)): "not written by minigan",
    }
    for content, message in cases.items():
        path = damaged(tmp_path_factory, content)
        with pytest.raises(CheckpointError, match=f"{re.escape(str(path))}.*{message}"):
            load(path)


def test_a_file_written_before_checksums_existed_still_loads(original, tmp_path_factory):
    data, _ = original
    path = damaged(tmp_path_factory, with_minigan_metadata(data, sha256=None))
    state = load(path)
    save(state, path)
    assert path.read_bytes() == data


def test_the_shipped_digits_classifier_loads_with_its_checksums():
    path = Path(mg.__file__).parent / "metrics" / "digits_classifier.safetensors"
    assert CHECKSUM_KEY in minigan_metadata(path.read_bytes())
    load(path)


# -- finite checkpoints ------------------------------------------------------------------------------------

def test_a_finite_checkpoint_passes(tmp_path, rng):
    assert first_nonfinite(checkpoint_like(rng)) is None
    save(checkpoint_like(rng), tmp_path / "ckpt.safetensors")
    assert load_checkpoint(tmp_path / "ckpt.safetensors")["step"] == 12


def test_nan_in_optimiser_state_is_refused_naming_the_entry(tmp_path, rng):
    state = checkpoint_like(rng)
    state["optimizers"]["D"]["state"][0]["exp_avg_sq"].data[3, 2] = np.nan
    assert first_nonfinite(state) == "optimizers/D/state/0/exp_avg_sq"
    path = tmp_path / "ckpt.safetensors"
    save(state, path)
    with pytest.raises(CheckpointError, match=re.escape(f"{path}: optimizers/D/state/0/exp_avg_sq holds non-finite")):
        load_checkpoint(path)


@pytest.mark.parametrize(("where", "value", "expected"), [
    (("averaged", "G", "net.0.weight"), mg.Tensor(np.array([1.0, -np.inf], np.float32)), "averaged/G/net.0.weight"),
    (("loss", "k"), math.nan, "loss/k"),
    (("config", "optim", "betas"), (0.5, np.float64(np.inf)), "config/optim/betas/1"),
    (("loader", "order"), np.array([1.0, np.nan], np.float16), "loader/order"),
])
def test_every_kind_of_floating_leaf_is_checked(rng, where, value, expected):
    state = checkpoint_like(rng)
    node = state
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    assert first_nonfinite(state) == expected


def test_non_floating_leaves_are_skipped_and_a_bare_leaf_is_the_root():
    assert first_nonfinite({"i": np.arange(3), "b": np.ones(2, bool), "s": "nan", "n": None, "x": 10**30}) is None
    assert first_nonfinite(np.array([np.nan])) == "root"
    assert first_nonfinite([]) is None


@given(st.lists(st.lists(st.sampled_from([0.0, 1.5, -2.0, np.nan, np.inf, -np.inf]), max_size=4), max_size=5))
def test_the_first_nonfinite_array_is_found_in_order(values):
    state = {f"w{i}": np.array(v, np.float32) for i, v in enumerate(values)}
    expected = next((name for name, a in state.items() if not np.isfinite(a).all()), None)
    assert first_nonfinite(state) == expected
