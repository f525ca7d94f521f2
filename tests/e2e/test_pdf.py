"""PDF printing: one real Chromium serves every thread of a run, and a missing one fails clearly.

Small self-made pages are printed (the sample trust's PDFs are read in test_reports);
the browser is Debian's Chromium, driven by Playwright on the printer's own thread.
"""
import asyncio
import threading

import psutil
import pytest
from conftest import all_gone, pdf_text

from gaptools.reporting import pdf

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="jp-Cell"><h1>{title}</h1></div>
<div class="jp-Cell"><details><summary>More</summary><p>Folded text of {title}</p></details></div>
<div class="jp-Cell"><div class="gaptools-summary"><ul><li>Summary: {title}</li></ul></div></div>
<div class="jp-Cell"><p>Detail only in the full report of {title}</p></div>
</body></html>"""


def _school(folder, name):
    folder.mkdir()
    for page in ("01_a", "02_b"):
        (folder / f"{page}.html").write_text(PAGE.format(title=f"{name} {page}"), encoding="utf-8")
    return folder


def _text(path):
    return " ".join(pdf_text(path)[1].split())


def _browsers():
    """This process's Chromium browser processes (a renderer or helper has a ``--type=`` flag)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if cmd and "chrom" in cmd[0] and not any(a.startswith("--type=") for a in cmd):
            found.append(child.pid)
    return found


def test_threads_printing_at_once_share_one_browser(tmp_path):
    schools = [_school(tmp_path / f"s{i}", f"School {i}") for i in range(4)]
    seen, errors = set(), []

    def print_school(folder):
        try:
            pdf.school_pdfs(folder, ["01_a", "02_b"])
            seen.update(_browsers())
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    with pdf.printing():
        threads = [threading.Thread(target=print_school, args=(s,)) for s in schools]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        browsers = _browsers()
    assert not errors
    assert len(browsers) == 1 and seen == set(browsers)  # one browser printed all 12 PDFs
    assert all_gone(browsers) and not _browsers()  # and it closed with the last user
    assert not [t for t in threading.enumerate() if t.name == "gaptools-printer"]
    for i, folder in enumerate(schools):
        for page in ("01_a", "02_b"):
            text = _text(folder / f"{page}.pdf")
            # the full report: every folded section open, nothing left out
            assert f"Folded text of School {i} {page}" in text and f"full report of School {i} {page}" in text
        summary = _text(folder / "summary.pdf")  # the first page with a summary box, only its summary
        assert f"Summary: School {i} 01_a" in summary and "full report" not in summary


def test_print_pdf_from_inside_a_running_event_loop(tmp_path):
    """As in a Jupyter kernel (an asyncio loop runs in its main thread): `notebook_pdf` still prints."""
    page = tmp_path / "page.html"
    page.write_text(PAGE.format(title="In a kernel"), encoding="utf-8")

    async def in_a_loop():
        return pdf.print_pdf(page, tmp_path / "page.pdf", summary=True)

    written = asyncio.run(in_a_loop())
    assert "Summary: In a kernel" in _text(written)
    assert not _browsers()  # a single print closes its own browser


def test_no_chromium_fails_clearly_and_leaves_nothing_running(tmp_path, monkeypatch):
    monkeypatch.setenv("GAPTOOLS_CHROMIUM", str(tmp_path / "no-such-chromium"))
    folder = _school(tmp_path / "s", "School")
    with pytest.raises(FileNotFoundError, match="no Chromium to print PDFs with"):
        pdf.school_pdfs(folder, ["01_a", "02_b"])
    assert not list(folder.glob("*.pdf"))
    assert not [t for t in threading.enumerate() if t.name == "gaptools-printer"]
    assert not _browsers()
