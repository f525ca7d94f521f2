"""The warm kernel parent (the *zygote*, ``python -m gaptools.batch.warm_parent``): imports what a report
needs once, then forks a fresh kernel for each request.

Its side of the protocol described in :mod:`gaptools.batch.warm` (the runner's side): one JSON request a
line on stdin, one answer a line on stdout (``ready``, a kernel's process id, or
``error ...``); when stdin closes it kills the kernels it forked and exits.
"""
from __future__ import annotations

import json
import os
import signal
import sys

#: Modules every report imports: loaded once in the parent, never again per notebook.
WARM_MODULES = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython", "IPython.display",
    "matplotlib_inline.backend_inline", "numpy", "pandas", "pyarrow", "pyarrow.parquet", "scipy.stats",
    "scipy.special", "statsmodels.stats.proportion", "matplotlib", "matplotlib.pyplot",
    "seaborn", "pandera", "pandera.pandas", "jinja2", "yaml", "gaptools",
    # what a kernel imports as it starts (its debugger support above all)
    "ipykernel.debugger", "IPython.extensions", "IPython.core.completer", "sqlite3", "pdb", "http.server",
    "xmlrpc.server", "tornado.queues", "tornado.locks", "tornado.gen", "mimetypes", "faulthandler",
    "setproctitle",
)
#: Options for every forked kernel: a batch kernel keeps no command history on disk.
KERNEL_OPTIONS = ("--HistoryManager.enabled=False",)


def _warm_up() -> None:
    """Import every module a report uses (failures are left for the notebook to report)."""
    import importlib
    import pkgutil

    # the backend ipykernel would choose, fixed before matplotlib is imported
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    import gaptools

    for mod in pkgutil.walk_packages(gaptools.__path__, "gaptools."):
        if not mod.name.startswith(("gaptools.batch", "gaptools.cli")):
            try:
                importlib.import_module(mod.name)
            except Exception:
                pass


def _first_use() -> None:
    """Do once in the parent what each kernel would otherwise do again on first use.

    Validating a table, pandas' HTML tables and matplotlib's first figure
    and text layout, done here once rather than in every kernel. The table
    is a small generated one: nothing of it is about any real school, its
    outputs are thrown away, and nothing it does changes a result (the
    isolation and results-identity tests check that).
    """
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pandas as pd
            from matplotlib.figure import Figure

            from gaptools.io.loading import load_pupils
            from gaptools.io.sample import generate_trust
            from gaptools.reporting.display import Chart, Table

            load_pupils(generate_trust(schools=1, years=1, seed=1))
            fig = Figure(figsize=(4, 2), layout="constrained")
            ax = fig.add_subplot()
            ax.bar(["a", "b"], [1, 2], label="a")
            ax.legend()
            ax.set_title("a")
            fig.suptitle("a", fontweight="bold")
            Chart(fig)
            Table(pd.DataFrame({"a": [1.0], "b": ["x"]}))._repr_html_()
    except Exception:  # a warm-up that fails only means kernels warm up themselves
        pass


def _child(request: dict) -> None:
    """In the forked child: become a fresh kernel in its own session; never return."""
    code = 1
    try:
        os.setsid()  # its own process group: signals for it reach it (and its children) alone
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the zygote's pipes are not the kernel's
            os.dup2(null, fd)
        os.close(null)
        os.chdir(request["cwd"])
        try:  # shown as the kernel it is in the process list (ps, top), not as its parent
            # (before the environment is replaced: the title takes over the space it started in)
            import setproctitle

            setproctitle.setproctitle(" ".join([sys.executable, "-m", "ipykernel_launcher", *request["args"]]))
        except ImportError:
            pass
        env = dict(request["env"])
        env["JPY_PARENT_PID"] = str(os.getppid())  # the kernel exits if the zygote goes
        os.environ.clear()
        os.environ.update(env)
        import random

        random.seed()  # not the parent's sequence
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=[*request["args"], *KERNEL_OPTIONS])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def main() -> None:
    """``python -m gaptools.batch.warm_parent``: warm up, then fork a kernel for each request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when we stop
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    _warm_up()
    import gc

    _first_use()
    gc.collect()
    gc.freeze()  # what is loaded now stays put: no collector pass copies its pages into every kernel
    forked: set[int] = set()

    def reap(*_):  # at once, so a finished kernel's pid is gone (and its CPU time counted as ours)
        try:
            while (pid := os.waitpid(-1, os.WNOHANG)[0]) > 0:
                forked.discard(pid)
        except ChildProcessError:
            pass

    signal.signal(signal.SIGCHLD, reap)
    answers.write(b"ready\n")
    answers.flush()
    for line in requests:
        try:
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _child(request)
            forked.add(pid)
            answers.write(f"{pid}\n".encode())
        except Exception as exc:
            answers.write(f"error {type(exc).__name__}: {exc}".replace("\n", " ").encode() + b"\n")
        answers.flush()
    for pid in forked:  # the runner is gone: so are its kernels
        # its process group (the kernel and anything it started), and the process itself: one forked
        # a moment ago may not have made its own group yet (nor seen that its parent is going)
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
    # at once: nothing is left to flush, and tearing down every imported module of a large heap
    # takes seconds on a busy machine (a runner that was killed should leave nothing behind, now)
    os._exit(0)


if __name__ == "__main__":
    main()
