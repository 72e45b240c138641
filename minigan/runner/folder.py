"""A run folder's guards: one writer at a time, no debris from a crash, and a checkpoint that belongs to it.

- :func:`locked` holds an exclusive lock on the folder for the whole run
  (``flock`` on the folder itself, so taking it writes nothing), with the
  holder's PID in ``.lock`` while it runs. The operating system releases the
  lock when the process ends in any way, ``kill -9`` included; a second
  writer is refused with :class:`RunLocked` naming the holder.
- :func:`remove_debris` deletes the temporary files that a killed process
  can leave (``.NAME.partial-*``): under the lock nobody else is writing them.
- :func:`check_resumable` refuses to resume from a checkpoint whose
  configuration is not the folder's own ``config.json``, so that two runs'
  logs never mix.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from minigan.serialization import remove_partial_files
from minigan.train.config import complete

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: runs are not locked
    fcntl = None

__all__ = ["RunFolderError", "RunExists", "RunLocked", "locked", "remove_debris", "check_resumable"]

HOLDER = ".lock"


class RunFolderError(Exception):
    """A run folder that cannot be used as asked; nothing in it was changed."""


class RunExists(RunFolderError):
    """The output folder already holds a run and ``resume`` was not asked for."""


class RunLocked(RunFolderError):
    """Another process is training in the folder."""


@contextlib.contextmanager
def locked(folder: Path):
    """Hold the exclusive lock of ``folder`` (made if missing) for the block.

    Raises :class:`RunFolderError` if ``folder`` is a file and
    :class:`RunLocked` if another process holds the lock.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder} is a file, not a run folder")
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"{folder} is in use by another minigan process{_holder(folder)}; wait for it to "
                            "finish, or train into another folder with --out") from None
        holder = folder / HOLDER
        holder.write_text(f"{os.getpid()}\n")
        try:
            yield
        finally:
            holder.unlink(missing_ok=True)
    finally:
        os.close(fd)  # releases the lock


def _holder(folder: Path) -> str:
    try:
        return f" (PID {int((folder / HOLDER).read_text())})"
    except (OSError, ValueError):  # between the holder's lock and its note, or unreadable
        return ""


def remove_debris(folder: Path) -> list[Path]:
    """Delete the temporary files a killed run left in ``folder`` and ``folder/samples``; call it under the lock."""
    folder = Path(folder)
    return remove_partial_files(folder) + remove_partial_files(folder / "samples")


def check_resumable(folder: Path, config: dict) -> None:
    """Refuse a checkpoint whose configuration differs from ``folder/config.json`` (``train.steps`` aside).

    Both are completed with the keys added to minigan since they were written,
    so only real differences count. A folder without ``config.json`` accepts
    the checkpoint's configuration.
    """
    path = Path(folder) / "config.json"
    if not path.exists():
        return
    try:
        saved = complete(json.loads(path.read_text()))
    except (ValueError, TypeError, AttributeError) as err:
        raise RunFolderError(f"{path} is not a readable configuration ({err}); delete it to resume with the "
                             "checkpoint's own configuration") from None
    differing = [f"{section}.{key}" for section in sorted(set(config) | set(saved))
                 if isinstance(config.get(section), dict) or isinstance(saved.get(section), dict)
                 for key in sorted(set(config.get(section) or {}) | set(saved.get(section) or {}))
                 if (section, key) != ("train", "steps") and _get(config, section, key) != _get(saved, section, key)]
    mismatch = []
    if config.get("recipe") != saved.get("recipe"):
        mismatch.append(f"it is a run of {config.get('recipe')!r}, the folder one of {saved.get('recipe')!r}")
    if differing:
        mismatch.append("they differ in " + ", ".join(differing[:4]) + (", ..." if len(differing) > 4 else ""))
    if mismatch:
        raise RunFolderError(f"the checkpoint in {folder} does not match {path}: {'; '.join(mismatch)}; resume "
                             "refused so that two runs' logs never mix: give the checkpoint a folder of its own")


def _get(config: dict, section: str, key: str):
    table = config.get(section)
    return table.get(key) if isinstance(table, dict) else None
