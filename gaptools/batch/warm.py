"""Warm kernels: one parent process imports what a report needs once, and every notebook's kernel is a fork of it.

Starting a kernel the usual way starts a new Python, then imports ipykernel,
pandas, matplotlib, seaborn, scipy, statsmodels and gaptools again: several
core-seconds before a notebook's first cell, for every notebook. Here one
parent process (the *zygote*) imports them once, then forks a new kernel for
each notebook. A fork starts in milliseconds and shares the parent's memory
until it writes to it.

Isolation: every kernel is a fresh fork of a parent that never runs a
notebook, so a variable, a changed module global or a monkey-patch in one
school's notebook cannot reach any other notebook; a kernel is never reused
(one that dies or times out is simply gone; the next notebook gets a new
fork). Only what the parent loaded before forking is shared, read-only in
effect (copy-on-write): the modules. (Each school's notebooks read that school's rows
alone from the run's table by school, :mod:`gaptools.io.byschool`: nothing of the
trust's data needs sharing.)

The kernel itself is a normal ipykernel speaking the Jupyter protocol:
papermill and nbclient drive it exactly as a spawned one (parameters,
outputs, execution timeout, interrupts, errors).

Protocol (between the runner and ``python -m gaptools.batch.warm_parent``, the zygote's side): the
parent writes one JSON request a line on the zygote's stdin; the zygote
answers one line on its stdout: ``ready`` once its imports and first-use
set-up are done, one process id for each kernel forked (or ``error ...``). When its stdin closes (the runner
ended, even by ``kill -9``) the zygote kills the kernels it forked and exits.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

from ..io.shared import Shared

#: How long the zygote may take to import everything (a cold disk, a busy machine).
READY_TIMEOUT_S = 180.0


class ForkedKernel:
    """A kernel forked by the zygote, with the part of :class:`subprocess.Popen` jupyter_client uses.

    It is the zygote's child, not ours, so its exit status cannot be read:
    :meth:`poll` reports ``-1`` once the process is gone.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -1
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        start = time.monotonic()
        while (code := self.poll()) is None:
            if timeout is not None and time.monotonic() - start > timeout:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return code

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteError(RuntimeError):
    """The warm parent could not start or fork a kernel (the caller falls back to a plain start)."""


class Zygote:
    """The warm parent process: started once, asked for a kernel per notebook (thread-safe)."""

    def __init__(self, env: dict | None = None):
        self._lock = threading.Lock()
        self._env = env
        self._proc: subprocess.Popen | None = None
        self._ready = False

    @property
    def pid(self) -> int | None:
        """The zygote's process id (None before it starts)."""
        return self._proc.pid if self._proc else None

    def start(self) -> Zygote:
        """Start warming up in the background (returns at once)."""
        with self._lock:
            self._start()
        return self

    def _start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._ready = False
        self._proc = subprocess.Popen([sys.executable, "-m", "gaptools.batch.warm_parent"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self._env,
                                      start_new_session=True)  # Ctrl-C reaches the runner alone

    def _answer(self, timeout: float) -> str:
        """One line from the zygote, or :class:`ZygoteError` if it died or said nothing in time."""
        import selectors

        assert self._proc is not None and self._proc.stdout is not None  # (started, with pipes)
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise ZygoteError(f"the warm kernel parent did not answer within {timeout:.0f} s")
        line = self._proc.stdout.readline().decode(errors="replace").strip()
        if not line:
            raise ZygoteError("the warm kernel parent exited")
        if line.startswith("error"):
            raise ZygoteError(line[6:])
        return line

    def _ask(self, request: dict, timeout: float = 30.0) -> str:
        """Send one request (the zygote started and warm first); restart a dead zygote once."""
        for attempt in (0, 1):
            try:
                self._start()
                if not self._ready:
                    if self._answer(READY_TIMEOUT_S) != "ready":
                        raise ZygoteError("the warm kernel parent did not start")
                    self._ready = True
                assert self._proc is not None and self._proc.stdin is not None  # (started, with pipes)
                self._proc.stdin.write(json.dumps(request).encode() + b"\n")
                self._proc.stdin.flush()
                return self._answer(timeout)
            except (OSError, ZygoteError, ValueError):
                self._kill()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def fork_kernel(self, args: list[str], *, env: dict, cwd: str) -> ForkedKernel:
        """A new kernel: ``ipykernel`` run with ``args`` (``-f connection-file``) in ``cwd`` with ``env``."""
        with self._lock:
            answer = self._ask({"args": list(args), "env": dict(env), "cwd": str(cwd)})
        try:
            return ForkedKernel(int(answer))
        except ValueError as exc:
            raise ZygoteError(f"unexpected answer from the warm kernel parent: {answer!r}") from exc

    def _kill(self) -> None:
        if self._proc is None:
            return
        proc, ready, self._proc, self._ready = self._proc, self._ready, None, False
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:  # (always a pipe)
                    stream.close()
            except OSError:
                pass
        try:
            if not ready:  # still importing: it has forked nothing, nothing to wait for
                raise subprocess.TimeoutExpired(proc.args, 0)
            proc.wait(timeout=5)  # stdin closed: it kills its kernels and exits
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """Stop the zygote and every kernel it forked that is still running."""
        with self._lock:
            self._kill()


#: The process's warm parent: started on first use, stopped when the last run in a session ends.
_SHARED: Shared[Zygote] = Shared(lambda: Zygote().start(), Zygote.close)


def enabled() -> bool:
    """Warm kernels are on unless ``GAPTOOLS_WARM_KERNELS=0`` (then every kernel is started afresh)."""
    return os.environ.get("GAPTOOLS_WARM_KERNELS", "1") != "0"


def current(start: bool = True) -> Zygote | None:
    """The process's warm parent, started on first use when ``start`` (a Dask worker keeps it between tasks)."""
    if not enabled():  # switched off: even a parent started earlier is not used
        return None
    return _SHARED.get() if start else _SHARED.peek()


class session:
    """``with session() as zygote:`` a warm parent for a run, stopped (with its kernels) when the last run ends.

    A local run uses this so that no process outlives it; a Dask worker keeps
    the one :func:`current` starts instead. ``zygote`` is None when warm
    kernels are switched off (``GAPTOOLS_WARM_KERNELS=0``).
    """

    def __enter__(self) -> Zygote | None:
        self._counted = enabled()
        return _SHARED.acquire() if self._counted else None

    def __exit__(self, *exc) -> None:
        if self._counted:
            self._counted = False
            _SHARED.release()
