"""DfE performance tables as published: figures checked by hand against the real files."""
import csv
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from conftest import PUBLISHED as KS2
from conftest import ROOT

from gaptools.reporting import published as pub


@pytest.fixture(scope="module")
def table():
    return pub.read_performance_tables(KS2)


def cell(t, urn, year, measure, group):
    r = t[(t.urn == urn) & (t.year == year) & (t.measure == measure) & (t.group == group)]
    assert len(r) == 1
    return r.iloc[0]


def test_all_three_years_and_both_las(table):
    assert sorted(table.year.unique()) == [2017, 2018, 2019]
    assert set(table[table.level == "local authority"].la) == {"850", "936"}
    assert table.key_stage.unique().tolist() == ["KS2"]


def test_anstey_junior_2018_19(table):
    # URN 115851, 2018/19: RWM expected 61% disadvantaged vs 64% others; reading progress -1.1 (-4 to 1.7)
    assert cell(table, "115851", 2019, "PTRWM_EXP", "disadvantaged").value == 61
    assert cell(table, "115851", 2019, "PTRWM_EXP", "other").value == 64
    rp = cell(table, "115851", 2019, "READPROG", "disadvantaged")
    assert (rp.value, rp.lower, rp.upper) == (-1.1, -4.0, 1.7)
    assert cell(table, "115851", 2019, "pupils", "disadvantaged").value == 18


def test_national_rwm_2018_19(table):
    nat = pub.national_figures(table).set_index("year")
    assert (nat.loc[2019, "disadvantaged"], nat.loc[2019, "other"]) == (51, 71)
    from gaptools.domain.reference import national_figures
    ours = national_figures().query("key_stage == 'KS2' and year == 2019 and measure == 'rwm_expected'")
    assert dict(zip(ours.group, ours.value)) == {"disadvantaged": 0.51, "other": 0.71}


def _raw_withheld(path):
    """Count withheld cells in the columns gaptools reads, with the csv module."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    keep = [i for i, h in enumerate(head) if (re.search(r"_(Not|N)?FSM6CLA1A$", h) or h in pub.COUNT_COLUMNS
                                              or (h + "_FSM6CLA1A") in head)]
    counts = Counter()
    for row in rows[1:]:
        for i in keep:
            if i >= len(row):
                counts["missing (short row)"] += 1
                continue
            v = row[i].strip().upper()
            if v in pub.WITHHELD_CODES:
                counts[v or "blank"] += 1
    return counts


def test_withheld_cells_by_reason_kept_not_zero(table):
    got = pub.withheld_counts(table)
    for year in (2017, 2018, 2019):
        expected = Counter()
        for f in KS2.glob(f"{year - 1}-*-ks2.csv"):
            expected += _raw_withheld(f)
        mine = dict(zip(got[got.year == year].status, got[got.year == year].cells))
        assert mine == dict(expected), year
    withheld = table[table.status != "ok"]
    assert withheld.value.isna().all()
    assert (table[table.status == "SUPP"].value.isna()).all() and len(table[table.status == "SUPP"]) > 6000


def test_benchmarks_for_a_school(table):
    b = pub.benchmarks(table, ["115851"]).set_index("year")
    assert b.loc[2019, "disadvantaged"] == 61 and b.loc[2019, "national_other"] == 71
    assert b.loc[2019, "gap_national"] == 10
    hants = table[(table.level == "local authority") & (table.la == "850") & (table.year == 2019)
                  & (table.measure == "PTRWM_EXP")].set_index("group")["value"]
    assert b.loc[2019, "la_disadvantaged"] == hants["disadvantaged"] == 49
    vals = table[(table.year == 2019) & (table.measure == "PTRWM_EXP") & (table.group == "disadvantaged")
                 & table.level.isin(["school", "special school"])].value.dropna()
    pct = ((vals < 61).sum() + 0.5 * (vals == 61).sum()) / len(vals) * 100
    assert b.loc[2019, "percentile"] == pytest.approx(pct)
    assert b.loc[2019, "n_similar"] == 10


def test_similar_schools_are_nearest(table):
    t = table[table.year == 2019]
    feats = pub.similarity_features(t).dropna()
    assert list(feats.columns) == ["share", "prior"] and len(feats) > 250  # both features, most schools
    near = pub.similar_schools(feats, "115851", k=5)
    z = (feats - feats.mean()) / feats.std(ddof=0)
    d = np.sqrt(((z - z.loc["115851"]) ** 2).sum(axis=1)).drop("115851")
    assert near == list(d.nsmallest(5).index)


def test_gaptools_run_with_published(sample_run):
    """The shared sample run was made with ``published=[PUBLISHED]``: the same DfE KS2 files as
    ``KS2`` (a copy in the project), none of whose schools is in the trust."""
    from conftest import PUBLISHED

    assert sorted(p.name for p in PUBLISHED.iterdir()) == sorted(p.name for p in KS2.iterdir())
    assert all((PUBLISHED / p.name).read_bytes() == p.read_bytes() for p in KS2.iterdir())
    out, manifest = sample_run
    assert manifest["trust"]["published"]["status"] == "ok", manifest["trust"]
    page = (out / "trust" / "05_published_benchmarks.html").read_text()
    assert "National figures" in page and "<script" not in page
    assert 'href="trust/05_published_benchmarks.html"' in (out / "index.html").read_text()


def test_cli_published_missing_exits_2(tmp_path):
    from conftest import gaptools_cli

    r = gaptools_cli("run", ROOT / "data" / "sample", "--out", tmp_path, "--published", tmp_path / "nope")
    assert r.returncode == 2 and "no such published" in r.stderr


def test_ks4_format_with_nfsm_suffix_and_ragged_rows():
    t = pub.read_performance_table(ROOT / "tests" / "data" / "published" / "2023-2024-ks4-test.csv")
    assert t.key_stage.unique().tolist() == ["KS4"] and t.year.unique().tolist() == [2024]
    a = t[(t.urn == "990001") & (t.measure == "P8MEA")].set_index("group")
    assert (a.loc["disadvantaged", "value"], a.loc["disadvantaged", "lower"], a.loc["disadvantaged", "upper"]) == \
        (-0.52, -0.85, -0.19)
    assert a.loc["other", "value"] == 0.05  # NFSM6CLA1A is "other"
    basics = t[(t.urn == "990001") & (t.measure == "PTL2BASICS_94")].set_index("group")["value"]
    assert (basics["disadvantaged"], basics["other"], basics["all"]) == (41.0, 67.0, 60.0)
    tiny = t[t.urn == "990002"].set_index(["measure", "group"])
    assert tiny.loc[("ATT8SCR", "disadvantaged"), "status"] == "SUPP"
    assert tiny.loc[("P8MEA", "all"), "status"] == "NP"
    assert pd.isna(tiny.loc[("ATT8SCR", "disadvantaged"), "value"])
    empty = t[t.urn == "990003"]
    att8 = empty[empty.measure == "ATT8SCR"]
    assert (att8.status == "NE").all() and att8.value.isna().all()
    assert t[(t.urn == "990003") & (t.measure == "pupils") & (t.group == "disadvantaged")].value.item() == 0  # a real 0
    national = t[(t.level == "national") & (t.measure == "ATT8SCR")].set_index("group")["value"]
    assert (national["disadvantaged"], national["other"]) == (34.6, 50.0)
    short = t[(t.level == "national") & (t.measure == "P8MEA") & (t.group == "other")]
    assert short.status.item() == "missing (short row)"
    b = pub.benchmarks(t, ["990001"]).iloc[0]
    assert b.measure == "ATT8SCR" and b.disadvantaged == 36.2 and b.gap_national == pytest.approx(50.0 - 36.2)
