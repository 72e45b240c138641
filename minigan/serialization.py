"""``save`` and ``load``: nested state (state dicts, optimiser state, checkpoints) in one safetensors file.

Format: every Tensor or ndarray leaf is a safetensors tensor named after its
path in the structure (``G/0.weight``). The structure itself is JSON in the
header's ``__metadata__["minigan"]``: ``{"version": 1, "tree": node}``, where a
node is a JSON scalar (str, int, bool, null, finite float) or a one-key object:
``{"dict": [[key, node], ...]}`` (keys keep their type, str or int),
``{"list": [...]}``, ``{"tuple": [...]}``, ``{"float": "nan"|"inf"|"-inf"}``, or a
reference to a stored tensor: ``{"tensor": name}``, ``{"ndarray": name}``,
``{"scalar": name}`` (a NumPy scalar).

There is no pickle, so loading a file runs no code from it: a checkpoint from
anywhere is safe to open, and other tools can read the weights.

Logs are JSON lines (``.jsonl``): one JSON object per line, appended as they
come (:func:`append_jsonl`), read back in order (:func:`read_jsonl`), rewritten
whole only atomically (:func:`write_jsonl`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import safetensors.numpy

from minigan.autograd.tensor import Tensor, to_device
from minigan.kernels import is_cupy

__all__ = ["save", "load", "CheckpointError", "atomic_path", "read_jsonl", "append_jsonl", "write_jsonl"]

FORMAT_VERSION = 1
METADATA_KEY = "minigan"
_STORABLE_DTYPES = {np.dtype(t) for t in (np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16,
                                          np.int32, np.int64, np.float16, np.float32, np.float64)}


class CheckpointError(ValueError):
    """A file that :func:`load` cannot read: truncated, corrupt, or not written by :func:`save`."""


# -- saving -----------------------------------------------------------------------------------------------


def save(state, path) -> None:
    """Write ``state`` to ``path`` atomically: the file holds either the old contents or the new, never half.

    ``state`` nests dicts (str or int keys), lists and tuples of Tensors,
    NumPy arrays and scalars, Python numbers, strings and None. Tensors on
    the GPU are copied to the CPU. Raises TypeError naming the first leaf that
    cannot be stored, before anything is written.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save {path}: directory {directory} does not exist")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, (), arrays)
    header = json.dumps({"version": FORMAT_VERSION, "tree": tree}, allow_nan=False)
    _write_atomically(path, safetensors.numpy.save(arrays, metadata={METADATA_KEY: header}))


def _encode(value, path: tuple, arrays: dict):
    """The JSON node for ``value``; its arrays are added to ``arrays`` under names made from ``path``."""
    if isinstance(value, Tensor):
        return {"tensor": _store(value.data, path, arrays)}
    if isinstance(value, np.ndarray) or is_cupy(value):
        return {"ndarray": _store(value, path, arrays)}
    if isinstance(value, np.generic) and value.dtype in _STORABLE_DTYPES:  # before float: np.float64 is one
        return {"scalar": _store(np.asarray(value), path, arrays)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)):
                raise TypeError(f"cannot save {_describe(path)}: dict keys must be str or int, got {key!r}")
        return {"dict": [[key, _encode(v, (*path, key), arrays)] for key, v in value.items()]}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_encode(v, (*path, i), arrays) for i, v in enumerate(value)]}
    raise TypeError(f"cannot save {_describe(path)}: unsupported type {type(value).__name__}")


def _store(array, path: tuple, arrays: dict) -> str:
    """Add ``array`` (on the CPU, contiguous) to ``arrays`` under a fresh name derived from ``path``."""
    array = np.asarray(to_device(array, "cpu"), order="C")  # safetensors writes raw memory, so strides must go
    if array.dtype not in _STORABLE_DTYPES:
        raise TypeError(f"cannot save {_describe(path)}: dtype {array.dtype} is not storable "
                        f"(use bool, int8-64, uint8-64 or float16/32/64)")
    base = "/".join(map(str, path)).encode("utf-8", "backslashreplace").decode() or "root"
    name, n = base, 1
    while name in arrays or name == "__metadata__":  # {"a/b": x} and {"a": {"b": y}} would otherwise collide
        name, n = f"{base}#{n}", n + 1
    arrays[name] = array
    return name


def _describe(path: tuple) -> str:
    return "state" + "".join(f"[{key!r}]" for key in path)


class atomic_path:
    """Context manager yielding a temporary path beside ``path``; renamed onto it only on success."""

    def __init__(self, path, suffix: str | None = None):
        self.path = Path(path)
        self.suffix = suffix or self.path.suffix

    def __enter__(self) -> Path:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}-", suffix=self.suffix)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it a normal file's mode
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                with open(self.tmp, "rb+") as f:  # on disk before it takes the old file's place
                    os.fsync(f.fileno())
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)  # a no-op after a successful rename
        return False


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, sync it, then rename it over ``path``."""
    with atomic_path(path, suffix=".tmp") as tmp:
        tmp.write_bytes(data)


# -- loading ----------------------------------------------------------------------------------------------


def load(path, device: str = "cpu"):
    """Read what :func:`save` wrote to ``path``: the same structure, Tensors on ``device``.

    Tensors come back as plain Tensors (dtype kept, not requiring grad),
    arrays and NumPy scalars as NumPy, dicts (OrderedDicts too) as dicts in
    their saved order. Raises FileNotFoundError if ``path`` does not exist and
    :class:`CheckpointError` if it is not a readable minigan file.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as err:  # the Rust parser's error type is not part of its public API
        raise CheckpointError(f"{path} is truncated or not a safetensors file ({err})") from None
    tree = _read_tree(path, _header_metadata(data))
    try:
        return _decode(tree, arrays, device)
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{path} has a malformed minigan structure ({type(err).__name__}: {err})") from None


def _header_metadata(data: bytes) -> dict:
    """The ``__metadata__`` of safetensors bytes already validated by the parser."""
    header_size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + header_size]).get("__metadata__") or {}


def _read_tree(path: str, metadata: dict):
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{path} is a safetensors file but was not written by minigan.save "
                              f"(no {METADATA_KEY!r} metadata)")
    try:
        header = json.loads(metadata[METADATA_KEY])
        version, tree = header["version"], header["tree"]
    except (ValueError, TypeError, KeyError) as err:
        raise CheckpointError(f"{path} has unreadable minigan metadata ({err})") from None
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path} uses minigan format version {version!r}; "
                              f"this minigan reads version {FORMAT_VERSION}")
    return tree


def _decode(node, arrays: dict, device: str):
    if not isinstance(node, dict):
        return node
    (kind, body), = node.items()
    if kind == "dict":
        return {key: _decode(v, arrays, device) for key, v in body}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, device) for v in body]
        return items if kind == "list" else tuple(items)
    if kind == "float":
        return float(body)
    if kind == "tensor":
        return Tensor(to_device(arrays[body], device))
    if kind == "ndarray":
        return arrays[body]
    if kind == "scalar":
        return arrays[body][()]
    raise ValueError(f"unknown node kind {kind!r}")


# -- JSON-lines logs ---------------------------------------------------------------------------------------


def read_jsonl(path) -> list[dict]:
    """The records of a ``.jsonl`` file, one per non-empty line, oldest first; ``[]`` if the file does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_jsonl(path, record: dict) -> None:
    """Append ``record`` to ``path`` (created if missing) as one line of JSON.

    Non-finite floats are written as ``NaN``/``Infinity``, which :func:`read_jsonl` reads back.
    """
    line = json.dumps(record) + "\n"
    with open(path, "a") as f:
        f.write(line)


def write_jsonl(path, records) -> None:
    """Replace ``path`` by ``records``, one JSON line each, atomically (see :class:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
