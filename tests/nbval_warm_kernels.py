"""A pytest plugin for nbval: each notebook's kernel is a fresh fork of one warm parent, as `gaptools run`'s are.

Load it with ``-p nbval_warm_kernels`` (this folder on ``PYTHONPATH``). nbval
starts every notebook's kernel the usual way: a new Python that imports pandas,
matplotlib, seaborn and gaptools again, several core-seconds each. Here the
session holds one warm parent (:func:`gaptools.batch.warm.session`, started as
the session starts, so it warms up while notebooks are collected, then told how
many notebooks it will serve) and nbval's kernel manager forks each kernel from
it (:func:`gaptools.batch.kernels.launch_warm_kernel`),
falling back to the usual start when it cannot (``GAPTOOLS_WARM_KERNELS=0``,
another kernel). Every notebook still gets a kernel of its own, a new process,
and nbval stops it when the notebook ends; the warm parent stops (and kills
anything it forked that is still running) when the session ends.

``--warm-kernels-log=FILE`` writes, at the end, what was started as JSON:
``{"parent": pid or null, "forked": [pid, ...], "cold": [pid, ...]}``.
``--nbval-outputs=FILE`` writes what each cell printed and displayed, as nbval
received it: ``{notebook file name: [[output, ...] for each cell run]}`` (for a
test that reads a notebook's pages without running it a second time).
"""
from __future__ import annotations

import json

import pytest

# Loaded (with -p) before nbval, so this comes first: importing gaptools.batch spares nbformat's
# jsonschema the RFC 3987 grammar it would compile at import (about 2 core-seconds), as in
# `gaptools run`. Notebooks are still validated; no notebook schema checks an "iri" format.
from gaptools.batch import warm

_STATE: dict = {}


def pytest_addoption(parser):
    parser.addoption("--warm-kernels-log", default=None, metavar="FILE",
                     help="write the warm parent's pid and the pids of the kernels started (JSON)")
    parser.addoption("--nbval-outputs", default=None, metavar="FILE",
                     help="write every cell's outputs, by notebook (JSON)")


def _manager_class(base):
    from gaptools.batch.kernels import launch_warm_kernel

    class WarmKernelManager(base):
        """nbval's kernel manager, forking each kernel from the warm parent when it can."""

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if launch_warm_kernel(self, kernel_cmd, kw):
                _STATE["forked"].append(self.provisioner.pid)
            else:
                await super()._async_launch_kernel(kernel_cmd, **kw)
                _STATE["cold"].append(self.provisioner.pid)

    return WarmKernelManager


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    import nbval.kernel

    session = warm.session()
    zygote = session.__enter__()  # starts warming up now; the first kernel waits until it is ready
    original = nbval.kernel.KernelManager
    nbval.kernel.KernelManager = _manager_class(original)
    _STATE.update(session=session, zygote=zygote, original=original, forked=[], cold=[],
                  parent=zygote.pid if zygote is not None else None, log=config.getoption("warm_kernels_log"),
                  outputs_file=config.getoption("nbval_outputs"), outputs={})


def pytest_runtest_teardown(item):
    outputs = getattr(item, "test_outputs", None)  # an nbval cell that ran: what its kernel sent back
    if outputs is not None and _STATE.get("outputs_file"):
        _STATE["outputs"].setdefault(item.path.name, []).append(outputs)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    if "session" not in _STATE:
        return
    import nbval.kernel

    nbval.kernel.KernelManager = _STATE.pop("original")
    _STATE.pop("session").__exit__(None, None, None)  # the warm parent, and any kernel it forked, stop
    if _STATE["log"]:
        with open(_STATE["log"], "w", encoding="utf-8") as fh:
            json.dump({"parent": _STATE["parent"], "forked": _STATE["forked"], "cold": _STATE["cold"]}, fh)
    if _STATE["outputs_file"]:
        with open(_STATE["outputs_file"], "w", encoding="utf-8") as fh:
            json.dump(_STATE["outputs"], fh)
