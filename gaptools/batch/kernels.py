"""Run one notebook in its own kernel (papermill), over IPC sockets."""
from __future__ import annotations

import time
from pathlib import Path

#: Errors from starting a kernel that are worth another try (port races, slow start-up).
RETRYABLE = ("Kernel didn't respond", "Kernel died before replying", "Address already in use",
             "ZMQError", "kernel_info", "Timeout waiting for", "Kernel not responding")


def _kernel_manager_class(cwd: str | None = None):
    """Kernels talk over IPC sockets, not TCP ports: no port races between
    parallel kernels, and nothing listening on the network. ``cwd`` is the
    kernel's own working directory, given to the kernel process alone: the
    runner's process never changes directory (papermill's ``cwd`` would
    ``chdir`` the whole process, under every thread)."""
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        def cleanup_ipc_files(self) -> None:
            super().cleanup_ipc_files()
            try:
                Path(self.ip).parent.rmdir()
            except OSError:
                pass

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel's own chatter (shutdown notices) stays out of the run's output;
            # cell errors reach us as messages, not through stderr
            import subprocess

            kw.setdefault("stderr", subprocess.DEVNULL)
            if cwd is not None:
                kw["cwd"] = cwd
            return await super()._async_launch_kernel(kernel_cmd, **kw)

        @default("ip")
        def _private_socket_path(self):
            # each kernel its own folder: jupyter's default ('kernel-ipc' in the
            # working directory) is shared by kernels started side by side
            return str(Path(tempfile.mkdtemp(prefix="gaptools-kernel-")) / "ipc")

    return IPCKernelManager


def execute_notebook(source: Path, target: Path, parameters: dict, *, cwd: str, timeout: int, retries: int):
    """Run one notebook; retry only the kernel start-up races, never a failing cell.

    ``cwd`` becomes the kernel's working directory; the calling process's own
    directory is never changed, so relative paths elsewhere stay as they were.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    for attempt in range(retries + 1):
        try:
            pm.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                                progress_bar=False, log_output=False, execution_timeout=timeout,
                                start_timeout=120, kernel_manager_class=_kernel_manager_class(str(cwd)))
            return
        except PapermillExecutionError:
            raise
        except Exception as exc:  # kernel start-up races surface as assorted runtime errors
            if attempt < retries and any(s in f"{type(exc).__name__}: {exc}" for s in RETRYABLE):
                time.sleep(1.0 + attempt)
                continue
            raise


def execution_error(exc, notebook: str) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first = (exc.source or "").strip().splitlines()
        code = first[0][:80] if first else ""
        return f"{notebook}: cell {exc.exec_count} ({code}) failed: {exc.ename}: {exc.evalue}"
    return f"{notebook}: {type(exc).__name__}: {exc}"
