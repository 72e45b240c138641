"""minigan's environment settings (``MINIGAN_KERNELS``, ``MINIGAN_NUM_THREADS``, ``MINIGAN_MALLOC``).

They are read when minigan's own work starts, never at import, so a bad
value is reported where the ``minigan`` command can say it in one line.
"""

from __future__ import annotations

__all__ = ["SettingError"]


class SettingError(ValueError):
    """An environment setting whose value minigan cannot use: the user's to fix, not a bug."""
