import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SAMPLE = ROOT / "data" / "sample"
SHARED = ROOT.parent / "shared"
PUBLISHED = ROOT / "data" / "dfe" / "ks2_school_level"


@pytest.fixture(scope="session")
def sample_pupils():
    import gaptools

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(SAMPLE)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """One `gaptools run` of the sample trust (real kernels, local pool), shared by the
    batch, notebook, browser and PDF tests: with PDFs, and the published benchmarks page
    of the real DfE KS2 files, none of whose schools is in the sample trust."""
    from gaptools.batch import run

    out = tmp_path_factory.mktemp("run") / "reports"
    manifest = run(SAMPLE, out, quiet=True, pdf=True, published=[PUBLISHED])
    return out, manifest


@pytest.fixture(scope="session", autouse=True)
def shipped_reference_only(tmp_path_factory):
    """Every test (and every kernel it starts) sees the shipped national figures only,
    never figures the person running the suite imported into their own reference folder."""
    import os

    before = os.environ.get("GAPTOOLS_REFERENCE_DIR")
    os.environ["GAPTOOLS_REFERENCE_DIR"] = str(tmp_path_factory.mktemp("no-user-reference"))
    yield
    if before is None:
        os.environ.pop("GAPTOOLS_REFERENCE_DIR", None)
    else:
        os.environ["GAPTOOLS_REFERENCE_DIR"] = before


def gaptools_cli(*args, cwd=None):
    """``gaptools ARGS`` run in this process: the console script's own ``main``, its exit code
    (argparse's ``SystemExit`` included) and everything it printed, as a ``CompletedProcess``.

    The same code as ``python -m gaptools.cli ARGS`` without a fresh interpreter importing
    pandas, pandera and dask again (about 3 s a call): for tests of what a command says and
    returns. What a process would also print on its stderr is printed there here too: Python's
    warnings under a fresh interpreter's filters, an exception in any thread (with its
    "Traceback"), and log records of WARNING and above. An exception escaping ``main`` (a user
    would see its traceback) fails the calling test. A test of the process itself (the entry
    point, a signal, a hang guarded by a timeout) starts a real process instead.
    """
    import contextlib
    import io
    import logging
    import subprocess
    import threading
    import traceback
    import warnings

    from gaptools.cli import main

    out, err = io.StringIO(), io.StringIO()

    def thread_died(hook_args):  # as Python prints it in a process
        print(f"Exception in thread {hook_args.thread.name if hook_args.thread else '?'}:", file=err)
        traceback.print_exception(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback, file=err)

    last_resort = logging.StreamHandler(err)
    last_resort.setLevel(logging.WARNING)
    root, hook = logging.getLogger(), threading.excepthook
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings(), \
            (contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext()):
        warnings.resetwarnings()  # a fresh interpreter's filters
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        threading.excepthook = thread_died
        root.addHandler(last_resort)
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            root.removeHandler(last_resort)
            threading.excepthook = hook
    return subprocess.CompletedProcess(["gaptools", *map(str, args)], code, out.getvalue(), err.getvalue())
