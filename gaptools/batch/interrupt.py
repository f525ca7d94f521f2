"""Ctrl-C and SIGTERM stop a run within seconds, and never in the middle of a folder swap."""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

from .kernels import stop_all


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``manifest`` is what it wrote (what had finished)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.manifest: dict | None = None


class StopOnSignal:
    """While active (in the main thread), SIGINT and SIGTERM kill every kernel at once and
    raise :class:`Interrupted` in the main thread, deferred to the end of a :meth:`critical` section.

    A second signal only says that the run is still stopping (no tracebacks from
    threads being interrupted twice).
    """

    def __init__(self):
        self.signum: int | None = None
        self._critical = 0
        self._raised = False
        self._previous = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            print("gaptools: still stopping (killing kernels, writing the manifest)...", file=sys.stderr)
            return
        self.signum = signum
        stop_all()
        if not self._critical:
            self._raise()

    def _raise(self) -> None:
        if self.signum is not None and not self._raised:
            self._raised = True
            raise Interrupted(self.signum)

    def check(self) -> None:
        """Raise :class:`Interrupted` if a signal came (and was not raised yet)."""
        if not self._critical:
            self._raise()

    @contextmanager
    def critical(self):
        """A section a signal must not cut in two (renaming folders, writing the manifest)."""
        self._critical += 1
        try:
            yield
        finally:
            self._critical -= 1
        self.check()

    @contextmanager
    def finishing(self):
        """The clean-up after a stop: no further Interrupted is raised."""
        self._raised = True
        self._critical += 1
        try:
            yield
        finally:
            self._critical -= 1
