"""Every page type as a reader opens it, and the PDFs a governor gets (issue 14).

The sample trust's `gaptools run` (the shared ``sample_run``: with ``--pdf`` and
the published benchmarks page of the real DfE KS2 files, none of whose schools
is in the trust) is opened in Debian's Chromium through Playwright. Each page
is checked as a reader would see it: no machinery (warnings, tracebacks, file
paths, column names, parameter names), a text alternative on every image,
nothing wider than the window, the summary on the first screen, a glossary for
the terms used and a way back. The PDFs are read back with PDFium and compared
with results.json.
"""
import csv
import functools
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE, occurring, pdf_text

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
WIDTH = 1280
FIRST_SCREEN = 1200  # px: the summary must be read without scrolling further
SCHOOLS = ["900101", "900102", "900103", "900104", "900201", "900202"]
PAGES = ["01_cohort_overview", "02_gap_analysis", "03_intervention_targeting"]

#: What a reader must never see: column and measure names, parameter names, Python booleans.
RAW = re.compile(r"attainment8|rwm_expected|grade_|attendance_pct|\bva_|pupil_id|prior_band|\bTrue\b|\bFalse\b"
                 r"|out_dir|suppression_threshold")
#: Machinery: warnings, tracebacks, file paths of the installation or the run.
MACHINERY = re.compile(r"Traceback|Warning:|UserWarning|site-packages|\.py:\d+|/tmp/|/work/|/home/|/usr/|"
                       r"[A-Z]:\\\\|\.venv")
#: Terms that need the glossary when a page uses them, and how the glossary names them.
TERMS = {"RWM": "RWM", "E&M": "E&M", "percentage points": "Percentage points", "value added": "Value added",
         "gap index": "Gap index", "false-discovery": "Check for false discoveries"}


def _pages(out):
    pages = [("index", out / "index.html")]
    for sid in ("900101", "900103", "900201", "900202"):
        pages += [(f"{sid}/{p}", out / sid / f"{p}.html") for p in PAGES]
    pages += [("trust/04", out / "trust" / "04_trust_overview.html"),
              ("trust/05", out / "trust" / "05_published_benchmarks.html")]
    return pages


@pytest.fixture(scope="module")
def opened(sample_run):
    """Every page type opened in Chromium: visible text, image alternatives, geometry, links."""
    from playwright.sync_api import sync_playwright

    out, manifest = sample_run
    assert manifest["trust"]["published"]["status"] == "ok", manifest["trust"]["published"]
    seen, requests = {}, []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        for name, path in _pages(out):
            page.goto(path.as_uri())
            seen[name] = page.evaluate("""() => {
                const top = el => el ? el.getBoundingClientRect().top + window.scrollY : null;
                const bottom = el => el ? el.getBoundingClientRect().bottom + window.scrollY : null;
                const scrolls = e => {  // inside a scrolling table box is not the page
                    for (let p = e.parentElement; p; p = p.parentElement) {
                        const o = getComputedStyle(p).overflowX;
                        if (o === 'auto' || o === 'scroll') return true;
                    }
                    return false;
                };
                const wide = Array.from(document.querySelectorAll('body *')).filter(e => {
                    const r = e.getBoundingClientRect();  // the styles of its boxes only for what reaches past
                    return r.width > 0 && r.right > window.innerWidth + 1 && !scrolls(e);
                }).map(e => e.tagName + '.' + e.className);
                const firstSummaryCell = Array.from(document.querySelectorAll('.celltag_summary'))
                    .filter(e => !e.querySelector('h1'))[0];
                return {
                    text: document.body.innerText,
                    html: document.documentElement.outerHTML,
                    alts: Array.from(document.images).map(i => i.getAttribute('alt')),
                    imgWidths: Array.from(document.images).map(i => i.naturalWidth),
                    scrollWidth: document.documentElement.scrollWidth,
                    wide: wide,
                    summaryBox: [top(document.querySelector('.gaptools-summary')),
                                 bottom(document.querySelector('.gaptools-summary'))],
                    summaryCell: top(firstSummaryCell),
                    attention: top(Array.from(document.querySelectorAll('p'))
                                   .find(p => p.innerText.startsWith('Needs attention first'))),
                    links: Array.from(document.links).map(a => [a.innerText, a.href]),
                    glossary: (document.querySelector('.gaptools-glossary') || {innerText: ''}).innerText,
                };
            }""")
            if name in ("900103/02_gap_analysis", "trust/05", "index", "trust/04"):
                page.screenshot(path=str(out.parent / (name.replace("/", "_") + ".png")), full_page=True)
        browser.close()
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert outside == [], outside
    return seen


def test_no_machinery_or_raw_names_on_any_page(opened):
    for name, page in opened.items():
        visible = page["text"] + "\n" + "\n".join(a or "" for a in page["alts"])
        assert not MACHINERY.search(visible), (name, MACHINERY.search(visible).group(0),
                                               visible[max(0, MACHINERY.search(visible).start() - 80):][:200])
        assert not RAW.search(visible), (name, RAW.search(visible).group(0),
                                         visible[max(0, RAW.search(visible).start() - 80):][:200])
        assert "Traceback" not in page["html"] and "site-packages" not in page["html"], name
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page["html"], name


def test_every_image_has_a_text_alternative(opened):
    images = 0
    for name, page in opened.items():
        for alt, width in zip(page["alts"], page["imgWidths"]):
            images += 1
            assert width > 100, (name, width)  # drawn
            # the title and what it shows: more than a word, never the template's placeholder
            assert alt and len(alt) > 40 and alt != "Chart" and "No description" not in alt, (name, alt)
    assert images >= 20


def test_nothing_overflows_the_page_width(opened):
    for name, page in opened.items():
        assert page["scrollWidth"] <= WIDTH, (name, page["scrollWidth"])
        assert page["wide"] == [], (name, page["wide"][:5])


def test_the_summary_is_on_the_first_screen(opened):
    for sid in ("900101", "900103", "900201", "900202"):
        top, bottom = opened[f"{sid}/02_gap_analysis"]["summaryBox"]
        assert top is not None and bottom <= FIRST_SCREEN, (sid, top, bottom)
        for p in ("01_cohort_overview", "03_intervention_targeting"):
            assert opened[f"{sid}/{p}"]["summaryCell"] < FIRST_SCREEN, (sid, p)
    assert opened["trust/04"]["summaryCell"] < FIRST_SCREEN
    assert opened["index"]["attention"] < FIRST_SCREEN


def test_summary_lists_the_clear_gaps_with_interval_and_trend(sample_run, opened):
    """Hillcrest's summary names its widest clear gaps with their interval and trend, from results.json."""
    out, _ = sample_run
    doc = json.loads((out / "900103" / "results.json").read_text())
    latest = max(g["year"] for g in doc["gaps"])
    a8 = next(g for g in doc["gaps"] if g["measure"] == "attainment8" and g["comparison"] == "in_school"
              and g["subgroup"] is None and g["year"] == latest)
    assert a8["clear"] and a8["trend"] == "widening"
    text = opened["900103/02_gap_analysis"]["text"]
    summary = text[text.index("Summary:"):text.index("What is closing")]
    # the governors' headline measures (issue 29): the gap, its interval, the verdict and the trend
    assert (f"Attainment 8: disadvantaged pupils {a8['gap']:.1f} points behind other pupils in school (95% "
            f"interval {a8['ci_low']:.1f} to {a8['ci_high']:.1f}): a clear gap; widening since {a8['trend_from']}"
            ) in summary


def test_glossary_explains_every_term_a_page_uses(opened):
    for name, page in opened.items():
        if name == "index":
            continue
        body = page["text"].replace(page["glossary"], "")
        for term, entry in TERMS.items():
            if term in body:
                assert entry in page["glossary"], (name, term)


def test_every_page_links_back_and_the_overview_links_each_school(sample_run, opened):
    out, manifest = sample_run
    for name, page in opened.items():
        if name != "index":
            assert any(t == "Trust index" and h.endswith("/index.html") for t, h in page["links"]), name
    hrefs = [h for _, h in opened["trust/04"]["links"]]
    for sid, school in manifest["schools"].items():
        for p in PAGES:
            target = (out / school["folder"] / f"{p}.html").as_uri()
            assert target in hrefs, (sid, p)
            assert (out / school["folder"] / f"{p}.html").is_file()


def test_index_says_which_schools_need_attention_first(sample_run, opened):
    """Schools are ordered as the trust overview's decision list and trust.csv order them; the schools
    with clear headline gaps (counted here from results.json) come before those without."""
    out, manifest = sample_run
    headline = {"attainment8", "progress8", "basics_4plus", "rwm_expected", "attendance_pct"}
    clear = {}
    for _sid, school in manifest["schools"].items():
        doc = json.loads((out / school["folder"] / "results.json").read_text())
        latest = {}
        for g in doc["gaps"]:
            latest[g["key_stage"]] = max(latest.get(g["key_stage"], 0), g["year"])
        clear[school["school_name"]] = sum(1 for g in doc["gaps"] if g["measure"] in headline
                                           and g["comparison"] == "in_school" and g["subgroup"] is None
                                           and g["year"] == latest[g["key_stage"]] and g["clear"])
    text = opened["index"]["text"]
    first = text[text.index("Needs attention first"):text.index("Schools are listed below")]
    assert len(re.findall(r"\d+ disadvantaged pupils?\b", first)) == 3  # three schools, each with its reasons
    assert "Hillcrest High School: gap in Attainment 8 larger than the trust's" in first, first
    positions = {name: text.index(name, text.index("Headline gaps")) for name in clear}
    ordered = sorted(clear, key=positions.get)
    with_gaps = [n for n in ordered if clear[n]]
    assert with_gaps and ordered[:len(with_gaps)] == with_gaps, (ordered, clear)
    table = pd.read_csv(out / "trust" / "trust.csv", encoding="utf-8-sig")
    assert (out / "trust" / "trust.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    assert table["School"].tolist() == ordered
    assert table["Rank"].notna().sum() == 4 and set(table.loc[table["Rank"].isna(), "School"]) == {
        "Saint Émile's Catholic College", "Little Brook C of E Primary School"}


def test_published_page_for_a_trust_not_in_the_files(opened):
    page = opened["trust/05"]
    assert "None of our 6 schools is in these files" in page["text"]
    assert not any("most similar schools" in (a or "") for a in page["alts"])  # no empty chart
    assert any("none of our schools is in them" in (a or "") for a in page["alts"])  # the funnel says so


# --------------------------------------------------------------- PDFs
@functools.cache
def _pdf_text(path):
    """(pages, text) of a PDF, read once for all the tests here."""
    return pdf_text(path)


def _pupil_ids():
    ids = {}
    for f in SAMPLE.glob("*.csv"):
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                ids[row["pupil_id"]] = row["school_id"]
    return ids


def test_pdfs_for_governors(sample_run):
    out, manifest = sample_run
    for sid, school in manifest["schools"].items():
        folder = out / school["folder"]
        for p in PAGES:
            n, text = _pdf_text(folder / f"{p}.pdf")
            assert n >= 1 and " ".join(school["school_name"].split()) in " ".join(text.split()), (sid, p)
            assert f"{school['folder']}/{p}.pdf" in school["outputs"] or f"{p}.pdf" in \
                [Path(o).name for o in school["outputs"]]
        n, text = _pdf_text(folder / "summary.pdf")
        assert 1 <= n <= 2, (sid, n)
        assert "Summary:" in text and "Trust index" not in text  # navigation is not printed
    n, text = _pdf_text(out / "trust" / "04_trust_overview.pdf")
    assert n >= 1 and "Trust overview" in text


def test_summary_pdf_holds_the_summary_figures(sample_run):
    """Each school's summary.pdf shows its clear gaps' intervals as results.json has them (or says there is
    no clear gap), and its page count stays within two A4 pages."""
    out, manifest = sample_run
    checked = 0
    for sid, school in manifest["schools"].items():
        doc = json.loads((out / school["folder"] / "results.json").read_text())
        _, text = _pdf_text(out / school["folder"] / "summary.pdf")
        flat = " ".join(text.split())
        for ks in sorted({g["key_stage"] for g in doc["gaps"]}):
            latest = max(g["year"] for g in doc["gaps"] if g["key_stage"] == ks)
            clear = [g for g in doc["gaps"] if g["key_stage"] == ks and g["year"] == latest and g["clear"]
                     and g["subgroup"] is None and g["gap"] > 0]
            if not clear:
                assert "No clear gap" in flat, sid
                continue

            def interval(g):
                k = 100 if g["kind"] == "rate" else 1
                d = 0 if k == 100 else (2 if g["measure"] in ("progress8", "suspensions") or
                                        g["measure"].startswith("va_grade") else 1)
                return f"{g['ci_low'] * k:.{d}f} to {g['ci_high'] * k:.{d}f}"
            shown = [g for g in clear if f"95% interval {interval(g)}" in flat]
            assert len(shown) >= min(3, len(clear)), (sid, [interval(g) for g in clear], flat[:600])
            checked += len(shown)
    assert checked >= 10


def test_pupil_data_only_in_the_schools_own_targeting_pdf(sample_run):
    out, manifest = sample_run
    ids = _pupil_ids()
    pdfs = sorted(out.rglob("*.pdf"))
    # five PDFs a school (01-03, 06: the sample run has assessments, summary), the trust overview's, and
    # governors/: each summary again and the trust overview
    assert len(pdfs) == 5 * len(SCHOOLS) + 1 + len(SCHOOLS) + 1
    for path in pdfs:
        rel = path.relative_to(out)
        if path.name == "03_intervention_targeting.pdf":
            assert len(rel.parts) == 2 and rel.parts[0] in {s["folder"] for s in manifest["schools"].values()}
        _, text = _pdf_text(path)
        found = occurring(ids, text.replace("\n", ""))  # an id a table cell broke across lines is whole again
        if path.name == "03_intervention_targeting.pdf":
            sid = next(s for s, v in manifest["schools"].items() if v["folder"] == rel.parts[0])
            assert all(ids[i] == sid for i in found), (rel, found)
        else:
            assert not found, (rel, sorted(found)[:3])
