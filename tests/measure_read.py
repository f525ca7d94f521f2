"""Read one file as gaptools reads it, in a process of its own: the read's time and the process's peak memory.

For the bounded-resource tests of ``test_hostile_input``: each reading runs in a
new process forked from a server that has already imported gaptools' readers
(:func:`measured`, multiprocessing's *forkserver*), so that what a hostile file
costs is measured apart from the test process, without starting Python and
importing pandas again for every file (about a core-second each). The peak
memory is the whole process's, the server's imports included.
"""
from __future__ import annotations

import functools
import json
import resource
import time
import traceback
from pathlib import Path

import gaptools.io.mapping
import gaptools.io.readers
from gaptools.errors import DataValidationError


def measure(what: str, path: str, result: str) -> None:
    """In the forked process: read ``path`` (``what``: "table" or "mapping"); write what it cost to ``result``."""
    try:
        start = time.perf_counter()
        if what == "table":
            _, found = gaptools.io.readers.read_table(Path(path))
        else:
            try:
                gaptools.io.mapping.load_mapping(Path(path))
                found = []
            except DataValidationError as err:
                found = err.problems
        out = {"seconds": time.perf_counter() - start,
               "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               "problems": [str(p) for p in found]}
    except BaseException:  # reported by the test, with its traceback
        out = {"error": traceback.format_exc()}
    Path(result).write_text(json.dumps(out))


@functools.cache
def _context():
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def measured(what: str, path, timeout: float = 300) -> dict:
    """Read ``path`` in a new process forked from the (per test process) server; what :func:`measure` wrote."""
    import tempfile

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="measured-") as folder:  # never beside the file read
        result = Path(folder) / "result.json"
        process = _context().Process(target=measure, args=(what, str(path), str(result)))
        process.start()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
            raise AssertionError(f"reading {path.name} took more than {timeout} s")
        assert process.exitcode == 0, f"the reading process exited with {process.exitcode}"
        out = json.loads(result.read_text())
    assert "error" not in out, out["error"]
    return out
