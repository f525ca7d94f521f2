"""Where a run's school jobs run: a local pool of threads (one kernel process per notebook) or a Dask cluster.

Outcomes come back as they finish, with a progress bar; an interruption kills
every kernel and cancels what is queued. The runner alone moves a finished
school into the output folder.
"""
from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

from ..domain.formatting import terminal_safe
from ..errors import UsageError
from .kernels import stop_all
from .school import INPUT_FIELDS, SchoolOutcome, run_school


def default_workers() -> int:
    """The local pool's size: the CPU count, fewer if memory would not hold that many kernels."""
    cpus = os.cpu_count() or 1
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_memory = max(1, int(avail // (0.75 * 2 ** 30)))  # a kernel reads its school's rows: 0.3-0.5 GiB measured
    except (ValueError, OSError, AttributeError):
        by_memory = cpus
    return max(1, min(cpus, by_memory))


def scheduler_address(address: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a Dask scheduler address such as ``tcp://10.0.0.5:8786``.

    Raises
    ------
    UsageError
        The address is not of that form (an unknown scheme, no port, a port out of range).
    """
    import re

    m = re.fullmatch(r"(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})/?", address.strip())
    if not m or not 1 <= int(m.group(3)) <= 65535:
        raise UsageError(f"--scheduler {address!r}: not a Dask scheduler address; write tcp://HOST:PORT "
                         "with a port from 1 to 65535 (e.g. tcp://10.0.0.5:8786)")
    return m.group(1) or "tcp", m.group(2).strip("[]"), int(m.group(3))


def connect(scheduler: str, wait_s: float = 10.0):
    """A Dask client, or a :class:`UsageError` within seconds if the scheduler cannot be reached."""
    import socket

    from distributed import Client

    scheme, host, port = scheduler_address(scheduler)
    try:
        socket.create_connection((host, port), timeout=wait_s).close()  # refused or unroutable: said at once
        return Client(f"{scheme}://{host}:{port}" if ":" not in host else f"{scheme}://[{host}]:{port}",
                      timeout=f"{wait_s:.0f}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                         f"({getattr(exc, 'strerror', None) or exc or 'no answer'}); is it running?") from exc


def dask_failure(exc: BaseException, client) -> str:
    """Why a school's Dask task failed, in words: the scheduler gone is not a worker's fault."""
    from asyncio import CancelledError

    if client.status != "running" or isinstance(exc, (CancelledError, OSError, TimeoutError)) \
            or "scheduler" in str(exc).lower():
        return ("the Dask scheduler stopped or could not be reached before this school finished; "
                "run again with --resume when it is back")
    return f"the Dask worker failed: {type(exc).__name__}: {exc}"


def school_data(client, data_file, jobs) -> list:
    """What each school's Dask task reads its rows from: nothing more than its job where every worker sees the
    run's table by school (the client's folder: one machine, or a shared file system), else each school's own
    file's bytes, in its task (a worker gets its schools' rows alone, never the whole table; and a task whose
    worker is lost is run again elsewhere with them, as data scattered to that worker would be lost with it)."""
    from ..io.byschool import folder_token, school_file

    token = folder_token(data_file)
    seen = client.run(folder_token, str(data_file)) if token else {}
    if seen and all(t == token for t in seen.values()):
        return [None] * len(jobs)
    return [(Path(data_file) / school_file(j.school_id)).read_bytes() for j in jobs]


def school_inputs(data, jobs) -> list:
    """With each school's rows sent in its task (``data``: :func:`school_data`), its own files of the current
    pupils and the data drops too (they are in the same private folder, which the worker cannot see)."""
    return [None if d is None else {f: Path(getattr(j, f)).read_bytes() for f in INPUT_FIELDS if getattr(j, f)}
            for d, j in zip(data, jobs)]


def dispatch(jobs, *, client, data_file, workers, quiet, already_failed=0, skipped=0):
    """Run the jobs (locally or on Dask), yielding outcomes as they finish, with a progress bar.

    On an interruption every kernel is killed, queued jobs are cancelled and
    the running ones are waited for (seconds: their kernels are dead).
    """
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), unit="school", disable=quiet or not jobs, file=sys.stderr,
               desc="schools", dynamic_ncols=True)
    failed = already_failed

    def tick(outcome):
        nonlocal failed
        failed += outcome.status == "failed"
        bar.update(1)
        bar.set_postfix(done=bar.n, failed=failed, remaining=bar.total - bar.n, skipped=skipped)
        if quiet:
            print(terminal_safe(f"{outcome.school_id}: {outcome.status} ({outcome.duration_s:.1f}s)"
                                + (f": {outcome.error}" if outcome.error else "")), file=sys.stderr)

    try:
        if not jobs:
            return
        if client is not None:
            from distributed import as_completed

            with warnings.catch_warnings():  # (schools' files in their tasks make a large graph: as meant)
                warnings.filterwarnings("ignore", message=".*large graph.*")
                data = school_data(client, data_file, jobs)
                futures = client.map(run_school, jobs, data, school_inputs(data, jobs), pure=False,
                                     key=[f"gaptools-{j.folder}-{os.getpid()}-{time.time_ns()}" for j in jobs])
            job_of = {f.key: j for f, j in zip(futures, jobs)}
            waiting = {f.key: f for f in futures}  # what this run still wants from the cluster
            del futures
            try:
                for fut in as_completed(list(waiting.values()), loop=client.loop):
                    try:
                        outcome = fut.result()
                    except BaseException as exc:  # the worker died, or the scheduler went (its futures cancelled)
                        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                            raise
                        job = job_of[fut.key]
                        outcome = SchoolOutcome(job.school_id, job.school_name, job.folder, "failed",
                                                dask_failure(exc, client))
                    tick(outcome)
                    yield outcome
                    # the school's folder is saved (the runner commits it before asking for the next): let
                    # the cluster forget its result, so a worker lost later never makes it compute it again
                    waiting.pop(fut.key, None)
                    fut.release()
                    del fut
            finally:
                client.cancel(list(waiting.values()), force=True)
        else:
            from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

            # threads suffice: each notebook runs in its own kernel process
            n = max(1, min(workers or default_workers(), len(jobs)))
            pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="gaptools-school")
            try:
                pending = {pool.submit(run_school, j) for j in jobs}
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        outcome = fut.result()
                        tick(outcome)
                        yield outcome
            except BaseException:
                stop_all()  # running notebooks are interrupted, not waited for
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
