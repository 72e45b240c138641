"""Whether operations are recorded on the tape: ``no_grad`` and ``enable_grad``."""

from __future__ import annotations

import contextlib
import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "enabled", True)


def set_grad_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets the recording mode, then restores it."""

    mode: bool

    def __new__(cls, fn=None):
        """``@no_grad`` without parentheses decorates ``fn`` directly, as in torch."""
        self = super().__new__(cls)
        return self if fn is None else self(fn)

    def __enter__(self):
        self._previous = is_grad_enabled()
        set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._previous)
        return False

    def _recreate_cm(self):  # a fresh instance per decorated call, so nesting and threads are safe
        return type(self)()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Do not record operations: results do not require grad (as ``torch.no_grad``)."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again inside a ``no_grad`` region (as ``torch.enable_grad``)."""

    mode = True
