"""Issue 29: what governors and staff act on. The governors' summary and folder, PDFs that fit, the
browser checked first, a failed print keeping the pages, one school without trust words, every word
from the label table (no nan or None), the one-school gap index with its interval."""
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE, pdf_text
from scipy import stats as sps

import gaptools
from gaptools.analysis.gapindex import index_interval, index_value
from gaptools.domain.formatting import trend_text
from gaptools.domain.labels import subgroup_words
from gaptools.io.sample import generate_trust

NAN_OR_NONE = re.compile(r"\b(nan|NaN|None|<NA>)\b")


def _load(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(frame)


# ------------------------------------------------------------------ words
def test_every_subgroup_has_words_and_none_is_nan():
    assert subgroup_words("persistent_absence=True") == "persistently absent pupils"
    assert subgroup_words("sen=E") == "pupils with an EHC plan"
    assert subgroup_words("eal=True") == "pupils with English as an additional language"
    assert subgroup_words("persistent_absence=1.0") == "persistently absent pupils"  # a flag written as 1.0
    assert subgroup_words("prior_band=unknown") == "pupils whose prior attainment is unknown"
    for odd in (None, float("nan"), "sen=nan", "eal=None", "ethnicity=WBRI", "persistent_absence=<NA>"):
        words = subgroup_words(odd)
        assert words and not NAN_OR_NONE.search(words), (odd, words)


def test_a_trend_that_is_not_clear_says_why():
    assert trend_text("no clear change", 2023, -3.0, 4.0) == \
        "no clear change since 2023 (its 95% interval spans zero)"
    # -62 (-107 to -18): the interval excludes zero, so it is the false-discovery check that holds it back
    assert trend_text("no clear change", 2023, -107, -18).endswith(
        "(not clear after the false-discovery check)")
    assert trend_text("widening", 2023, 1.0, 5.0) == "widening since 2023"
    assert trend_text(None) == "" and trend_text(float("nan"), 2023) == ""


def _planted_subgroups():
    """A secondary whose English gap sits in its persistently absent pupils, with SEN, EAL and
    missing values in every characteristic (a pupil with no SEN, EAL, sex or attendance recorded)."""
    t = generate_trust(schools=1, years=2, seed=29)
    t = t[t.key_stage == "KS4"].reset_index(drop=True).copy()
    rng = np.random.default_rng(29)
    dis = t.disadvantaged.astype(str).isin(["True", "true", "1"]) if t.disadvantaged.dtype == object \
        else t.disadvantaged.astype(bool)
    absent = dis & (rng.random(len(t)) < 0.4)
    t.loc[absent, "attendance_pct"] = 82.0
    t.loc[absent, "grade_english"] = 1
    t["eal"] = rng.random(len(t)) < 0.2
    for col in ("sen", "eal", "sex", "attendance_pct"):
        t[col] = t[col].astype(object)
        t.loc[t.index % 17 == 3, col] = None
    return _load(t)


def test_strategy_and_priorities_never_say_nan_or_none():
    p = _planted_subgroups()
    sid = str(p.school_id.iloc[0])
    pr = gaptools.priorities(p, sid)
    assert len(pr)
    conc = [c for c in pr["concentrated_in"] if isinstance(c, str)]
    assert conc and all(not NAN_OR_NONE.search(c) for c in conc), conc
    # a priority without a concentration, as a frame read back holds it (NaN, not None)
    pr = pr.assign(concentrated_in=[np.nan] + list(pr["concentrated_in"].iloc[1:]),
                   trend=[np.nan] + list(pr["trend"].iloc[1:]))
    text = gaptools.strategy_statement(p, sid, priorities=pr)
    assert not NAN_OR_NONE.search(text), NAN_OR_NONE.search(text).group(0)
    assert text.count("The gap is concentrated in") == sum(isinstance(c, str) for c in pr["concentrated_in"])
    report = gaptools.SchoolReport(p, sid)
    from gaptools.reporting.governors import governors_html

    page = governors_html(report, report.cohorts[0])
    assert not NAN_OR_NONE.search(re.sub(r"<[^>]+>", " ", page))


# ------------------------------------------------------------------ the governors' summary
def test_a_small_school_shows_its_results_against_national(sample_pupils):
    """Every group figure withheld (4 disadvantaged pupils): the summary says so and shows all its
    pupils' expected standard against the national figures on file, worked out here by hand."""
    from gaptools.domain.reference import national_figures
    from gaptools.reporting.governors import governors_html

    p = sample_pupils[sample_pupils.school_id == "900202"].copy()
    latest = int(p.year.max())
    dis = p.index[(p.year == latest) & p.disadvantaged.astype(bool)]
    p.loc[dis[4:], "disadvantaged"] = False  # 4 disadvantaged pupils: every group figure withheld
    r = gaptools.SchoolReport(p, "900202")
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", governors_html(r, r.cohorts[0])))
    assert page.lstrip().startswith(r.school_name.replace("&", "&amp;"))
    assert "withheld: too few disadvantaged pupils" in page or "withheld: too few disadvantaged" in page
    cohort = p[(p.year == latest) & (p.key_stage == "KS2")]
    mine = cohort.rwm_expected.dropna().astype(float)
    nat = national_figures()
    nat = nat[(nat.key_stage == "KS2") & (nat.measure == "rwm_expected") & nat.value.notna()
              & (nat.year.astype(int) <= latest)]
    national_all = nat[nat.group == "all"].sort_values("year").value.iloc[-1]
    assert f"all {len(mine)} pupils here {mine.mean() * 100:.0f}%" in page
    assert f"nationally all pupils {float(national_all) * 100:.0f}%" in page
    assert "gap index" not in page.lower()  # nothing ranked


# ------------------------------------------------------------------ the one-school gap index
def test_one_school_gap_index_is_the_mann_whitney_statistic_with_its_interval():
    rng = np.random.default_rng(7)
    n_d, n_o, reps, shift = 30, 60, 1000, 0.5
    d = rng.normal(-shift, 1, (reps, n_d))
    o = rng.normal(0, 1, (reps, n_o))
    both = np.concatenate([d, o], axis=1)
    ranks = both.argsort(axis=1).argsort(axis=1) + 1.0  # continuous: no ties
    index = 20 * (ranks[:, n_d:].mean(axis=1) - ranks[:, :n_d].mean(axis=1)) / (n_d + n_o)
    for i in range(3):  # the index of one school ranked within itself is 20 (U / (n_d n_o) - 1/2)
        u = sps.mannwhitneyu(o[i], d[i]).statistic
        assert index[i] == pytest.approx(20 * (u / (n_d * n_o) - 0.5))
        assert index_value(both[i], np.r_[np.ones(n_d), np.zeros(n_o)]) == pytest.approx(index[i])
    low, high = index_interval(index, n_d, n_o)
    truth = 20 * (sps.norm.cdf(shift / np.sqrt(2)) - 0.5)
    coverage = float(np.mean((low <= truth) & (truth <= high)))
    assert 0.93 <= coverage <= 0.97, coverage
    # a small school (8 and 20 pupils, no real gap): the interval still covers about 95%
    d, o = rng.normal(0, 1, (reps, 8)), rng.normal(0, 1, (reps, 20))
    ranks = np.concatenate([d, o], axis=1).argsort(axis=1).argsort(axis=1) + 1.0
    small = 20 * (ranks[:, 8:].mean(axis=1) - ranks[:, :8].mean(axis=1)) / 28
    low, high = index_interval(small, 8, 20)
    assert 0.93 <= float(np.mean((low <= 0) & (0 <= high))) <= 0.98


def test_one_school_run_says_school_and_shows_its_index_with_interval(sample_pupils):
    from gaptools.analysis.gapindex import gap_index

    p = sample_pupils[sample_pupils.school_id == "900101"]
    gi = gap_index(p, school_id="900101")
    assert (gi.reference == "school").all()  # one school's data: ranked within the school
    f = gaptools.SchoolReport(p, "900101").results.findings
    words = " ".join(f.text)
    assert "trust" not in words.lower() and "national figure" not in words
    row = gi[gi.year == gi.year.max()].iloc[0]
    low, high = index_interval(row.value, row.n_disadvantaged, row.n_other)
    assert f"Disadvantage gap index {row.value:.2f} (95% interval {low:.2f} to {high:.2f}; " \
           f"{int(row.n_disadvantaged)} disadvantaged and {int(row.n_other)} other pupils" in words
    table = gaptools.SchoolReport(p, "900101").gap_index_table()[0]  # page 02: no national column
    table = getattr(table, "data", table)
    assert "National (DfE)" not in table.columns
    assert f"{row.value:.2f} ({low:.2f} to {high:.2f})" in set(table.iloc[:, 1])


# ------------------------------------------------------------------ PDFs and the folders
def test_pdf_run_checks_the_browser_first(tmp_path, monkeypatch):
    from conftest import gaptools_cli

    monkeypatch.setenv("GAPTOOLS_CHROMIUM", str(tmp_path / "no-chromium"))
    r = gaptools_cli("run", SAMPLE, "--out", tmp_path / "out", "--pdf", "--quiet")
    assert r.returncode == 2 and "apt-get install chromium" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("9*"))  # no school analysed


def test_a_failed_print_keeps_the_schools_pages(tmp_path, monkeypatch):
    import nbformat

    from gaptools.batch import school as job_module

    def fake_execute(template, executed, params, **kw):  # a notebook run without a kernel
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {template.stem}")])
        nbformat.write(nb, executed)

    def no_printer(*a, **k):
        raise RuntimeError("the browser crashed")

    monkeypatch.setattr(job_module, "execute_notebook", fake_execute)
    monkeypatch.setattr("gaptools.reporting.pdf.school_pdfs", no_printer)
    job = job_module.SchoolJob("S1", "School", "S1", str(tmp_path / "none.parquet"), str(tmp_path / "stage"),
                               pdf=True, scratch=str(tmp_path))
    outcome = job_module.run_school(job)
    assert outcome.status == job_module.PDF_FAILED == "ok, PDF failed"
    assert "the browser crashed" in outcome.error
    assert {f"{n}.html" for n, _ in job_module.SCHOOL_NOTEBOOKS} <= set(outcome.outputs)


def _governor_pdfs(out):
    return sorted((out / "governors").glob("*.pdf"))


def test_governors_folder_holds_every_summary_and_the_trust_overview_and_no_pupil(sample_run):
    out, manifest = sample_run
    pdfs = _governor_pdfs(out)
    expected = {f"{s['folder']}-summary.pdf" for s in manifest["schools"].values()} | {"trust-overview.pdf"}
    assert {p.name for p in pdfs} == expected and manifest["governors"] == sorted(
        f"governors/{n}" for n in expected)
    ids = set()
    for f in SAMPLE.glob("*.csv"):
        ids |= set(pd.read_csv(f, usecols=["pupil_id"], dtype=str).pupil_id)
    for path in pdfs:
        _, text = pdf_text(path)
        flat = text.replace("\n", "")
        assert not [i for i in ids if i in flat], path.name
        assert path.read_bytes() == (out / (path.name.removesuffix("-summary.pdf")) / "summary.pdf").read_bytes() \
            if path.name != "trust-overview.pdf" else True


def test_summary_page_one_opens_with_the_school_and_its_figures(sample_run):
    out, manifest = sample_run
    import pypdfium2 as pdfium

    for sid, s in manifest["schools"].items():
        n, text = pdf_text(out / s["folder"] / "summary.pdf")
        first = " ".join(pdfium.PdfDocument(str(out / s["folder"] / "summary.pdf"))[0].get_textpage()
                         .get_text_range().split())
        name = " ".join(s["school_name"].split())
        assert first.startswith(name), (sid, first[:80])
        assert "Summary:" in first[:200] and "made " in first[:300]
        assert "Priorities and the approaches planned" in first
        assert not NAN_OR_NONE.search(text), (sid, NAN_OR_NONE.search(text).group(0))
        assert 1 <= n <= 2
    _, text = pdf_text(out / manifest["schools"]["900101"]["folder"] / "summary.pdf")
    assert "Nationally (2024/25): all pupils" in " ".join(text.split())  # beside the national figure
    # the run has an activity register and data drops: last year's review and this year so far, from the
    # same figures as page 06 (read back from results.json), naming no teaching group
    _, text = pdf_text(out / manifest["schools"]["900103"]["folder"] / "summary.pdf")
    flat = " ".join(text.split())
    assert "Last year's activities: what they achieved" in flat and "This year so far" in flat
    doc = json.loads((out / manifest["schools"]["900103"]["folder"] / "results.json").read_text())
    english = [r for r in doc["in_year"] if r["level"] == "year_group" and r["subject"] == "English"]
    last = max(english, key=lambda r: r["drop_index"])
    assert f"Year 11 English, {last['drop']}: gap {last['gap']:.2f} (95% interval {last['ci_low']:.2f} to " \
        f"{last['ci_high']:.2f})" in flat
    groups = {r["group"] for r in doc["in_year"] if r["level"] == "teaching_group"}
    assert groups and not any(f" {g} " in f" {flat} " for g in groups)


def test_no_table_column_is_cut_off_in_a_full_pdf(sample_run):
    """Every heading of every table on page 02 lies within the printed page (PDFium reads only the
    text inside the page's box)."""
    import pypdfium2 as pdfium
    from bs4 import BeautifulSoup

    out, manifest = sample_run
    folder = out / manifest["schools"]["900101"]["folder"]
    soup = BeautifulSoup((folder / "02_gap_analysis.html").read_text(encoding="utf-8"), "html.parser")
    heads = {" ".join(th.get_text(" ", strip=True).split()) for th in soup.select("thead th")} - {""}
    assert {"Trend", "What it means", "Gap (95% interval)"} <= heads
    doc = pdfium.PdfDocument(str(folder / "02_gap_analysis.pdf"))
    inside = ""
    for page in doc:
        width, height = page.get_size()
        inside += page.get_textpage().get_text_bounded(0, 0, width, height) + "\n"
    flat = " ".join(inside.split())
    joined = flat.replace("- ", "-").replace(" ", "")
    missing = [h for h in heads if h.replace(" ", "") not in joined]
    assert not missing, missing


def test_a_wide_pupil_list_prints_landscape_whole_and_at_least_15_a_page(tmp_path):
    """The 03 pupil list's shape (18 columns, long reasons) printed in full: landscape, every column
    inside the page, at least 15 pupils a page (the issue saw 4, and columns cut at the margin)."""
    import pypdfium2 as pdfium

    from gaptools.reporting import pdf

    heads = ["Rank", "UPN", "Forename", "Surname", "Year group", "Form", "Need score", "Priorities", "Reasons",
             "SEN", "EAL", "Attendance %", "Suspensions", "English", "Maths", "Reading", "GPS", "KS2 average"]
    reason = ("English grade 2: 2 below a standard pass; maths grade 3: 1 below a standard pass; "
              "attendance 84.5%: 5.5 points below 90%; 1 suspension")
    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in (
        i + 1, f"Z{i:012d}", "Zoë", "D'Souza-Müller", 11, "11B", 12.5, "1 literacy; 2 attendance", reason,
        "SEN support", "yes", 84.5, 1, 2, 3, "", "", 98.5)) + "</tr>" for i in range(60))
    page = tmp_path / "list.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><style>@media print { table, tr { break-inside: '
        'avoid; } .jp-OutputArea-output { overflow: visible; } }</style></head><body><div class="jp-Cell">'
        '<div class="jp-OutputArea-output"><table><thead><tr>' + "".join(f"<th>{h}</th>" for h in heads)
        + f"</tr></thead><tbody>{rows}</tbody></table></div></div></body></html>", encoding="utf-8")
    out = pdf.print_pdf(page, tmp_path / "list.pdf")
    doc = pdfium.PdfDocument(str(out))
    per_page, text = [], ""
    for p in doc:
        width, height = p.get_size()
        assert width > height  # landscape
        inside = p.get_textpage().get_text_bounded(0, 0, width, height)
        per_page.append(len(re.findall(r"Z\d{12}", inside)))
        text += inside
    assert sum(per_page) == 60 and min(per_page[:-1] or [60]) >= 15, per_page
    flat = " ".join(text.split()).replace(" ", "")
    assert all(h.replace(" ", "") in flat for h in heads), [h for h in heads if h.replace(" ", "") not in flat]


def test_page_01_gives_each_withheld_group_its_own_reason_and_unknown_stays_unknown():
    """SEN groups of 17 and 12 disadvantaged pupils, one with an EHC plan: the EHC group is withheld as
    too few, the no-SEN group to protect it (17 + 12 + 1 = 30 would give the 1 back), and the chart says
    so. A cohort with no KS2 results has its low-prior-attainment overlaps unknown, not 'no'."""
    from gaptools.analysis.profile import cohort_profile
    from gaptools.reporting.charts import profile_bars

    dis = ["E"] + ["K"] * 17 + ["N"] * 12
    other = ["K"] * 6 + ["N"] * 44
    p = pd.DataFrame({"school_id": "S", "key_stage": "KS4", "year": 2025,
                      "disadvantaged": [True] * 30 + [False] * 50, "sen": dis + other,
                      "prior_attainment": np.nan, "persistent_absence": pd.array([True, False] * 40, "boolean")})
    earlier = p.assign(year=2024, prior_attainment=np.linspace(90, 115, len(p)))  # a year with KS2 results
    prof = cohort_profile(pd.concat([earlier, p], ignore_index=True))
    prof, before = prof[prof.year == 2025], prof[prof.year == 2024]
    sen = prof[(prof.characteristic == "sen") & (prof.group == "disadvantaged")].set_index("value")
    assert sen.loc["EHC plan", "withheld_reason"] == "too_few_disadvantaged"
    assert not sen.loc["SEN support", "suppressed"]
    hidden = sen[sen.suppressed & (sen.index != "EHC plan")]
    assert len(hidden) == 1 and hidden.withheld_reason.iloc[0] == "protects_another_group"
    fig = profile_bars(prof, "sen")
    assert "EHC plan: withheld: too few disadvantaged pupils" in fig.alt_text
    assert "withheld to protect a smaller group" in fig.alt_text
    name = "overlap: SEN and low prior attainment"
    assert set(prof[prof.characteristic == name].value) == {"unknown"}  # no KS2 results: never "no"
    assert set(before[before.characteristic == name].value) == {"yes", "no"}
