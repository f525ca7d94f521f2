"""Progress bars of a long step, shown only where a command asked for them (``gaptools run`` without --quiet).

A library call (``load_pupils`` in a notebook) shows none: the caller switches
them on around the call with :func:`shown`. On stderr, as the runner's school
bar (tqdm: count, rate and time left).
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_SHOWN: ContextVar[bool] = ContextVar("gaptools_progress_shown", default=False)


@contextmanager
def shown(on: bool = True) -> Iterator[None]:
    """Show (or, with ``on=False``, hide) the progress bars of the steps run inside the block."""
    token = _SHOWN.set(on)
    try:
        yield
    finally:
        _SHOWN.reset(token)


class _Silent:
    """A bar that shows nothing (tqdm is not even imported)."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc) -> None:
        pass


def each(items: Iterable[T], total: int, desc: str, unit: str) -> Iterable[T]:
    """``items`` counted on a progress bar as each is done (the next one asked for), where bars were asked for."""
    if not _SHOWN.get():
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)


def bar(total: int, desc: str, unit: str):
    """A progress bar of ``total`` ``unit``s named ``desc``, or a silent one where none was asked for.

    Use it as a context manager and call ``update()`` after each unit.
    """
    if not _SHOWN.get():
        return _Silent()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)
