"""Where numba keeps the compiled kernels: a per-user folder, never the installed package.

Files written inside the package outlive ``pip uninstall``, which then leaves
a ``minigan`` folder without ``__init__.py`` that shadows a later install.
numba chooses each kernel's cache folder when the kernel is decorated, so
:func:`compiling_into` sets numba's ``CACHE_DIR`` only while the kernel
modules are imported, leaving the rest of the process (and the user's own
numba code) as numba would have it. ``NUMBA_CACHE_DIR``, when set, wins.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "compiling_into"]


def cache_dir() -> Path:
    """``$MINIGAN_CACHE_DIR/numba``, else ``$XDG_CACHE_HOME/minigan/numba``, else ``~/.cache/minigan/numba``."""
    root = os.environ.get("MINIGAN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "minigan")
    return Path(root) / "numba"


@contextlib.contextmanager
def compiling_into(folder: Path | None = None):
    """Context: numba kernels decorated inside it cache into ``folder`` (default :func:`cache_dir`)."""
    from numba.core import config

    chosen = config.CACHE_DIR
    if not chosen:
        config.CACHE_DIR = str(_writable(folder or cache_dir()))
    try:
        yield
    finally:
        config.CACHE_DIR = chosen


def _writable(folder: Path) -> Path:
    """``folder``, made if missing; a private temporary one where it cannot be (a read-only home)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return folder
    except OSError:
        return Path(tempfile.gettempdir()) / f"minigan-numba-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
