"""Work done once per school (issue 15): a school's notebooks share its cohort profile.

Notebook 01 shows the profile; 02 shows it and then works out the results,
which hold it; 03 finds the results (with the profile) in the cache 02 left.
The profile is worked out once for each report and never again for the results.
"""
import warnings

import pytest
from conftest import SAMPLE
from pandas.testing import assert_frame_equal

from gaptools.io.loading import load_pupils, save_validated


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pupils = load_pupils(SAMPLE)
    return save_validated(pupils, tmp_path_factory.mktemp("run") / "pupils.parquet")


def test_a_schools_notebooks_share_its_profile(validated, tmp_path):
    from gaptools.analysis.profile import cohort_profile
    from gaptools.analysis.results import analyse_school
    from gaptools.reporting.school import SchoolReport

    pupils = load_pupils(validated)
    expected = cohort_profile(pupils, school_id="900102", threshold=6)
    first = SchoolReport(str(validated), "900102", out_dir=tmp_path)
    shown = first.profile  # as notebook 02's headline, before the results
    assert first.results.profile is shown  # not worked out again for the results
    assert_frame_equal(shown, expected)
    later = SchoolReport(str(validated), "900102", out_dir=tmp_path)  # notebook 03: the results cache is there
    profile = later.profile
    assert later.results.profile is profile  # the profile came with the cached results
    assert_frame_equal(profile, expected)
    # the results are those of a plain analysis, with its own profile
    plain = analyse_school(pupils, "900102")
    for got, want in [(first.results.table, plain.table), (first.results.findings, plain.findings),
                      (first.results.gap_index, plain.gap_index), (first.results.profile, plain.profile)]:
        assert_frame_equal(got, want)


def test_a_report_without_a_cache_works_the_profile_out_itself(validated, tmp_path):
    from gaptools.analysis.profile import cohort_profile
    from gaptools.reporting.school import SchoolReport

    report = SchoolReport(str(validated), "900201", out_dir=tmp_path / "empty")
    assert_frame_equal(report.profile, cohort_profile(load_pupils(validated), school_id="900201", threshold=6))
    assert not (tmp_path / "empty").exists()  # showing the profile writes nothing
