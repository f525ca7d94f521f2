"""Issue 31: `gaptools run` says how far it has gone, and how long is left, in every long phase: while the
data is validated (files read, then columns and checks), while the schools run (dispatch's bar) and while
the trust overview is drawn (its cells, then the page and table written); manifest.json records each
phase's seconds."""
import re
import warnings

import nbformat

from gaptools.io import progress

HEADER = "school_id,year,key_stage,pupil_id,disadvantaged,attainment8\n"


def rows(school: str, n: int, start: int = 0) -> str:
    return "".join(f"{school},2025,KS4,P{school}{i:04d},{'yes' if i % 3 == 0 else 'no'},{30 + i % 40}\n"
                   for i in range(start, start + n))


def final_counts(err: str, desc: str) -> list[str]:
    """Every 'n/total' a bar named ``desc`` showed (tqdm rewrites its line with carriage returns)."""
    return re.findall(re.escape(desc) + r":\s+\d+%\|[^|]*\|\s*(\d+/\d+)", err)


def starts(err: str, desc: str) -> int:
    """How many bars named ``desc`` were started (each shows 0 done first)."""
    return len(re.findall(re.escape(desc) + r":\s+0%\|[^|]*\|\s*0/", err))


def load(data):
    from gaptools.io.loading import load_pupils

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_pupils(data)


def test_validation_shows_files_read_then_columns_checked_only_when_asked(tmp_path, capsys):
    for school in ("100001", "100002", "100003"):
        (tmp_path / f"{school}.csv").write_text(HEADER + rows(school, 12))
    load(tmp_path)  # a library call (a notebook's load_pupils): no bar
    assert capsys.readouterr().err == ""
    with progress.shown():
        pupils = load(tmp_path)
    err = capsys.readouterr().err
    assert len(pupils) == 36
    # three files; then each column of the table read (the file's six, and where each row came from: file
    # and line) and the four checks of the whole table
    assert final_counts(err, "validating: reading")[-1] == "3/3"
    columns = len(HEADER.split(",")) + 2
    assert final_counts(err, "validating: checking the columns")[-1] == f"{columns + 4}/{columns + 4}"
    with progress.shown(False):  # (and switched off inside a block that shows them)
        with progress.shown(False):
            load(tmp_path)
    assert capsys.readouterr().err == ""


def test_setting_aside_an_invalid_school_counts_files_once(tmp_path, capsys):
    from gaptools.batch.validate import validate_by_school

    (tmp_path / "100001.csv").write_text(HEADER + rows("100001", 10))
    (tmp_path / "100002.csv").write_text(HEADER + rows("100002", 10).replace(",31\n", ",lots\n"))
    with progress.shown():
        pupils, failures = validate_by_school(tmp_path)
    err = capsys.readouterr().err
    assert list(failures) == ["100002"] and set(pupils["school_id"]) == {"100001"}
    assert final_counts(err, "validating: reading")[-1] == "2/2"  # the first look at the whole folder
    assert final_counts(err, "validating: setting aside the invalid schools")[-1] == "2/2"
    # each file read again alone shows no bar of its own
    assert starts(err, "validating: reading") == 1 and starts(err, "validating: checking the columns") == 1


def test_a_notebook_run_with_progress_counts_its_cells(tmp_path, capsys, monkeypatch):
    """The trust overview's bar: papermill's, named, on stderr, one step a cell (markdown included)."""
    from gaptools.batch.kernels import execute_notebook

    monkeypatch.setenv("GAPTOOLS_WARM_KERNELS", "0")  # a plain kernel: no warm parent started for one notebook
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("A section"),
                                         nbformat.v4.new_code_cell("x = 6 * 7"),
                                         nbformat.v4.new_code_cell("print(x)")])
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    ran = execute_notebook(tmp_path / "tiny.ipynb", tmp_path / "ran.ipynb", {}, cwd=str(tmp_path), timeout=60,
                           retries=1, runtime=str(tmp_path), progress="trust overview")
    assert ran.cells[2].outputs[0]["text"] == "42\n"
    assert final_counts(capsys.readouterr().err, "trust overview")[-1] == "3/3"
    execute_notebook(tmp_path / "tiny.ipynb", tmp_path / "again.ipynb", {}, cwd=str(tmp_path), timeout=60,
                     retries=1, runtime=str(tmp_path))  # a school's notebook: none
    assert "trust overview" not in capsys.readouterr().err


def test_the_manifest_records_each_phase(sample_run):
    """Validation, schools, overview and index, in seconds: together no longer than the run, the overview
    at least as long as the trust page it made (timed on its own inside that phase)."""
    _, manifest = sample_run
    phases = manifest["phases_s"]
    assert list(phases) == ["validation", "schools", "overview", "index"]
    assert all(isinstance(s, float | int) and s >= 0 for s in phases.values())
    assert phases["schools"] > 0 and phases["validation"] > 0
    assert sum(phases.values()) <= manifest["duration_s"] + 0.05  # (each rounded to 0.01 s)
    assert phases["overview"] >= manifest["trust"]["duration_s"] - 0.01


def test_the_index_counts_the_schools_it_lists(tmp_path, capsys):
    from gaptools.batch.index import render_index

    manifest = {"generated": "2026-12-07T06:00:00+00:00", "suppression_threshold": 6, "governors": [],
                "trust": {"status": "skipped", "error": "no school succeeded", "outputs": []},
                "schools": {sid: {"status": "failed", "school_name": f"School {sid}", "folder": sid,
                                  "error": "invalid data", "outputs": []} for sid in ("1", "2", "3", "4")}}
    render_index(tmp_path, manifest)
    assert capsys.readouterr().err == ""  # not asked for
    with progress.shown():
        page = render_index(tmp_path, manifest)
    assert page.count("invalid data") == 4
    assert final_counts(capsys.readouterr().err, "index")[-1] == "4/4"
