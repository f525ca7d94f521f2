"""Reports as PDF for governors: printed by Debian's Chromium through Playwright.

The HTML report is the source; Chromium prints it on A4 with the report's
print styles (tables, charts and summary items are never cut across pages;
navigation is left out). A *full* PDF opens every folded ``<details>`` so
nothing is hidden on paper; a *summary* PDF keeps only the cells tagged
``summary`` (the page title, the cohort and the summary box) and the
glossary, and fits on two A4 pages. Nothing is fetched: the pages load
nothing from the network and the browser runs with its network features off.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

#: Chromium's flags: no sandbox (containers), no GPU, nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

#: At most this many A4 pages for a summary PDF.
SUMMARY_PAGES = 2

# Keep the summary cells, the first heading and the glossary; drop everything else.
_SUMMARY_ONLY = """() => {
  const cells = Array.from(document.querySelectorAll('.jp-Cell'));
  let first = true;
  for (const cell of cells) {
    const keep = cell.classList.contains('celltag_summary') || cell.querySelector('.celltag_summary')
      || cell.querySelector('.gaptools-summary') || cell.querySelector('.gaptools-glossary')
      || (first && cell.querySelector('h1'));
    if (cell.querySelector('h1')) first = false;
    if (!keep) cell.remove();
  }
}"""
_OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => d.open = true)"
# A summary flows on as few pages as it can: only its list items and glossary entries stay whole.
_SUMMARY_CSS = """
.jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output, section {
  break-inside: auto !important; break-before: auto !important; break-after: auto !important; }
.gaptools-summary li, .gaptools-glossary li { break-inside: avoid; }
.gaptools-glossary { font-size: 8pt; }
.gaptools-glossary ul { columns: 2; column-gap: 1.5em; }
"""


def chromium_path() -> str:
    """The Chromium to print with: ``$GAPTOOLS_CHROMIUM``, else Debian's ``chromium`` on the PATH."""
    found = os.environ.get("GAPTOOLS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise FileNotFoundError(f"no Chromium to print PDFs with (looked for {found}); install Debian's "
                                "chromium package or set GAPTOOLS_CHROMIUM")
    return found


@contextmanager
def browser():
    """One headless Chromium for printing many pages (closed on exit)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def print_pdf(html_path, pdf_path, *, summary: bool = False, chromium=None) -> Path:
    """Print one HTML report as an A4 PDF.

    Parameters
    ----------
    html_path : path
        A report page written by gaptools (self-contained HTML).
    pdf_path : path
        Where the PDF goes (written whole: a temporary file is moved into place).
    summary : bool
        Only the page's summary (at most :data:`SUMMARY_PAGES` pages); else the
        full report with every folded section open.
    chromium : Browser, optional
        An open :func:`browser` to reuse (printing many pages).

    Returns
    -------
    Path
        ``pdf_path``.
    """
    if chromium is None:
        with browser() as b:
            return print_pdf(html_path, pdf_path, summary=summary, chromium=b)
    from ..io.files import atomic_write_bytes

    pdf_path = Path(pdf_path)
    context = chromium.new_context(bypass_csp=True, offline=True)
    try:
        page = context.new_page()
        page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
        page.evaluate(_SUMMARY_ONLY if summary else _OPEN_DETAILS)
        if summary:
            page.add_style_tag(content=_SUMMARY_CSS)
        page.emulate_media(media="print")
        data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True,
                        margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
    finally:
        context.close()
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(pdf_path, data)
    return pdf_path


def notebook_pdf(notebook, pdf_path, *, summary: bool = False) -> Path:
    """An executed (saved) notebook as a PDF report, in one call.

    Parameters
    ----------
    notebook : path
        A notebook saved with its outputs (e.g. ``02_gap_analysis.ipynb`` after Run All).
    pdf_path : path
    summary : bool
        Only the summary (two A4 pages at most) instead of the full report.

    Returns
    -------
    Path

    Examples
    --------
    >>> import gaptools as gt                                  # doctest: +SKIP
    >>> gt.notebook_pdf("02_gap_analysis.ipynb", "gaps.pdf")   # doctest: +SKIP
    """
    import tempfile

    from .html import notebook_html

    with tempfile.TemporaryDirectory(prefix="gaptools-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(notebook_html(notebook), encoding="utf-8")
        return print_pdf(page, pdf_path, summary=summary)


def school_pdfs(folder, pages, *, chromium=None) -> list[Path]:
    """Print a school folder's reports: each page in full, and the summary of the gap analysis.

    Parameters
    ----------
    folder : path
        The school's output folder (its HTML pages are read, its PDFs written there).
    pages : list of str
        The page names without ``.html`` (``01_cohort_overview`` ...); the first
        page holding a summary box gives ``summary.pdf``.

    Returns
    -------
    list of Path
        The PDFs written.
    """
    if chromium is None:
        with browser() as b:
            return school_pdfs(folder, pages, chromium=b)
    folder = Path(folder)
    written = []
    for name in pages:
        html_path = folder / f"{name}.html"
        if html_path.is_file():
            written.append(print_pdf(html_path, folder / f"{name}.pdf", chromium=chromium))
    for name in pages:
        html_path = folder / f"{name}.html"
        if html_path.is_file() and 'class="gaptools-summary"' in html_path.read_text(encoding="utf-8"):
            written.append(print_pdf(html_path, folder / "summary.pdf", summary=True, chromium=chromium))
            break
    return written
