"""A run's current pupils and data drops laid out by school: a school's file holds its rows alone, read back
as they passed validation, and its pages' figures equal those read from the whole file."""
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE, SAMPLE_YEAR

import gaptools
from gaptools.analysis.profile import cohort_profile
from gaptools.batch.dispatch import school_inputs
from gaptools.batch.in_year import in_year_job
from gaptools.batch.inputs import inputs_by_school
from gaptools.batch.school import SchoolJob
from gaptools.errors import DataValidationError, GaptoolsWarning
from gaptools.io.byschool_inputs import (
    ASSESSMENTS_KEY,
    read_validated_assessments,
    save_assessments_by_school,
    save_current_by_school,
)
from gaptools.reporting.in_year import InYearReport
from gaptools.targeting.pupils import target_pupils


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def current_csv(tmp_path_factory):
    """Pupils on roll now at two schools: each one's latest KS4/KS2 cohort re-issued with new, named ids."""
    parts = []
    for school in ("900101", "900201"):
        past = pd.read_csv(SAMPLE / f"{school}.csv", dtype=str)
        now = past[past.year == past.year.max()].copy()
        now["year"] = str(int(now.year.iloc[0]) + 1)
        now["pupil_id"] = [f"C{school}-{i:04d}" for i in range(len(now))]
        now["forename"], now["surname"] = "Fore", [f"Sur{i}" for i in range(len(now))]
        parts.append(now)
    path = tmp_path_factory.mktemp("current") / "current.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def test_current_by_school_holds_each_schools_rows_alone(tmp_path, current_csv):
    whole = _quiet(gaptools.load_pupils, current_csv, current=True)
    files = save_current_by_school(whole, tmp_path, ["900101", "900201", "900102"])
    for sid in ("900101", "900201", "900102"):
        mine = gaptools.load_pupils(files[sid])  # read back as it is: no warning, no validation again
        expected = whole[whole["school_id"] == sid].reset_index(drop=True)
        assert len(mine) == (sid != "900102") * len(pd.read_csv(current_csv, dtype=str).query("school_id == @sid"))
        pd.testing.assert_frame_equal(mine, expected)  # names and all (the file is private to the run)
    # the pupil list and the current profile (what pages 01 and 03 show of it) are those of the whole file
    mine = gaptools.load_pupils(files["900101"])
    pd.testing.assert_frame_equal(target_pupils(mine, "900101"), target_pupils(whole, "900101"))
    pd.testing.assert_frame_equal(cohort_profile(mine, school_id="900101", gaps=False),
                                  cohort_profile(whole, school_id="900101", gaps=False))
    assert target_pupils(mine, "900101")["pupil_id"].str.startswith("C900101-").all()
    assert len(target_pupils(mine, "900101")) > 0

def test_assessments_by_school_read_back_and_give_the_same_page(tmp_path):
    whole = _quiet(gaptools.load_assessments, SAMPLE_YEAR / "assessments.csv")
    schools = list(dict.fromkeys(whole["school_id"])) + ["no-drops"]
    files = save_assessments_by_school(whole, tmp_path, schools)
    for sid in schools:
        assert read_validated_assessments(files[sid]) is not None
        mine = gaptools.load_assessments(files[sid])
        pd.testing.assert_frame_equal(mine, whole[whole["school_id"] == sid].reset_index(drop=True))
    sid = schools[0]
    pd.testing.assert_frame_equal(InYearReport(files[sid], sid).table, InYearReport(whole, sid).table)
    assert InYearReport(files["no-drops"], "no-drops").assessments.empty
    # the metadata is only a claim: a file with a pupil's two scores for one drop is validated in full
    table = pq.read_table(files[sid])
    forged = pa.concat_tables([table, table.slice(0, 1)])
    pq.write_table(forged, tmp_path / "forged.parquet")
    assert ASSESSMENTS_KEY in pq.read_schema(tmp_path / "forged.parquet").metadata
    assert read_validated_assessments(tmp_path / "forged.parquet") is None
    with pytest.raises(DataValidationError, match="two scores"):
        gaptools.load_assessments(tmp_path / "forged.parquet")


def test_each_school_job_gets_its_own_files(tmp_path, current_csv):
    current = _quiet(gaptools.load_pupils, current_csv, current=True)
    drops = _quiet(gaptools.load_assessments, SAMPLE_YEAR / "assessments.csv")
    own = inputs_by_school(tmp_path, ["900101", "900201"], current, drops)
    assert set(own) == {"900101", "900201"}
    for sid, files in own.items():
        assert set(gaptools.load_pupils(files["current"])["school_id"]) == {sid}
        assert set(gaptools.load_assessments(files["assessments"])["school_id"]) <= {sid}
        fields = in_year_job((SAMPLE_YEAR / "assessments.csv", None), tmp_path / "nowhere", files["assessments"])
        assert fields["assessments"] == files["assessments"] and fields["assessments_mapping"] is None
    # a Dask worker sent its school's rows is sent its own files too; one that sees the folder, nothing
    jobs = [SchoolJob(sid, sid, sid, "data", "stage", current=f["current"], assessments=f["assessments"])
            for sid, f in own.items()]
    sent = school_inputs([None, b"rows"], jobs)
    assert sent[0] is None
    assert sent[1] == {"current": open(own["900201"]["current"], "rb").read(),
                       "assessments": open(own["900201"]["assessments"], "rb").read()}
