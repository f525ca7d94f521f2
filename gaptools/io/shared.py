"""One costly helper process (a browser, a warm kernel parent) shared by every user in this process.

Started at the first use and stopped when the last user is done: a run, and
any run nested in it or beside it on another thread, share one; nothing
outlives the last of them. Used by the PDF printer's Chromium
(:func:`gaptools.reporting.pdf.printing`) and the warm kernel parent
(:func:`gaptools.batch.warm.session`).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Shared(Generic[T]):
    """A thing made on first use and stopped when its last user releases it (thread-safe).

    Parameters
    ----------
    start : callable
        Makes the thing (called with no argument, under the lock: two first
        users at once get one thing). If it raises, no user is counted and
        the next use tries again.
    stop : callable
        Stops it (called with the thing, outside the lock: a slow stop holds
        up no one; a use after it starts a new one).

    Examples
    --------
    >>> made = []
    >>> shared = Shared(lambda: made.append(1) or len(made), lambda n: made.append(-n))
    >>> with shared.use() as a, shared.use() as b:
    ...     (a, b, shared.users)
    (1, 1, 2)
    >>> made, shared.users
    ([1, -1], 0)
    """

    def __init__(self, start: Callable[[], T], stop: Callable[[T], None]):
        self._start, self._stop = start, stop
        self._lock = threading.Lock()
        self._value: T | None = None
        self._users = 0

    @property
    def users(self) -> int:
        """How many users hold it now (those of :meth:`get` are not counted)."""
        return self._users

    def peek(self) -> T | None:
        """The thing if it is running now, else None (nothing is started)."""
        return self._value

    def _running(self) -> T:
        if self._value is None:
            self._value = self._start()
        return self._value

    def get(self) -> T:
        """The thing, started if need be, without counting a user.

        For a process that keeps it to its end (a Dask worker between tasks):
        it is stopped only if counted users come and go later.
        """
        with self._lock:
            return self._running()

    def acquire(self) -> T:
        """The thing (started if need be), counted as one more user until :meth:`release`."""
        with self._lock:
            value = self._running()  # raises before counting: a failed start leaks no user
            self._users += 1
            return value

    def release(self) -> None:
        """One user is done; the last one stops the thing.

        Raises
        ------
        RuntimeError
            Released more often than acquired.
        """
        with self._lock:
            if self._users <= 0:
                raise RuntimeError("released more often than acquired")
            self._users -= 1
            if self._users or self._value is None:
                return
            value, self._value = self._value, None
        self._stop(value)

    @contextmanager
    def use(self) -> Iterator[T]:
        """``with shared.use() as thing:`` acquired on entering, released on leaving."""
        value = self.acquire()
        try:
            yield value
        finally:
            self.release()
