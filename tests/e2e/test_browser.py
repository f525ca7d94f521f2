"""A real browser opens the reports: Debian's Chromium driven by Playwright.

No mock: the sample trust's reports from `gaptools run` are opened from disk,
a link is followed, and every request the page makes is recorded. Nothing may
leave the machine, no script may run, and the charts and findings must show.
"""
import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def test_index_to_gap_report_in_chromium(sample_run, tmp_path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    out, manifest = sample_run
    requests, problems = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.goto((out / "index.html").as_uri())
        assert page.title() == "Disadvantage gap reports"
        row = page.locator("tr", has_text="Hillcrest High School")
        assert "ok" in row.inner_text()
        row.get_by_role("link", name="Find the gaps").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/900103/02_gap_analysis.html")
        body = page.inner_text("body")
        assert "The Attainment 8 gap has widened" in body
        assert "Hillcrest High School" in body and "95% interval" in body
        assert "import gaptools" not in body and "report.findings()" not in body and "Traceback" not in body
        charts = page.locator("img")
        assert charts.count() >= 4
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert all(w > 100 for w in widths), widths  # every chart decoded and drawn
        page.screenshot(path=str(tmp_path / "gap_report.png"), full_page=True)
        page.get_by_role("link", name="Trust index").click()
        page.get_by_role("link",
                         name="Trust overview: which gaps are real, which are closing, where to put support").click()
        page.wait_for_load_state("load")
        assert "Where central support should go" in page.inner_text("body")
        browser.close()
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert outside == [], outside
    assert problems == [], problems
