"""Warm kernels: every notebook runs in a fresh fork of one warm parent, and nothing leaks between schools.

Each school notebook here carries a probe cell (after the parameters) that
records what it can see of earlier notebooks (a variable, a module global, a
pandas option, a builtin) and then changes all of them. If any kernel were
reused, or shared state with another, a later probe would see the change.
Real kernels throughout; the Dask case uses a real local cluster.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, all_gone, process_running

from gaptools.batch import run, warm
from gaptools.io.sample import generate_trust, write_trust
from gaptools.io.shared import Shared

PROBE = '''\
import builtins, json, os, pandas as pd
import gaptools.domain.suppression as _suppression
seen = {"pid": os.getpid(), "ppid": os.getppid(),
        "variable": "LEAKED_VARIABLE" in globals(),
        "builtin": hasattr(builtins, "gaptools_leak"),
        "module_global": _suppression.DEFAULT_THRESHOLD,
        "pandas_option": pd.get_option("display.max_rows"),
        "parameter_school": school_id}
LEAKED_VARIABLE = school_id
builtins.gaptools_leak = school_id
_suppression.DEFAULT_THRESHOLD = 999
pd.set_option("display.max_rows", 7)
with open(os.path.join(out_dir, "probe-{nb}.json"), "w") as fh:
    json.dump(seen, fh)
{extra}'''


def _templates(folder, extra: dict | None = None):
    """The shipped notebooks with the probe inserted after each school notebook's parameters cell."""
    shutil.copytree(ROOT / "notebooks", folder)
    for name in ("01_cohort_overview", "02_gap_analysis", "03_intervention_targeting"):
        nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
        code = PROBE.replace("{nb}", name[:2]).replace("{extra}", (extra or {}).get(name[:2], ""))
        nb.cells.insert(at, nbformat.v4.new_code_cell(code))
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture(scope="module")
def small_trust(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust")
    write_trust(generate_trust(schools=3, years=1, seed=21), folder)
    return folder


@pytest.fixture(scope="module")
def probe_run(small_trust, tmp_path_factory):
    """The small trust run locally with the probe templates, one notebook after another (one worker):
    every notebook of every school from the same warm parent. Read by the isolation test, and by
    the Dask test as the results a Dask run must give too."""
    folder = tmp_path_factory.mktemp("probe-run")
    out = folder / "out"
    return out, run(small_trust, out, quiet=True, workers=1, notebook_dir=_templates(folder / "nb"))


def _probes(out, manifest):
    seen = []
    for sid, school in manifest["schools"].items():
        for nb in ("01", "02", "03"):
            path = out / school["folder"] / f"probe-{nb}.json"
            if path.is_file():
                seen.append((sid, nb, json.loads(path.read_text())))
    return seen


def test_no_state_leaks_from_one_notebook_or_school_to_the_next(probe_run):
    out, manifest = probe_run
    assert all(s["status"] == "ok" for s in manifest["schools"].values()), manifest
    seen = _probes(out, manifest)
    assert len(seen) == 9
    for sid, nb, s in seen:
        assert s["parameter_school"] == sid, (sid, nb)
        assert s["variable"] is False and s["builtin"] is False, (sid, nb, s)
        assert s["module_global"] == 6, (sid, nb, s)          # not the 999 an earlier notebook set
        assert s["pandas_option"] == 60, (sid, nb, s)         # pandas' default, not the 7 set before
    pids = [s["pid"] for _, _, s in seen]
    assert len(set(pids)) == 9                                # a new kernel process for every notebook
    parents = {s["ppid"] for _, _, s in seen}
    # all forked from one warm parent: the one this test process keeps (see conftest.warm_parent)
    assert parents == {warm.current(start=False).pid} and parents != {os.getpid()}
    assert os.getpid() not in pids
    assert all_gone(pids)                                    # every kernel ended with its notebook


def test_the_last_run_of_a_process_stops_the_warm_parent(monkeypatch):
    """Runs in one process share the warm parent (``warm.session``, as every local run uses it); the
    last to end stops it, and its kernels. (This test process keeps one for the whole suite, see
    conftest.warm_parent; here a process holding none is played. A separate ``gaptools run`` process
    leaving nothing running is checked in test_batch_safety.)"""
    monkeypatch.setattr(warm, "_SHARED", Shared(lambda: warm.Zygote().start(), warm.Zygote.close))
    with warm.session() as outer:
        with warm.session() as inner:
            assert inner is outer and process_running(outer.pid)
        assert process_running(outer.pid) and warm.current(start=False) is outer  # another run still uses it
    assert warm.current(start=False) is None and all_gone([outer.pid])


def test_a_kernel_that_dies_or_times_out_is_replaced_not_reused(small_trust, tmp_path):
    schools = sorted(generate_trust(schools=3, years=1, seed=21)["school_id"].unique())
    dies, hangs = schools[0], schools[1]
    extra = {"02": f'if school_id == "{dies}":\n    os._exit(3)\n'
                   f'if school_id == "{hangs}":\n    import time; time.sleep(120)\n'}
    out = tmp_path / "out"
    # one school at a time: the third school runs after both the death and the timeout
    manifest = run(small_trust, out, quiet=True, workers=1, timeout=6, notebook_dir=_templates(tmp_path / "nb", extra))
    status = {sid: s["status"] for sid, s in manifest["schools"].items()}
    assert status == {dies: "failed", hangs: "failed", schools[2]: "ok"}, manifest
    assert "02_gap_analysis" in manifest["schools"][dies]["error"]
    assert "02_gap_analysis" in manifest["schools"][hangs]["error"]
    assert "timed out" in manifest["schools"][hangs]["error"] and "\n" not in manifest["schools"][hangs]["error"]
    assert "died" in manifest["schools"][dies]["error"]
    # the school after them ran all three notebooks in new kernels, with nothing seen of theirs
    seen = _probes(out, {"schools": {k: v for k, v in manifest["schools"].items() if k == schools[2]}})
    assert [nb for _, nb, _ in seen] == ["01", "02", "03"]
    for _, _, s in seen:
        assert not s["variable"] and not s["builtin"] and s["module_global"] == 6


def test_dask_workers_keep_their_warm_parent_between_tasks(small_trust, probe_run, dask_cluster, tmp_path):
    """Also: a run on a Dask cluster gives the same results as the same run on this machine."""
    from distributed import Client

    out = tmp_path / "out"
    with Client(dask_cluster) as client:
        workers = client.run(os.getpid)
        assert len(workers) == 2
        # three schools (three tasks) on two workers: one worker runs at least two of them
        manifest = run(small_trust, out, scheduler=dask_cluster.scheduler_address, quiet=True,
                       notebook_dir=_templates(tmp_path / "nb"))
        assert [s["status"] for s in manifest["schools"].values()] == ["ok"] * 3, manifest
        local, _ = probe_run
        for school in manifest["schools"].values():  # the same results.json as the local run's
            assert (out / school["folder"] / "results.json").read_bytes() == \
                (local / school["folder"] / "results.json").read_bytes(), school["school_id"]
        seen = _probes(out, manifest)
        assert len(seen) == 9
        by_school = {}
        for sid, _, s in seen:
            by_school.setdefault(sid, set()).add(s["ppid"])
        assert all(len(p) == 1 for p in by_school.values())  # a school's notebooks: one parent
        parents = set().union(*by_school.values())
        zygotes = set(client.run(lambda: warm.current(start=False).pid).values())
        # each worker's one warm parent served every task it ran (three tasks, at most two parents)...
        assert parents <= zygotes and len(parents) < len(by_school) and not parents & set(workers.values())
        assert all(process_running(z) for z in parents)  # ...and is still there for the next task
        for _, _, s in seen:
            assert not s["variable"] and not s["builtin"] and s["module_global"] == 6
            assert s["pandas_option"] == 60
        assert len({s["pid"] for _, _, s in seen}) == 9
        client.restart()  # the workers replaced: their warm parents go with them
        assert all_gone(parents)


def test_warm_parent_exits_and_kills_its_kernels_when_the_runner_is_killed(tmp_path):
    """kill -9 of the process that started the warm parent: the parent sees its pipe close,
    kills the kernels it forked and exits (nothing is left running)."""
    script = tmp_path / "holder.py"
    script.write_text(
        "import sys, time\n"
        "from gaptools.batch import warm\n"
        "z = warm.Zygote().start()\n"
        "k = z.fork_kernel(['-f', sys.argv[1]], env={'PATH': '/usr/bin:/bin'}, cwd=sys.argv[2])\n"
        "print(z.pid, k.pid, flush=True)\n"
        "time.sleep(120)\n")
    from jupyter_client.connect import write_connection_file

    conn, _ = write_connection_file(fname=str(tmp_path / "k.json"), transport="ipc", ip=str(tmp_path / "ipc"))
    holder = subprocess.Popen([sys.executable, str(script), conn, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    zygote, kernel = map(int, holder.stdout.readline().split())
    assert process_running(kernel) and process_running(zygote)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert all_gone([zygote, kernel])


def test_kernels_started_at_once_by_many_threads_share_one_client_class(monkeypatch):
    """The runner's school threads start their first kernels at the same moment: each kernel manager
    must get the one client class its trait accepts (two classes made at once failed a school with
    "TraitError: ... expected a subclass of ReadyClient, not the ReadyClient")."""
    import threading
    import time

    from gaptools.batch import kernels

    made = kernels._make_ready_client

    def slowly():  # widen the window in which a second thread could make a class of its own
        time.sleep(0.05)
        return made()

    monkeypatch.setattr(kernels, "_READY_CLIENT", None)
    monkeypatch.setattr(kernels, "_make_ready_client", slowly)
    start, got, errors = threading.Barrier(6), [], []

    def first_kernel_manager():
        start.wait()
        try:
            manager = kernels._kernel_manager_class()()
            got.append(manager.client_factory)
        except Exception as exc:  # the TraitError of two classes, reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_kernel_manager) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 6 and len(set(got)) == 1


def test_warm_kernels_can_be_switched_off(tmp_path, monkeypatch):
    """GAPTOOLS_WARM_KERNELS=0: the kernel is started the usual way, as a child of the runner."""
    from gaptools.batch.kernels import execute_notebook

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                            "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import os\nprint(os.getppid(), x)")]
    nbformat.write(nb, tmp_path / "probe.ipynb")
    import tempfile

    runtime = tempfile.mkdtemp(prefix="gt-")  # IPC socket paths are short: not pytest's long folder
    for setting, parent in (("0", os.getpid()), ("1", None)):
        monkeypatch.setenv("GAPTOOLS_WARM_KERNELS", setting)
        with warm.session() as zygote:
            assert (zygote is None) == (setting == "0")
            done = execute_notebook(tmp_path / "probe.ipynb", tmp_path / f"out{setting}.ipynb", {"x": 5},
                                    cwd=str(tmp_path), timeout=60, retries=0, runtime=runtime)
            ppid, x = "".join(done.cells[-1].outputs[0]["text"]).split()
            assert int(x) == 5
            assert int(ppid) == (parent if parent is not None else zygote.pid)


def manifest_ids(folder):
    import warnings

    import gaptools

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return set(gaptools.load_pupils(folder)["school_id"].unique())


def test_a_warm_parent_that_cannot_start_costs_speed_not_the_run(tmp_path):
    """A parent whose Python cannot even import gaptools: forking says so, and kernels start the usual way."""
    from gaptools.batch.kernels import _fork_warm

    broken = warm.Zygote(env={"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1",
                              "PYTHONPATH": str(tmp_path), "PYTHONHOME": str(tmp_path)})
    with pytest.raises(warm.ZygoteError):
        broken.fork_kernel(["-f", str(tmp_path / "k.json")], env={}, cwd=str(tmp_path))
    broken.close()
    assert _fork_warm(["/not/this/python", "-m", "ipykernel_launcher", "-f", "x"], {}) is None
