"""``save`` and ``load``: nested state (state dicts, optimiser state, checkpoints) in one safetensors file.

Format: every Tensor or ndarray leaf is a safetensors tensor named after its
path in the structure (``G/0.weight``). The header's
``__metadata__["minigan"]`` is the JSON
``{"version": 1, "tree": node, "sha256": digests}``:

- a ``node`` is a JSON scalar (str, int, bool, null, finite float) or a
  one-key object: ``{"dict": [[key, node], ...]}`` (keys keep their type, str
  or int), ``{"list": [...]}``, ``{"tuple": [...]}``,
  ``{"float": "nan"|"inf"|"-inf"}``, or a reference to a stored tensor:
  ``{"tensor": name}``, ``{"ndarray": name}``, ``{"scalar": name}`` (a NumPy
  scalar);
- ``digests`` is ``{name: hex}``: the SHA-256 of each tensor's bytes as
  stored (C order, little-endian), and under ``"__metadata__"`` (a name
  safetensors reserves, so no tensor has it) the SHA-256 of the rest of the
  header: of the compact JSON ``[version, tree, {name: [dtype, shape]},
  {name: hex}]`` with sorted keys, dtypes as NumPy names (``"float32"``).
  :func:`load` checks both, so damage anywhere in the file is a
  :class:`CheckpointError` rather than a wrong weight. Files written before
  checksums existed have no ``"sha256"`` and load unchecked.

The digests sit inside the one metadata entry because safetensors writes its
metadata entries in no fixed order: one entry keeps the same state saving to
the same bytes.

There is no pickle, so loading a file runs no code from it: a checkpoint from
anywhere is safe to open, and other tools can read the weights.

Files are written whole or not at all (:class:`atomic_path`): the new
contents go to a temporary ``.{name}.partial-XXXXXXXX{suffix}`` beside the
target, renamed over it once synced. A crash can leave such a temporary
behind; :func:`remove_partial_files` clears them.

Logs are JSON lines (``.jsonl``): one JSON object per line, appended as they
come, each in one ``write`` (:func:`append_jsonl`), read back in order
(:func:`read_jsonl`), rewritten whole only atomically (:func:`write_jsonl`).
A crash while appending can leave the last line incomplete: reading drops it
with a :class:`TornLogWarning`, appending removes it first. Any other line
that is not a JSON object is a :class:`LogError`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import tempfile
import warnings
from pathlib import Path

import numpy as np
import safetensors.numpy

from minigan.autograd.tensor import Tensor, to_device
from minigan.kernels import is_cupy

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["CheckpointError", "LogError", "TornLogWarning", "append_jsonl", "atomic_path", "load", "read_jsonl",
           "remove_partial_files", "save", "unwritable", "write_jsonl"]

FORMAT_VERSION = 1
METADATA_KEY = "minigan"
CHECKSUM_KEY = "sha256"
HEADER = "__metadata__"  # the checksum entry of the header; safetensors reserves the name, so no tensor has it
_STORABLE_DTYPES = {np.dtype(t) for t in (np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16,
                                          np.int32, np.int64, np.float16, np.float32, np.float64)}


class CheckpointError(ValueError):
    """A file that :func:`load` cannot read: truncated, corrupt, or not written by :func:`save`."""


class LogError(ValueError):
    """A ``.jsonl`` log with a line that is not a JSON object, other than an incomplete last line."""


class TornLogWarning(UserWarning):
    """A ``.jsonl`` log ended in an incomplete line (a crash while it was appended), which was dropped."""


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
    digests = {name: hashlib.sha256(array).hexdigest() for name, array in arrays.items()}  # C order: the bytes written
    digests[HEADER] = _header_digest(FORMAT_VERSION, tree, arrays, digests)
    header = json.dumps({"version": FORMAT_VERSION, "tree": tree, CHECKSUM_KEY: digests}, allow_nan=False)
    _write_atomically(path, safetensors.numpy.save(arrays, metadata={METADATA_KEY: header}))


def _header_digest(version, tree, arrays: dict, digests: dict) -> str:
    """SHA-256 of the structure and every tensor's name, dtype, shape and digest (the header, less its layout)."""
    described = {name: [array.dtype.name, list(array.shape)] for name, array in arrays.items()}
    tensors = {name: digest for name, digest in digests.items() if name != HEADER}
    text = json.dumps([version, tree, described, tensors], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(value, path: tuple, arrays: dict):
    """The JSON node for ``value``; its arrays are added to ``arrays`` under names made from ``path``."""
    if isinstance(value, Tensor):
        return {"tensor": _store(value.array, path, arrays)}
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


_PARTIAL = re.compile(r"\..+\.partial-[0-9a-f]{8}(\..*)?")  # what atomic_path names its temporaries


class atomic_path:
    """Context manager yielding a temporary path beside ``path``; renamed onto it only on success.

    The temporary is ``.{name}.partial-XXXXXXXX{suffix}`` (eight hex digits),
    so one a crash leaves behind is recognisable (:func:`remove_partial_files`).
    ``suffix`` defaults to ``path``'s own, because writers such as matplotlib
    and PIL choose the format from it.
    """

    def __init__(self, path, suffix: str | None = None):
        self.path = Path(path)
        self.suffix = suffix or self.path.suffix

    def __enter__(self) -> Path:
        while True:
            tmp = self.path.with_name(f".{self.path.name}.partial-{secrets.token_hex(4)}{self.suffix}")
            try:  # exclusive, so two writers never share one; mode 0o666 less the umask, as for open()
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                continue
            self.tmp = tmp
            return tmp

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                with open(self.tmp, "rb+") as f:  # on disk before it takes the old file's place
                    os.fsync(f.fileno())
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)  # a no-op after a successful rename
        return False


def unwritable(path) -> str | None:
    """Why a file at ``path`` could not be written, or None: its folder is missing or refuses a new file.

    For commands that check their outputs before long work, so that the work
    is not lost at the end. Trying is the one sure test (permissions,
    read-only file systems, root); it leaves no file behind.
    """
    folder = Path(path).parent
    if not folder.is_dir():
        return f"folder {folder} does not exist"
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as err:
        return f"cannot write in {folder} ({err.strerror})"
    return None


def remove_partial_files(folder) -> list[Path]:
    """Delete the temporaries of :class:`atomic_path` directly inside ``folder``; the paths removed, sorted.

    Not recursive; a missing folder gives ``[]``. Meant for a folder nothing
    is writing to at the time (a run about to resume): a write in progress
    there would lose its temporary and fail.
    """
    folder = Path(folder)
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for entry in entries:
        if _PARTIAL.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(folder / entry.name)
    return removed


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, sync it, then rename it over ``path``."""
    with atomic_path(path, suffix=".tmp") as tmp:  # .tmp: a leftover never matches *.safetensors
        tmp.write_bytes(data)


# -- loading ----------------------------------------------------------------------------------------------


def load(path, device: str = "cpu"):
    """Read what :func:`save` wrote to ``path``: the same structure, Tensors on ``device``.

    Tensors come back as plain Tensors (dtype kept, not requiring grad),
    arrays and NumPy scalars as NumPy, dicts (OrderedDicts too) as dicts in
    their saved order. Raises FileNotFoundError if ``path`` does not exist and
    :class:`CheckpointError` if it is not a readable minigan file: truncated,
    not safetensors, not written by :func:`save`, or corrupt (a tensor or the
    header does not match its SHA-256 checksum; the message names the tensor).
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as err:  # noqa: BLE001 - the Rust parser's error type is not part of its public API
        raise CheckpointError(f"{path} is truncated or not a safetensors file ({err})") from None
    header, start = _header(path, data)
    minigan = _read_minigan_metadata(path, header.get("__metadata__") or {})
    _verify(path, memoryview(data)[start:], header, minigan, arrays)
    try:
        return _decode(minigan["tree"], arrays, device)
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError) as err:
        raise CheckpointError(f"{path} has a malformed minigan structure ({type(err).__name__}: {err})") from None


def _header(path: str, data: bytes) -> tuple[dict, int]:
    """The JSON header of safetensors bytes already validated by the parser, and where the tensor data starts."""
    size = int.from_bytes(data[:8], "little")
    try:
        return json.loads(data[8:8 + size]), 8 + size
    except (ValueError, RecursionError) as err:  # JSON that Rust's parser accepts and Python's does not
        raise CheckpointError(f"{path} has an unreadable header ({err})") from None


def _verify(path: str, data: memoryview, header: dict, minigan: dict, arrays: dict) -> None:
    """Check the header and every tensor's bytes in ``data`` against the file's SHA-256 digests, if it has them."""
    if CHECKSUM_KEY not in minigan:
        return  # written before checksums existed: nothing to check against
    digests = minigan[CHECKSUM_KEY]
    try:
        intact = (isinstance(digests, dict) and all(isinstance(d, str) for d in digests.values())
                  and digests.get(HEADER) == _header_digest(minigan["version"], minigan["tree"], arrays, digests))
    except (ValueError, TypeError, RecursionError):  # a damaged tree that does not even serialise
        intact = False
    if not intact:
        raise CheckpointError(f"{path} is corrupt: its header (the structure, or a tensor's name, dtype, shape "
                              "or checksum) does not match its SHA-256 checksum")
    for name, entry in header.items():  # each name has a digest: the header's own digest covers the set of names
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        if hashlib.sha256(data[begin:end]).hexdigest() != digests[name]:
            raise CheckpointError(f"{path} is corrupt: the bytes of tensor {name!r} do not match their "
                                  "SHA-256 checksum")


def _read_minigan_metadata(path: str, metadata: dict) -> dict:
    """The parsed ``__metadata__["minigan"]``, with a ``"tree"`` and this minigan's format version."""
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{path} is a safetensors file but was not written by minigan.save "
                              f"(no {METADATA_KEY!r} metadata)")
    try:
        minigan = json.loads(metadata[METADATA_KEY])
        version = minigan["version"]
        if "tree" not in minigan:
            raise KeyError("tree")
    except (ValueError, TypeError, KeyError, RecursionError) as err:
        raise CheckpointError(f"{path} has unreadable minigan metadata ({err})") from None
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path} uses minigan format version {version!r}; "
                              f"this minigan reads version {FORMAT_VERSION}")
    return minigan


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
    """The records of a ``.jsonl`` file, one per non-blank line, oldest first; ``[]`` if the file does not exist.

    A last line that is not a JSON object is what a crash while appending
    leaves: it is dropped with a :class:`TornLogWarning`. Any other such line
    raises :class:`LogError` naming the file and the line number.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = [(number, line) for number, line in enumerate(data.split(b"\n"), 1) if line.strip()]
    records = []
    for number, line in lines:
        try:
            records.append(_record(line))
        except ValueError as err:
            if number != lines[-1][0]:
                raise LogError(f"{path}: line {number} is not a JSON object ({err})") from None
            warnings.warn(f"{path}: dropped an incomplete last line (a crash while it was written)",
                          TornLogWarning, stacklevel=2)
    return records


def _record(line: bytes) -> dict:
    """The JSON object on ``line``; a ValueError if it is not one (bad UTF-8, a cut multi-byte character too)."""
    try:
        record = json.loads(line.decode("utf-8"))
    except RecursionError:
        raise LogError("nested too deeply") from None
    if not isinstance(record, dict):
        raise LogError(f"a JSON {type(record).__name__}, not an object")
    return record


def append_jsonl(path, record: dict) -> None:
    """Append ``record`` to ``path`` (created if missing) as one line of JSON, in a single ``write``.

    The file is opened ``O_APPEND``, so lines from concurrent writers never
    interleave, and locked (``flock``, where there is one) while its last
    line is checked: an incomplete one, left by a crash, is removed first
    (without a warning: it is the line :func:`read_jsonl` drops with one).
    Non-finite floats are written as ``NaN``/``Infinity``,
    which :func:`read_jsonl` reads back.
    """
    line = (json.dumps(record) + "\n").encode()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        if fcntl is not None:  # mending reads the tail: no other minigan append may be half-way through it
            fcntl.flock(fd, fcntl.LOCK_EX)
        line = _mend_last_line(fd) + line
        written = os.write(fd, line)
    finally:
        os.close(fd)  # releases the lock
    if written != len(line):  # the rest is a torn line, which the next read or append drops
        raise OSError(f"{path}: only {written} of {len(line)} bytes appended (is the disk full?)")


def _mend_last_line(fd: int) -> bytes:
    """Make the log open as ``fd`` end in a complete record; the bytes to write before the next one.

    A last line that is not a JSON object is cut off (``ftruncate``); a
    complete one missing its newline (written by hand) gets ``b"\\n"``. Reads
    backwards from the end in growing blocks, so an append reads about one
    line however long the log is.
    """
    end = start = os.fstat(fd).st_size
    tail, block = b"", 4096
    while start > 0:
        start, block = max(start - block, 0), 2 * block
        os.lseek(fd, start, os.SEEK_SET)
        tail = os.read(fd, end - start)
        if b"\n" in tail.rstrip():  # the whole last non-blank line is in ``tail``
            break
    body = tail.rstrip()
    cut = body.rfind(b"\n") + 1
    if body[cut:]:
        try:
            _record(body[cut:])
        except ValueError:
            os.ftruncate(fd, start + cut)  # quietly: it is what read_jsonl drops, and warns about, anyway
            return b""
    return b"" if not tail or tail.endswith(b"\n") else b"\n"


def write_jsonl(path, records) -> None:
    """Replace ``path`` by ``records``, one JSON line each, atomically (see :class:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
