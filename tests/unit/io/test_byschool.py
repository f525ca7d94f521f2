"""A run's validated table by school: each school's rows alone, with the trust's context, give every figure
the whole table gives (issue 31: flat cost a school)."""
import json
import warnings

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy.stats import rankdata

import gaptools
from gaptools.analysis.analyse import analyse
from gaptools.analysis.gapindex import gap_index
from gaptools.analysis.progress import value_added
from gaptools.analysis.trustwide import trust_context
from gaptools.domain.progress8 import p8_group
from gaptools.domain.reference import p8_estimates
from gaptools.errors import GaptoolsWarning, UnknownSchoolError
from gaptools.io.byschool import ATTR, read_school, save_by_school, school_file
from gaptools.io.sample import generate_trust


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    """A generated trust of 8 schools (the planted six and two more), validated, and saved by school."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = gaptools.load_pupils(generate_trust(schools=8, years=2, seed=11))
    folder = save_by_school(whole, tmp_path_factory.mktemp("run") / "pupils", *trust_context(whole))
    return whole, folder


def _schools(whole):
    return sorted(whole["school_id"].unique())


def test_a_school_read_is_exactly_its_rows_and_its_file_holds_no_other(trust):
    whole, folder = trust
    for sid in _schools(whole):
        rows = read_school(folder, sid)
        expected = whole[whole["school_id"] == sid].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, expected)  # every column, type and value; nothing else
        assert rows.attrs["gaptools_measures"] == whole.attrs["gaptools_measures"] and "gaptools_sources" in rows.attrs
        on_disk = pq.read_table(folder / school_file(sid), columns=["school_id"]).column(0).to_pylist()
        assert on_disk == [sid] * len(expected)  # the file itself holds this school's rows alone
    with pytest.raises(UnknownSchoolError, match="closest ids"):
        read_school(folder, "no-such-school")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = gaptools.load_pupils(folder)  # the whole table, school after school, no context
    assert ATTR not in back.attrs
    assert all(back.attrs[k] == whole.attrs[k] for k in ("gaptools_warnings", "gaptools_sources", "gaptools_measures"))
    pd.testing.assert_frame_equal(back.sort_values(["school_id", "key_stage", "year", "pupil_id"])
                                  .reset_index(drop=True),
                                  whole.sort_values(["school_id", "key_stage", "year", "pupil_id"])
                                  .reset_index(drop=True))


def test_value_added_and_index_of_a_school_read_alone_are_the_trusts_worked_out_by_hand(trust):
    whole, folder = trust
    sid = _schools(whole)[0]
    rows = read_school(folder, sid)
    # value added by hand: the pupil's grade minus the trust's mean grade of its key stage, year and DfE group
    ks4 = whole[whole["key_stage"] == "KS4"].copy()
    ks4["group"] = p8_group(ks4["prior_attainment"], p8_estimates(None)[1])
    y = ks4["grade_maths"].astype("float64")
    expected = (y - y.groupby([ks4["year"], ks4["group"]]).transform("mean"))[ks4["school_id"] == sid]
    got = value_added(rows)["va_grade_maths"][(rows["key_stage"] == "KS4").to_numpy()]
    assert len(got) == len(expected) > 20
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)
    # the gap index by hand: each pupil's average rank among the trust's pupils of that cohort, over N
    ks, year = "KS4", int(rows.loc[rows["key_stage"] == "KS4", "year"].max())
    cohort = whole[(whole["key_stage"] == ks) & (whole["year"] == year)]
    score = (cohort["grade_english"].astype("float64") + cohort["grade_maths"].astype("float64")) / 2
    ok = score.notna().to_numpy()
    pr = rankdata(score[ok]) / ok.sum()
    mine = (cohort["school_id"] == sid).to_numpy()[ok]
    dis = cohort["disadvantaged"].astype(bool).to_numpy()[ok]
    by_hand = 20 * (pr[mine & ~dis].mean() - pr[mine & dis].mean())
    row = gap_index(rows).query("key_stage == @ks and year == @year").iloc[0]
    assert row["reference"] == "trust" and not row["suppressed"]
    assert row["value"] == pytest.approx(by_hand, abs=1e-12)
    # and without the context (the same rows, as if from anywhere else) they are the school's own
    alone = rows.copy()
    del alone.attrs[ATTR]
    assert gap_index(alone).query("key_stage == @ks and year == @year").iloc[0]["reference"] == "school"


def test_analyse_of_a_school_read_alone_equals_analyse_of_the_whole_table(trust):
    whole, folder = trust
    schools = _schools(whole)
    for sid, year in ((schools[0], None), (schools[-1], None), (schools[3], 2023)):  # both key stages
        a, b = analyse(whole, sid, year=year), analyse(read_school(folder, sid), sid, year=year)
        for part in ("gaps", "gap_index", "profile", "trends", "findings"):
            pd.testing.assert_frame_equal(getattr(a, part).reset_index(drop=True),
                                          getattr(b, part).reset_index(drop=True), obj=f"{sid} {part}")


def test_a_trust_whose_other_schools_have_no_results_yet_ranks_within_the_school(trust, tmp_path):
    whole, _ = trust
    first, other = _schools(whole)[:2]
    late = whole[(whole["school_id"] == first) | ((whole["school_id"] == other) & (whole["year"] == 2024))]
    late = late.reset_index(drop=True)
    late.attrs = whole.attrs
    folder = save_by_school(late, tmp_path / "pupils", *trust_context(late))
    a, b = analyse(late, first, year=2023), analyse(read_school(folder, first), first, year=2023)
    assert set(a.gap_index["reference"]) == {"school"}  # in 2023 the trust was this school alone
    pd.testing.assert_frame_equal(a.gap_index, b.gap_index)
    assert set(analyse(read_school(folder, first), first).gap_index["reference"]) == {"trust"}


def test_rows_changed_since_they_were_read_are_not_given_the_trusts_context(trust):
    whole, folder = trust
    rows = read_school(folder, _schools(whole)[0])
    changed = rows.copy()
    changed.loc[changed.index[0], "grade_maths"] = 1 if changed["grade_maths"].iloc[0] != 1 else 2
    alone = changed.copy()
    del alone.attrs[ATTR]
    with pytest.warns(GaptoolsWarning, match="worked out within these rows alone"):
        got = value_added(changed)
    pd.testing.assert_frame_equal(got, value_added(alone))


def test_dask_workers_read_the_folder_where_they_see_it_else_get_their_schools_bytes_alone(trust):
    from gaptools.batch.dispatch import school_data
    from gaptools.batch.school import SchoolJob

    whole, folder = trust
    jobs = [SchoolJob(sid, sid, sid, str(folder), "stage") for sid in _schools(whole)[:3]]
    token = json.loads((folder / "by-school.json").read_text())["token"]

    class Client:
        def __init__(self, seen):
            self.seen = seen

        def run(self, fn, path):
            return {w: (fn(path) if t is None else t) for w, t in self.seen.items()}

    assert school_data(Client({"w1": None, "w2": None}), folder, jobs) == [None] * 3  # both see it
    sent = school_data(Client({"w1": None, "w2": "another run's"}), folder, jobs)
    assert token and [len(b) for b in sent] == [(folder / school_file(j.school_id)).stat().st_size for j in jobs]
    for job, data in zip(jobs, sent):
        copy = folder.parent / "copy.parquet"
        copy.write_bytes(data)
        pd.testing.assert_frame_equal(read_school(copy, job.school_id), read_school(folder, job.school_id))


def test_load_school_reads_a_school_alone_from_a_run_s_table_and_the_whole_table_otherwise(tmp_path, sample_pupils):
    """``gt.load_school`` (the notebooks' first call): from a run's table by school, the school's rows and
    the trust's context; from any other data, the whole table; an unknown school in a run's table is named."""
    from conftest import SAMPLE

    folder = save_by_school(sample_pupils, tmp_path / "by-school", *trust_context(sample_pupils))
    rows = gaptools.load_school(folder, "900101")
    assert set(rows["school_id"]) == {"900101"} and ATTR in rows.attrs
    assert len(rows) == int((sample_pupils["school_id"] == "900101").sum())
    whole = gaptools.load_school(SAMPLE, "900101")
    assert len(whole) == len(sample_pupils) and ATTR not in whole.attrs
    with pytest.raises(gaptools.UnknownSchoolError):
        gaptools.load_school(folder, "900199")
