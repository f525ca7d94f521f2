"""Loading the assessments (data drops): located problems, mappings, text kept as text, hostile text."""
import json
import warnings

import pandas as pd
import pytest
from conftest import SAMPLE, SAMPLE_YEAR

from gaptools import DataValidationError, load_assessments
from gaptools.io.assessments import read_pupil_list

HEADER = "school_id,pupil_id,year_group,subject,drop,drop_date,score,disadvantaged,teaching_group\n"


def _write(tmp_path, text, name="drops.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_is_located(tmp_path):
    path = _write(tmp_path, HEADER
                  + "100001,P1,10,English,Autumn,2025-10-15,EXS,yes,10E3\n"
                  + "100001,P2,Year 10,English,Autumn,15/10/2025,4,maybe,10E3\n"
                  + "100001,P3,10,English,Autumn,not a date,4,no,10E3\n"
                  + "100001,P3,10,English,Autumn,2025-10-15,5,no,10E3\n"
                  + ",P4,99,English,Autumn,2025-10-15,5,no,10E3\n")
    with pytest.raises(DataValidationError) as err:
        load_assessments(path)
    found = {(p.line, p.column): p for p in err.value.problems}
    assert found[(2, "score")].value == "EXS" and "values:" in found[(2, "score")].message
    assert found[(3, "disadvantaged")].value == "maybe"
    assert found[(4, "drop_date")].value == "not a date"
    assert "is required" in found[(6, "school_id")].message
    assert found[(6, "year_group")].message == "must be between 0 and 14"
    assert all(p.file == str(path) for p in err.value.problems)
    assert str(err.value).startswith("5 problems found in the data drops:")


def test_a_pupil_twice_in_one_drop_names_both_lines(tmp_path):
    path = _write(tmp_path, HEADER + "1,P1,10,English,Autumn,2025-10-15,4,yes,A\n"
                  + "1,P2,10,English,Autumn,2025-10-15,4,yes,A\n" + "1,P1,10,English,Autumn,2025-10-15,5,yes,A\n")
    with pytest.raises(DataValidationError) as err:
        load_assessments(path)
    lines = sorted(p.line for p in err.value.problems)
    assert lines == [2, 4] and "also at" in err.value.problems[0].message


def test_a_mapping_reads_an_mis_export_with_a_letter_scale(tmp_path):
    path = _write(tmp_path, "URN,UPN,NC Year,Subject,Data drop,Date,Working at,PP,Class\n"
                  + "100001,P1,Y6,Reading,Spring,2026-03-01,GDS,Y,6A\n"
                  + "100001,P2,Year 6,Reading,Spring,2026-03-01,exs,N,7\n"
                  + "100001,P3,6,Reading,Spring,2026-03-01,WTS,N,0010\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  school_id: URN\n  pupil_id: UPN\n  year_group: NC Year\n  subject: Subject\n"
                       "  drop: Data drop\n  drop_date: Date\n  score: Working at\n  disadvantaged: PP\n"
                       "  teaching_group: Class\nvalues:\n  score: {WTS: '1', EXS: '2', GDS: '3'}\n")
    a = load_assessments(path, mapping)
    assert a["score"].tolist() == [3.0, 2.0, 1.0]
    assert a["year_group"].tolist() == [6, 6, 6]
    # a group is text as written: "7" and "0010" are groups, never numbers
    assert a["teaching_group"].tolist() == ["6A", "7", "0010"]
    assert str(a["teaching_group"].dtype) == "string"


def test_a_mapping_for_the_pupil_table_is_refused_with_its_line(tmp_path):
    path = _write(tmp_path, HEADER + "1,P1,10,English,Autumn,2025-10-15,4,yes,A\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("constants:\n  key_stage: KS4\n")
    with pytest.raises(DataValidationError) as err:
        load_assessments(path, mapping)
    assert err.value.problems[0].line == 2 and "not a gaptools column" in err.value.problems[0].message


def test_not_an_assessments_table(tmp_path):
    with pytest.raises(DataValidationError) as err:
        load_assessments(SAMPLE / "900101.csv")
    assert any("required column 'subject' is missing" in p.message for p in err.value.problems)


def test_the_sample_year_is_consistent_with_the_sample_trust():
    from gaptools.io.sample_year import generate_assessments

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = load_assessments(SAMPLE_YEAR / "assessments.csv")
    schools = {p.stem for p in SAMPLE.glob("*.csv")}
    assert set(a["school_id"]) == schools
    from gaptools.domain.upn import is_valid_upn

    assert all(is_valid_upn(u) for u in a["pupil_id"].unique())
    # made by the generator, byte for byte
    assert generate_assessments().to_csv(index=False, lineterminator="\n") == \
        (SAMPLE_YEAR / "assessments.csv").read_text(encoding="utf-8")


def test_hostile_text_is_escaped_on_the_page_and_kept_out_of_the_terminal(tmp_path):
    from gaptools.reporting.in_year import InYearReport

    rows = []
    for k, date in enumerate(["2025-10-01", "2026-01-10"]):
        for i in range(24):
            rows.append({"school_id": "1", "pupil_id": f"P{i}", "year_group": 10, "subject": "<img src=x>*Eng*",
                         "drop": "Autumn", "drop_date": date, "score": i % 7 + k, "disadvantaged": i % 3 == 0,
                         "teaching_group": "<script>alert(1)</script>"})
    frame = pd.DataFrame(rows)
    frame["drop"] = ["Autumn" if d == "2025-10-01" else "=Spring" for d in frame["drop_date"]]
    report = InYearReport(load_assessments(frame), "1", school_name="<b>School</b>")
    html = report.teaching_groups()._repr_html_()  # (the year groups' table is the same function's)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    md = report.headline().data
    assert "<img" not in md and "&lt;img" in md and "<b>" not in md
    out = tmp_path / "results.json"
    out.write_text(json.dumps({"schema_version": 2, "gaps": []}))
    report.out_dir = tmp_path
    report.write_outputs()
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 2 and doc["gaps"] == [] and len(doc["in_year"]) == len(report.table)


def test_a_pupil_list_is_read_from_targets_csv(tmp_path):
    path = _write(tmp_path, "Rank,UPN,Need score,Reasons\n1,'-X12,4,a\n2,A123,3,b\n", "targets.csv")
    assert read_pupil_list(path) == ["-X12", "A123"]
    with pytest.raises(DataValidationError):
        read_pupil_list(_write(tmp_path, "Rank,Name\n1,A\n", "other.csv"))
