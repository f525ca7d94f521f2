"""`gaptools run --assessments` end to end, read from the shared sample run (``sample_run``, which has the
sample year's drops): results.json ``in_year``, the school's in-year page with its teaching groups,
and a trust page without them."""
import csv
import json
from statistics import mean

from conftest import SAMPLE_YEAR


def _drops():
    with open(SAMPLE_YEAR / "assessments.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_results_json_has_in_year_and_year_group_gaps_match_the_file(sample_run):
    out, manifest = sample_run
    rows = _drops()
    for sid, school in manifest["schools"].items():
        assert "06_in_year.html" in {p.split("/")[-1] for p in school["outputs"]}, sid
        doc = json.loads((out / school["folder"] / "results.json").read_text())
        assert doc["schema_version"] == 2 and doc["gaps"]  # additive: the rest is as before
        in_year = doc["in_year"]
        assert {r["level"] for r in in_year} == {"year_group", "teaching_group"}
        for r in [r for r in in_year if r["level"] == "year_group"]:
            scores = [(float(x["score"]), x["disadvantaged"] == "True") for x in rows
                      if x["school_id"] == sid and x["subject"] == r["subject"] and x["drop"] == r["drop"]]
            dis = [s for s, d in scores if d]
            oth = [s for s, d in scores if not d]
            assert (r["n_disadvantaged"], r["n_other"]) == (len(dis), len(oth))
            assert abs(r["gap"] - (mean(oth) - mean(dis))) < 1e-6
    # no pupil's id in results.json
    ids = {x["pupil_id"] for x in rows}
    text = (out / "900103" / "results.json").read_text()
    assert not any(i in text for i in ids)


def test_the_school_page_shows_its_teaching_groups_and_the_trust_page_does_not(sample_run):
    out, manifest = sample_run
    rows = _drops()
    page = (out / manifest["schools"]["900103"]["folder"] / "06_in_year.html").read_text(encoding="utf-8")
    groups = {x["teaching_group"] for x in rows if x["school_id"] == "900103"}
    assert groups and all(g in page for g in groups)
    # the planted story (group 11E5 falls 0.8 SD behind in English), in words about support
    assert "worth a look at how the disadvantaged pupils in 11E5 are supported" in page
    assert "The year so far" in page and "Hillcrest High School" in page
    trust = (out / "trust" / "04_trust_overview.html").read_text(encoding="utf-8")
    assert "The year so far" in trust
    all_groups = {x["teaching_group"] for x in rows}
    assert not [g for g in all_groups if f">{g}<" in trust or f" {g} " in trust]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="900103/06_in_year.html"' in index
    # no pupil named or identified on any in-year page
    ids = {x["pupil_id"] for x in rows}
    for school in manifest["schools"].values():
        text = (out / school["folder"] / "06_in_year.html").read_text(encoding="utf-8")
        assert not any(i in text for i in ids)
