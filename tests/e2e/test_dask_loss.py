"""Issue 30 (minor case): a run on a Dask cluster whose scheduler goes away says so, and keeps what finished."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

from gaptools.io.sample import generate_trust, write_trust


def _wait(what, seconds, check):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_scheduler_going_away_is_said_as_such(tmp_path):
    """A real `dask scheduler` and `dask worker`; the scheduler is killed once the first school is in
    place: that school stays ok, the others fail saying the scheduler went (not that a worker failed),
    and the run ends with exit 1 and no traceback."""
    write_trust(generate_trust(schools=2, years=1, seed=21), tmp_path / "data")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sf = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", sf], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker = run = None
    try:
        address = _wait("the scheduler", 60, lambda: sf.is_file() and json.loads(sf.read_text() or "{}").get("address"))
        worker = subprocess.Popen([bin_dir / "dask", "worker", address, "--nthreads", "1", "--no-nanny",
                                   "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        out = tmp_path / "out"
        run = subprocess.Popen([sys.executable, "-m", "gaptools.cli", "run", tmp_path / "data", "--out", out,
                                "--scheduler", address, "--quiet"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def first_ok():
            try:
                schools = json.loads((out / "manifest.json").read_text())["schools"]
            except (OSError, ValueError, KeyError):
                return None
            return [s for s, m in schools.items() if m["status"] == "ok"]
        done = _wait("the first school", 180, first_ok)
        os.killpg(scheduler.pid, signal.SIGKILL)
        stdout, stderr = run.communicate(timeout=120)
    finally:
        for p in (run, worker, scheduler):
            if p is not None and p.poll() is None:
                if p is run:
                    p.kill()
                else:
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert run.returncode == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    schools = json.loads((out / "manifest.json").read_text())["schools"]
    assert all(schools[s]["status"] == "ok" for s in done)
    lost = [m for s, m in schools.items() if s not in done]
    assert lost and all(m["status"] == "failed" and "Dask scheduler stopped" in m["error"]
                        and "worker failed" not in m["error"] for m in lost), lost


def test_a_worker_lost_late_recomputes_no_finished_school(tmp_path):
    """Issue 31: a real scheduler and two workers; one worker is killed once two schools are in place. Each
    school's result is let go as soon as its folder is saved, so the scheduler computes no finished school
    again (counted from its own log of tasks started), and every school ends ok."""
    from distributed import Client

    write_trust(generate_trust(schools=4, years=1, seed=22), tmp_path / "data")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sf = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", sf], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        address = _wait("the scheduler", 60, lambda: sf.is_file() and json.loads(sf.read_text() or "{}").get("address"))
        workers = [subprocess.Popen([bin_dir / "dask", "worker", address, "--nthreads", "1", "--no-nanny",
                                     "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(2)]
        procs += workers
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            out = tmp_path / "out"
            run = subprocess.Popen([sys.executable, "-m", "gaptools.cli", "run", tmp_path / "data", "--out", out,
                                    "--scheduler", address, "--quiet"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(run)

            def two_ok():
                try:
                    schools = json.loads((out / "manifest.json").read_text())["schools"]
                except (OSError, ValueError, KeyError):
                    return None
                ok = [s for s, m in schools.items() if m["status"] == "ok"]
                return ok if len(ok) >= 2 else None
            done = _wait("two schools", 240, two_ok)
            os.killpg(workers[0].pid, signal.SIGKILL)  # a worker that ran at least one of them, or holds its data
            stdout, stderr = run.communicate(timeout=300)

            def started(dask_scheduler):  # how many times each school's task went to a worker
                counts = {}
                for key, _start, finish, *_ in dask_scheduler.transition_log:
                    if finish == "processing" and str(key).startswith("gaptools-"):
                        counts[str(key)] = counts.get(str(key), 0) + 1
                return counts
            counts = client.run_on_scheduler(started)
    finally:
        for p in procs[::-1]:
            if p.poll() is None:
                if p is procs[-1] and p.args[1:3] == ["-m", "gaptools.cli"]:
                    p.kill()
                else:
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert run.returncode == 0, stdout + stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [m["status"] for m in manifest["schools"].values()] == ["ok"] * 4
    assert len(counts) == 4, counts
    again = [k for k, n in counts.items() if n > 1 and k.split("-")[1] in done]
    assert not again, (done, counts)  # no school finished before the loss was computed again
