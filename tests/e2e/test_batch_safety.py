"""`gaptools run` keeps the user's files and the pupils' data safe (issue 12), end to end.

Real runs (real kernels, real signals, a real tmpfs) on a tiny generated trust of two schools.
Runs that test the process itself (a fresh clone's relative paths, a second run while the first
holds the folder, kill -9, Ctrl-C, SIGTERM) are started as a user would: ``python -m gaptools.cli
run ...`` in a separate process. The others (what is refused before any work, resume, a full disk,
read-only folders) call the command's ``main`` in this process (``gaptools_cli``): the same code
and the same files, without a new interpreter and a new warm kernel parent for each.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, gaptools_cli, occurring, readable_text

from gaptools.io.sample import generate_trust, write_trust

SCHOOL_FILES = {"01_cohort_overview.html", "02_gap_analysis.html", "03_intervention_targeting.html",
                "results.json", "targets.csv", "targets.xlsx", "strategy.md", "notebooks/01_cohort_overview.ipynb",
                "notebooks/02_gap_analysis.ipynb", "notebooks/03_intervention_targeting.ipynb"}


def _tiny_trust(dst: Path, *, seed: int, year: int | None = None) -> pd.DataFrame:
    trust = generate_trust(schools=2, years=1, seed=seed)
    if year is not None:
        trust["year"] = year
    write_trust(trust, dst)
    return trust


def _start(args, cwd=None, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gaptools.cli", "run", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _kernels_of(runner_pid: int) -> list[int]:
    """Live kernel processes started by a run: found in the process list by their connection
    file, which lives in that run's private folder (so they are found even after the runner died)."""
    mark = f"gaptools-run-{runner_pid}-".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark in cmd and b"ipykernel" in cmd and state != "Z":
            found.append(int(entry.name))
    return found


def _warm_parents_from(clone: Path) -> list[int]:
    """Live warm kernel parents (``python -m gaptools.batch.warm_parent``) started by runs of the clone's gaptools."""
    mark = f"PYTHONPATH={clone}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"gaptools.batch.warm" in (entry / "cmdline").read_bytes() \
                    and mark in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _private_folders(runner_pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"gaptools-run-{runner_pid}-*"))


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


# --------------------------------------------------------------- a fresh clone, relative --out
@pytest.fixture(scope="module")
def clone_run(tmp_path_factory):
    """A clone-like copy of the project; `gaptools run data/tiny --out reports` in it (relative
    paths, as `make report` runs it), and a second run into the same folder started meanwhile."""
    clone = tmp_path_factory.mktemp("clone") / "gaptools"
    shutil.copytree(ROOT / "gaptools", clone / "gaptools", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "notebooks", clone / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    trust = _tiny_trust(clone / "data" / "tiny", seed=11)
    now = trust.copy()  # the pupils on roll now, named: what the targeting lists are made from
    now["year"] = now["year"] + 1
    now["pupil_id"] = [f"CUR{i:05d}" for i in range(len(now))]
    now["forename"] = [f"Fore{i:05d}" for i in range(len(now))]
    now["surname"] = [f"Sur{i:05d}" for i in range(len(now))]
    now.to_csv(clone / "data" / "current.csv", index=False)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (clone / "notebooks").iterdir())
    env = {**os.environ, "PYTHONPATH": str(clone)}  # run from the clone (python -m puts the cwd first on the path)
    first = _start(["data/tiny", "--current", "data/current.csv", "--out", "reports", "--quiet", "--workers", "2"],
                   cwd=clone, env=env)
    lock = clone / "reports" / ".gaptools" / "lock"
    _wait_for(lambda: lock.is_file() and lock.read_text().startswith("pid"), 300, "the first run's lock")
    second = subprocess.run([sys.executable, "-m", "gaptools.cli", "run", "data/tiny", "--out", "reports"],
                            cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    out, err = first.communicate(timeout=1800)
    return {"clone": clone, "trust": trust, "now": now, "notebooks_before": before,
            "first": (first.returncode, out, err), "first_pid": first.pid, "second": second}


def _in_clone(clone: Path, *args) -> subprocess.CompletedProcess:
    """``gaptools ARGS`` from the clone's folder, run in this process (``gaptools_cli``): what these
    runs test is the folder, not the process. The same code installed elsewhere (this test process's
    copy) makes the same input hash: the reference files count by content, not by where they are."""
    return gaptools_cli(*args, cwd=clone)


def test_relative_out_from_a_fresh_clone(clone_run):
    clone = clone_run["clone"]
    rc, out, err = clone_run["first"]
    assert rc == 0, out + err
    reports = clone / "reports"
    assert (reports / "index.html").is_file() and (reports / "manifest.json").is_file()
    assert (reports / "trust" / "04_trust_overview.html").is_file()
    manifest = _manifest(reports)
    assert {s: m["status"] for s, m in manifest["schools"].items()} == {"900101": "ok", "900102": "ok"}
    for sid in ("900101", "900102"):
        assert {p.relative_to(reports / sid).as_posix() for p in (reports / sid).rglob("*") if p.is_file()} \
            == SCHOOL_FILES
        assert len(pd.read_csv(reports / sid / "targets.csv"))  # the list the privacy test looks for
    # nothing written among the templates, nothing in the clone beyond reports/ and the data
    after = sorted((p.name, p.stat().st_mtime_ns) for p in (clone / "notebooks").iterdir())
    assert after == clone_run["notebooks_before"]
    assert sorted(p.name for p in clone.iterdir()) == ["data", "gaptools", "notebooks", "reports"]
    assert "Open reports/index.html" in out


def test_a_second_run_into_the_same_folder_is_refused_not_interleaved(clone_run):
    second = clone_run["second"]
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"another gaptools run is writing this folder (pid {clone_run['first_pid']}" in second.stderr
    assert "Traceback" not in second.stderr


def test_no_pupil_data_outside_each_schools_own_targeting_files(clone_run):
    reports = clone_run["clone"] / "reports"
    pupils = pd.concat([clone_run["trust"], clone_run["now"]])
    ids = {sid: set(rows["pupil_id"]) | set(rows["forename"].dropna()) | set(rows["surname"].dropna())
           for sid, rows in pupils.groupby("school_id")}
    everyone = set().union(*ids.values())
    allowed = {f"{sid}/{f}" for sid in ids for f in ("targets.csv", "targets.xlsx", "03_intervention_targeting.html",
                                                     "notebooks/03_intervention_targeting.ipynb")}
    holding = {}
    for path in reports.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(reports).as_posix()
        assert not rel.endswith((".parquet", ".pkl", ".pickle", ".tmp")), rel  # no working copies or caches
        text = readable_text(path)
        found = occurring(everyone, text)
        if found:
            holding[rel] = found
    assert holding, "the targeting lists name pupils: the search must find them"
    assert set(holding) <= allowed, sorted(set(holding) - allowed)
    for rel, found in holding.items():  # a school's own files name its own pupils only
        assert found <= ids[rel.split("/")[0]], rel
    assert sorted(os.listdir(reports / ".gaptools")) == ["lock"]
    assert not _private_folders(clone_run["first_pid"]) and not _kernels_of(clone_run["first_pid"])
    assert not _warm_parents_from(clone_run["clone"])  # the run's warm kernel parent ended with it
    manifest = json.dumps(_manifest(reports))
    assert "pupils.parquet" not in manifest and '/pupils"' not in manifest  # the run's validated copy (by school)


def test_user_files_survive_resume_and_a_schools_run(clone_run, tmp_path):
    clone = clone_run["clone"]
    out = tmp_path / "reports"
    shutil.copytree(clone / "reports", out, symlinks=True)
    (out / "900102" / "my_edits.md").write_text("our plan for Year 11")
    (out / "900102" / "notebooks" / "scratch.ipynb").write_text("{}")
    (out / "README.txt").write_text("shared with governors")
    # a foreign folder, linked in, with a results.json of another trust: never on the pages
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(out / "900101", elsewhere)
    doc = json.loads((elsewhere / "results.json").read_text())
    doc["school_name"] = "Foreign Linked School"
    (elsewhere / "results.json").write_text(json.dumps(doc))
    (out / "999999").symlink_to(elsewhere, target_is_directory=True)
    stamp = (out / "900101" / "02_gap_analysis.html").stat().st_mtime_ns
    current = ["--current", clone / "data" / "current.csv"]
    r = _in_clone(clone, "run", clone / "data" / "tiny", "--out", out, *current, "--resume", "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    resumed = _manifest(out)
    assert all(s["status"] == "ok" and s["duration_s"] == 0.0 for s in resumed["schools"].values())
    assert (out / "900101" / "02_gap_analysis.html").stat().st_mtime_ns == stamp
    # --schools: that school is rebuilt, the other (same data, complete) stays on the pages
    r = _in_clone(clone, "run", clone / "data" / "tiny", "--out", out, *current, "--schools", "900102", "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    manifest = _manifest(out)
    assert manifest["schools"]["900102"]["duration_s"] > 0 and manifest["schools"]["900101"]["duration_s"] == 0
    assert (out / "900102" / "my_edits.md").read_text() == "our plan for Year 11"
    assert (out / "900102" / "notebooks" / "scratch.ipynb").read_text() == "{}"
    assert (out / "README.txt").read_text() == "shared with governors"
    index = (out / "index.html").read_text()
    overview = (out / "trust" / "04_trust_overview.html").read_text()
    names = clone_run["trust"].groupby("school_id")["school_name"].first()
    for sid in ("900101", "900102"):
        assert f'href="{sid}/02_gap_analysis.html"' in index
        assert names[sid].replace("'", "&#39;") in overview
    assert "Foreign Linked School" not in index + overview and "999999" not in index
    assert sorted(os.listdir(elsewhere)) == sorted(os.listdir(out / "900101"))  # nothing written there
    assert "my_edits.md" not in json.dumps(manifest) and "README.txt" not in json.dumps(manifest)


def test_resume_skips_complete_unchanged_schools(clone_run, tmp_path):
    """(From test_batch.py, which made four runs of its own: the first is now the clone run, and
    "a resume with nothing changed skips every school and rewrites none" is the first step of
    test_user_files_survive_resume_and_a_schools_run.)"""
    clone = clone_run["clone"]

    def run(data, out, *, current):
        r = _in_clone(clone, "run", data, "--out", out, "--current", current, "--resume", "--quiet")
        assert r.returncode == 0, r.stdout + r.stderr
        return _manifest(out)

    data = tmp_path / "data"  # same data, other folder: the content counts, not the place
    shutil.copytree(clone / "data" / "tiny", data)
    current = clone / "data" / "current.csv"
    out = tmp_path / "reports"
    shutil.copytree(clone / "reports", out, symlinks=True)
    first = _manifest(out)
    assert all(s["status"] == "ok" and s["duration_s"] > 0 for s in first["schools"].values())
    stamp = (out / "900101" / "02_gap_analysis.html").stat().st_mtime_ns
    # an incomplete school is redone
    (out / "900102" / "targets.csv").unlink()
    third = run(data, out, current=current)
    assert third["schools"]["900102"]["duration_s"] > 0 and third["schools"]["900101"]["duration_s"] == 0.0
    assert (out / "900102" / "targets.csv").is_file()
    assert (out / "900101" / "02_gap_analysis.html").stat().st_mtime_ns == stamp
    # changed input: everything is redone (value added is relative to the whole trust)
    frame = pd.read_csv(data / "900101.csv", dtype=str, keep_default_na=False)
    value = float(frame.loc[0, "attendance_pct"])
    frame.loc[0, "attendance_pct"] = f"{value - 0.1 if value > 50 else value + 0.1:.1f}"
    frame.to_csv(data / "900101.csv", index=False)
    fourth = run(data, out, current=current)
    assert all(s["duration_s"] > 0 for s in fourth["schools"].values())
    assert first["schools"]["900101"]["outputs"] == fourth["schools"]["900101"]["outputs"]


def test_a_foreign_folder_is_refused_unless_forced(tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_text("years of work")
    r = gaptools_cli("run", ROOT / "data" / "sample", "--out", out)  # refused before any work: in this process
    assert r.returncode == 2 and "not a gaptools output" in r.stderr and "--force" in r.stderr
    assert sorted(os.listdir(out)) == ["chapter1.docx"]


# --------------------------------------------------------------- interruptions
def test_kill_9_sigint_and_sigterm_leave_nothing_behind_and_resume_completes(tmp_path):
    """Also: Tennessee-STAR-like data dated 1986 validates and runs. The SIGTERM run has warm kernels
    switched off (``GAPTOOLS_WARM_KERNELS=0``): its kernel is the runner's own child, started the usual
    way, and is stopped too; the other runs' kernels are forks of their warm parent."""
    data = tmp_path / "star"
    trust = _tiny_trust(data, seed=23, year=1986)
    r = gaptools_cli("validate", data)
    assert r.returncode == 0 and "1986" in r.stdout, r.stdout + r.stderr
    out = tmp_path / "out"
    args = [data, "--out", out, "--quiet", "--workers", "1"]

    # kill -9 once the first school is in place and the second one's kernel is running
    run = _start(args)
    first = _wait_for(lambda: (out / "manifest.json").is_file() and next(
        (s for s, m in _manifest(out)["schools"].items() if m["status"] == "ok"), None), 1200, "a finished school")
    _wait_for(lambda: _kernels_of(run.pid), 300, "the next school's kernel")
    run.send_signal(signal.SIGKILL)
    run.communicate()
    killed = run.pid
    _wait_for(lambda: not _kernels_of(killed), 30, "the orphaned kernels to exit")
    assert _private_folders(killed)  # a killed process cannot clean up: the next run does
    # damage the finished school as a crash or a user might: --resume must not take it as complete
    (out / first / "results.json").write_text('{"gaps": [')

    for sig, env in ((signal.SIGINT, None), (signal.SIGTERM, {**os.environ, "GAPTOOLS_WARM_KERNELS": "0"})):
        run = _start([*args, "--resume"], env=env)
        _wait_for(lambda run=run: _kernels_of(run.pid), 300, "a kernel")
        kernels = _kernels_of(run.pid)
        sent = time.monotonic()
        run.send_signal(sig)
        stdout, stderr = run.communicate(timeout=120)
        stopped_in = time.monotonic() - sent
        assert run.returncode == 128 + sig, stdout + stderr
        assert stopped_in < 20, stopped_in
        assert "--resume" in stderr and "Traceback" not in stderr
        assert not any(Path(f"/proc/{k}").exists() and k in _kernels_of(run.pid) for k in kernels)
        assert not _private_folders(run.pid)
        assert sorted(os.listdir(out / ".gaptools")) == ["lock"]
        manifest = _manifest(out)
        assert manifest["status"] == "interrupted"
        for _sid, s in manifest["schools"].items():  # nothing half-written presented as complete
            if s["status"] == "ok":
                assert json.loads((out / s["folder"] / "results.json").read_text())["gaps"]
    assert not _private_folders(killed)  # the run after the kill removed what it left

    r = gaptools_cli("run", *args, "--resume")  # (the signals are done with: in this process)
    assert r.returncode == 0, r.stdout + r.stderr
    manifest = _manifest(out)
    assert manifest["status"] == "complete"
    assert {s: m["status"] for s, m in manifest["schools"].items()} == {s: "ok" for s in trust["school_id"].unique()}
    for sid in manifest["schools"]:
        doc = json.loads((out / sid / "results.json").read_text())
        assert {g["year"] for g in doc["gaps"]} == {1986}
    assert sorted(os.listdir(out / ".gaptools")) == ["lock"]


# --------------------------------------------------------------- a full disk, read-only folders
def _mount(*args):
    assert os.geteuid() == 0, "this test mounts a small tmpfs and read-only binds: run it as root (CI does)"
    subprocess.run(["mount", *map(str, args)], check=True)


def test_a_full_disk_fails_clearly_and_leaves_nothing_half_written(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    _mount("-t", "tmpfs", "-o", "size=400k", "tmpfs", small)  # room for the manifest, not for a school
    try:
        data = tmp_path / "data"
        trust = _tiny_trust(data, seed=5)
        out = small / "reports"
        r = gaptools_cli("run", data, "--out", out, "--quiet", "--workers", "1")
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        schools = sorted(trust["school_id"].unique())
        for sid in schools:  # one clear line per school, saying what happened
            lines = [ln for ln in r.stderr.splitlines() if ln.startswith(f"  failed {sid}:")]
            assert len(lines) == 1 and "No space left on device" in lines[0], r.stderr
        manifest = _manifest(out)
        assert {s: m["status"] for s, m in manifest["schools"].items()} == {s: "failed" for s in schools}
        assert manifest["trust"]["status"] == "skipped"
        # true to disk: no school folder, no stage, no temporary file; the index says what failed
        on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
        assert on_disk == [".gaptools", ".gaptools/lock", "index.html", "manifest.json"], on_disk
        assert sorted(manifest["files"]) == ["index.html"]
        assert "No space left on device" in (out / "index.html").read_text()
    finally:
        subprocess.run(["umount", small], check=True)


def test_an_unwritable_school_folder_or_output_folder_fails_clearly(clone_run, tmp_path):
    clone = clone_run["clone"]
    out = tmp_path / "reports"
    shutil.copytree(clone / "reports", out)
    before = {p.name: p.read_bytes() for p in (out / "900101").iterdir() if p.is_file()}
    cmd = ["run", clone / "data" / "tiny", "--out", out, "--quiet", "--current", clone / "data" / "current.csv"]
    _mount("--bind", out / "900101", out / "900101")
    try:
        _mount("-o", "remount,ro,bind", out / "900101")
        r = _in_clone(clone, *cmd, "--schools", "900101")
    finally:
        subprocess.run(["umount", out / "900101"], check=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    failed = [ln for ln in r.stderr.splitlines() if ln.startswith("  failed ")]
    assert len(failed) == 1 and failed[0].startswith("  failed 900101: could not write") \
        and str(out / "900101") in failed[0], r.stderr
    manifest = _manifest(out)
    assert manifest["schools"]["900101"]["status"] == "failed"
    assert manifest["schools"]["900102"]["status"] == "ok"  # complete, same data: kept and listed
    index = (out / "index.html").read_text()
    assert 'href="900102/02_gap_analysis.html"' in index and 'href="900101/02_gap_analysis.html"' not in index
    assert {p.name: p.read_bytes() for p in (out / "900101").iterdir() if p.is_file()} == before
    assert sorted(os.listdir(out / ".gaptools")) == ["lock"]
    assert not [p for p in out.rglob("*.tmp")]

    # the whole output folder read-only: one clear message, exit 1, nothing changed
    snapshot = sorted((p.relative_to(out).as_posix(), p.stat().st_mtime_ns) for p in out.rglob("*"))
    _mount("--bind", out, out)
    try:
        _mount("-o", "remount,ro,bind", out)
        r = _in_clone(clone, *cmd)
    finally:
        subprocess.run(["umount", out], check=True)
    assert r.returncode == 1 and "Read-only file system" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1
    assert sorted((p.relative_to(out).as_posix(), p.stat().st_mtime_ns) for p in out.rglob("*")) == snapshot


# --------------------------------------------------------------- the command line
def test_misuse_is_refused_before_any_work(tmp_path):
    def refused(*args):  # in this process (gaptools_cli): an exception escaping main fails the test
        r = gaptools_cli("run", *args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stdout + r.stderr
        return r.stderr

    sample = ROOT / "data" / "sample"
    out = tmp_path / "o"
    err = refused(sample, "--out", out, "--schools", "900101,90012")
    assert f"school id '90012' is not in {sample}" in err and "900102" in err.split("closest ids")[1]
    (tmp_path / "file.txt").write_text("x")
    assert "is a file" in refused(sample, "--out", tmp_path / "file.txt")
    assert "not a Dask scheduler address" in refused(sample, "--out", out, "--scheduler", "tcp://127.0.0.1:99999")
    start = time.monotonic()
    assert "cannot reach the Dask scheduler" in refused(sample, "--out", out, "--scheduler", "tcp://127.0.0.1:9")
    assert time.monotonic() - start < 20
    assert "at least 2" in refused(sample, "--out", out, "--threshold", "1")
    assert "from 1900" in refused(sample, "--out", out, "--year", "1850")
    assert "has no results for 2019 (years: 2023, 2024, 2025)" in refused(sample, "--out", out, "--year", "2019")
    assert not out.exists()  # refused before any work: not even the folder


def test_help_gives_an_example_for_every_argument(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps the help to the terminal's width
    r = gaptools_cli("run", "--help")
    assert r.returncode == 0
    text = r.stdout.split("examples:")[0]
    blocks, current = {}, None
    for line in text.splitlines():  # each argument's block: its line in the listing and the lines under it
        head = line[2:].split(" ")[0] if line.startswith("  ") and not line.startswith("   ") else None
        if head:
            current = head
            blocks[current] = line
        elif current and line.startswith("   "):
            blocks[current] += " " + line.strip()
        else:
            current = None
    wanted = {"data", "--out", "--mapping", "--current", "--schools", "--workers", "--scheduler", "--threshold",
              "--year", "--resume", "--force", "--quiet", "--published"}
    assert wanted <= {b.split(",")[0] for b in blocks}, blocks.keys()
    for name, block in blocks.items():
        if name not in ("-h,",):
            assert "e.g." in block, block
    assert "gaptools run data/sample --out reports" in r.stdout


def test_an_out_folder_inside_the_current_folder_does_not_change_the_inputs(tmp_path):
    """Issue 30 (minor): with --out inside the --current folder, the run's own pages were hashed as input, so
    --resume rebuilt every school; files under the output folder are not inputs."""
    import pandas as pd

    from gaptools.batch.inputs import hash_inputs
    from gaptools.batch.school import NOTEBOOK_DIR

    pupils = pd.DataFrame({"school_id": ["A"], "pupil_id": ["p"], "year": [2025]})
    current = tmp_path / "current"
    (current / "reports").mkdir(parents=True)
    (current / "now.csv").write_text("school_id,pupil_id\nA,p\n")
    before = hash_inputs(pupils, 6, None, NOTEBOOK_DIR, current, skip=current / "reports")
    (current / "reports" / "index.html").write_text("a page of the run")
    assert hash_inputs(pupils, 6, None, NOTEBOOK_DIR, current, skip=current / "reports") == before
    (current / "now.csv").write_text("school_id,pupil_id\nA,q\n")
    assert hash_inputs(pupils, 6, None, NOTEBOOK_DIR, current, skip=current / "reports") != before
