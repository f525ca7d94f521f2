"""The run's private working folder survives its neighbours, and is never silently somewhere else."""
import fcntl
import os
import subprocess
import sys

from conftest import SAMPLE, gaptools_cli

from gaptools.batch.workspace import ALIVE, PREFIX, private_folder, remove_orphans


def _dead_pid() -> int:
    """A process id no process has now (as a live run's id looks from another PID namespace)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_only_folders_whose_run_is_provably_gone_are_swept(tmp_path):
    """Issue 30: a live run in another PID namespace (its id unseen here) holds its folder's lock and
    keeps its folder; a folder whose lock nobody holds goes; a lock-less folder of a dead id goes only
    when it is old (it may be a run that has not taken its lock yet)."""
    live, dead, fresh, old = (tmp_path / f"{PREFIX}{_dead_pid()}-{name}" for name in ("live", "dead", "fresh", "old"))
    for folder in (live, dead, fresh, old):
        folder.mkdir(mode=0o700)
    for folder in (live, dead):
        (folder / ALIVE).touch()
    holder = os.open(live / ALIVE, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # the neighbour's run, alive
    os.utime(old, (0, 0))
    try:
        removed = remove_orphans(tmp_path)
    finally:
        os.close(holder)
    assert sorted(removed) == sorted([dead, old])
    assert live.is_dir() and fresh.is_dir()


def test_a_running_folder_is_locked_and_removed_after(tmp_path):
    with private_folder(tmp_path) as path:
        assert oct(path.stat().st_mode & 0o777) == "0o700"
        assert remove_orphans(tmp_path) == []  # our own live folder is never an orphan
    assert not path.exists()


def test_an_unwritable_tmpdir_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("TMPDIR", str(missing))
    r = gaptools_cli("run", SAMPLE, "--out", tmp_path / "out", "--schools", "900101")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "TMPDIR" in r.stderr and str(missing) in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out" / "900101").exists()
