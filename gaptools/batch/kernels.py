"""Run one notebook in its own kernel (papermill), over IPC sockets, and stop every kernel at once.

Every kernel this process starts is recorded until it is shut down, so that
:func:`stop_all` (called on Ctrl-C or SIGTERM) can kill each one at once
instead of waiting for its notebook to finish. Kernels start in their own
session (jupyter_client does that), so the terminal's Ctrl-C reaches the
runner alone and the runner decides what stops.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path

#: Errors from starting a kernel that are worth another try (port races, slow start-up).
RETRYABLE = ("Kernel didn't respond", "Kernel died before replying", "Address already in use",
             "ZMQError", "kernel_info", "Timeout waiting for", "Kernel not responding")

_LIVE: set[int] = set()          # process ids of the kernels running now
_LIVE_LOCK = threading.Lock()
_STOP = threading.Event()        # set by stop_all: no kernel starts any more


class Stopped(RuntimeError):
    """The run is being stopped: no new notebook is started."""


def stopping() -> bool:
    """True once :func:`stop_all` was called (until :func:`reset`)."""
    return _STOP.is_set()


def reset() -> None:
    """Allow kernels to start again (at the start of a run)."""
    _STOP.clear()


def stop_all() -> int:
    """Kill every kernel this process started and refuse to start more.

    Safe to call from a signal handler. The notebooks' own threads then see a
    dead kernel within about a second, shut their kernel managers down (which
    removes the connection files) and return.

    Returns
    -------
    int
        How many kernels were killed.
    """
    _STOP.set()
    with _LIVE_LOCK:
        pids = list(_LIVE)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)  # the kernel leads its own session: its children go too
        except ProcessLookupError:
            pass
        except PermissionError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return len(pids)


def live_kernels() -> list[int]:
    """Process ids of the kernels running now."""
    with _LIVE_LOCK:
        return sorted(_LIVE)


_READY_CLIENT = None
_READY_CLIENT_LOCK = threading.Lock()


def _ready_client_class():
    """A kernel client that is ready as soon as the kernel has answered on both channels.

    jupyter_client's own waits a further 0.2 s of silence on IOPub after the
    kernel's first answer, for every kernel; nbclient ignores any message that
    does not answer its own requests, so that wait buys nothing here.
    """
    global _READY_CLIENT
    with _READY_CLIENT_LOCK:  # one class for every thread: a manager's trait accepts its own class only
        if _READY_CLIENT is None:
            _READY_CLIENT = _make_ready_client()
        return _READY_CLIENT


def _make_ready_client():
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_core.utils import ensure_async

    class ReadyClient(AsyncKernelClient):
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected too: the kernel's status for that request arrives
                        await ensure_async(self.iopub_channel.get_msg(timeout=1))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

        wait_for_ready = _async_wait_for_ready

    return ReadyClient


def _kernel_manager_class(cwd: str | None = None, runtime: str | None = None):
    """Kernels talk over IPC sockets, not TCP ports: no port races between
    parallel kernels, and nothing listening on the network. ``cwd`` is the
    kernel's own working directory, given to the kernel process alone: the
    runner's process never changes directory (papermill's ``cwd`` would
    ``chdir`` the whole process, under every thread). ``runtime`` is a private
    folder for the connection file and sockets (removed by the caller)."""
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, Type, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)
        client_factory = Type(klass=_ready_client_class(), config=True)

        @default("client_factory")
        def _ready_client(self):
            return _ready_client_class()

        @default("connection_file")
        def _private_connection_file(self):
            # the sockets go beside it ("<name>-ipc-N"): all in the run's private folder
            folder = runtime or tempfile.mkdtemp(prefix="gaptools-kernel-")
            return str(Path(folder) / f"k-{uuid.uuid4().hex[:12]}.json")  # IPC socket paths: 107 bytes at most

        def cleanup_ipc_files(self) -> None:
            super().cleanup_ipc_files()
            if runtime is None:
                try:
                    Path(self.connection_file).parent.rmdir()
                except OSError:
                    pass

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel's own chatter (shutdown notices) stays out of the run's output;
            # cell errors reach us as messages, not through stderr
            import subprocess

            if _STOP.is_set():
                raise Stopped("the run is stopping")
            kw.setdefault("stderr", subprocess.DEVNULL)
            if cwd is not None:
                kw["cwd"] = cwd
            if not launch_warm_kernel(self, kernel_cmd, kw):
                await super()._async_launch_kernel(kernel_cmd, **kw)
            # the local provisioner's process, started or forked just now: jupyter_client declares the
            # provisioner as the base class (no process) and LocalProvisioner.process as always None
            pid = self.provisioner.process.pid  # type: ignore[union-attr]
            with _LIVE_LOCK:
                _LIVE.add(pid)
            self._gaptools_pid = pid
            if _STOP.is_set():  # stop_all ran while this kernel was starting
                stop_all()

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            with _LIVE_LOCK:
                _LIVE.discard(getattr(self, "_gaptools_pid", None))

    return IPCKernelManager


def launch_warm_kernel(manager, kernel_cmd: list[str], kw: dict) -> bool:
    """Start a kernel manager's kernel as a fork of this process's warm parent, if it can be.

    For a jupyter_client kernel manager's ``_async_launch_kernel`` (sync or
    async manager alike): call it in place of the usual launch, and launch the
    usual way when it returns False. The fork is a new kernel process (nothing
    of an earlier notebook's kernel is in it) that skips starting Python and
    importing what a report needs; see :mod:`gaptools.batch.warm`.

    Parameters
    ----------
    manager : jupyter_client.manager.KernelManager
        The manager whose kernel is starting. Its provisioner has prepared the
        launch (``pre_launch``: connection file written, command built).
    kernel_cmd : list of str
        The command the manager would run (``python -m ipykernel_launcher -f ...``).
    kw : dict
        The launch options the manager would give ``Popen``; the kernel gets
        their ``env`` and ``cwd`` (this process's, when absent).

    Returns
    -------
    bool
        True if the kernel is running as a fork of the warm parent: the
        manager's provisioner now holds it (process, pid, process group, cwd)
        and the manager has the connection info (the local provisioner gave
        it while preparing the launch). False if the caller must start it the
        usual way: warm kernels switched off (``GAPTOOLS_WARM_KERNELS=0``), a
        command that is not this Python's ipykernel, a provisioner other than
        jupyter_client's local one, or a warm parent that cannot fork one.
    """
    from jupyter_client.provisioning import LocalProvisioner

    prov = manager.provisioner
    # Only the local provisioner: preparing the launch (its public ``pre_launch``) wrote the connection
    # file and loaded that connection into the manager, so once the kernel runs there is nothing left
    # for the manager to reconcile (what jupyter_client's own launch would check next). Another
    # provisioner may hand its connection over only at launch: it starts its kernel its own way.
    if not isinstance(prov, LocalProvisioner) or not _same_connection(manager.get_connection_info(),
                                                                      prov.connection_info):
        return False
    forked = _fork_warm(kernel_cmd, kw)
    if forked is None:
        return False
    prov.process, prov.pid, prov.pgid = forked, forked.pid, forked.pid  # it leads its own session
    prov.cwd = kw.get("cwd") or os.getcwd()
    return True


#: What makes two connections the same kernel's (jupyter_client compares these too).
_CONNECTION_KEYS = ("transport", "ip", "key", "signature_scheme", "shell_port", "iopub_port", "stdin_port",
                    "control_port", "hb_port", "curve_publickey", "curve_secretkey")


def _same_connection(mine: Mapping, theirs: Mapping) -> bool:
    """Whether the manager's connection is the one the provisioner prepared (and wrote to the file)."""
    return bool(theirs) and all(mine.get(k) == theirs.get(k) for k in _CONNECTION_KEYS)


def _fork_warm(kernel_cmd: list[str], kw: dict):
    """A kernel forked from the process's warm parent, or None to start one the usual way
    (warm kernels switched off, a kernel that is not this Python's ipykernel, or a parent
    that cannot fork one)."""
    import sys

    from . import warm

    cmd = list(kernel_cmd)
    at = next((i for i in range(1, len(cmd) - 1) if cmd[i:i + 2] == ["-m", "ipykernel_launcher"]), None)
    if at is None or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
        return None  # another interpreter or kernel: the warm parent is not it
    zygote = warm.current(start=True)
    if zygote is None:
        return None
    try:
        return zygote.fork_kernel(cmd[at + 2:], env=kw.get("env") or dict(os.environ),
                                  cwd=kw.get("cwd") or os.getcwd())
    except warm.ZygoteError:
        return None


def execute_notebook(source: Path, target: Path, parameters: dict, *, cwd: str, timeout: int, retries: int,
                     runtime: str | None = None, progress: str | None = None):
    """Run one notebook; retry only the kernel start-up races, never a failing cell.

    ``cwd`` becomes the kernel's working directory; the calling process's own
    directory is never changed, so relative paths elsewhere stay as they were.
    ``runtime`` is the private folder for the kernel's connection file.
    ``progress`` names a progress bar on stderr counting the cells as they run (none if None).
    Returns the executed notebook (also written to ``target``).
    Raises :class:`Stopped` when the run is being stopped.
    """
    import sys

    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    # (papermill's own tqdm bar, told where to write and what to say)
    bar = {"desc": progress, "unit": "cell", "file": sys.stderr, "dynamic_ncols": True} if progress else False

    for attempt in range(retries + 1):
        if _STOP.is_set():
            raise Stopped("the run is stopping")
        try:
            # written once when it ends (or fails), not after every cell: a page's images make each write megabytes
            return pm.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                                       progress_bar=bar, log_output=False, execution_timeout=timeout,
                                       start_timeout=120, request_save_on_cell_execute=False,
                                       shutdown_kernel="immediate",  # its outputs are all in: no wait
                                       kernel_manager_class=_kernel_manager_class(str(cwd), runtime))
        except PapermillExecutionError:
            raise
        except Exception as exc:  # kernel start-up races surface as assorted runtime errors
            if _STOP.is_set():
                raise Stopped("the run is stopping") from exc
            if attempt < retries and any(s in f"{type(exc).__name__}: {exc}" for s in RETRYABLE):
                time.sleep(1.0 + attempt)
                continue
            raise


def execution_error(exc, notebook: str) -> str:
    """One line saying which notebook, which cell and what went wrong (no traceback)."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first = (exc.source or "").strip().splitlines()
        code = first[0][:80] if first else ""
        return f"{notebook}: cell {exc.exec_count} ({code}) failed: {exc.ename}: {exc.evalue}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{notebook}: could not write {exc.filename}: {exc.strerror or exc}"
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{notebook}: {type(exc).__name__}: {first}"  # a timeout's message goes on to quote the cell
