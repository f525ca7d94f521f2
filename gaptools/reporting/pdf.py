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

import asyncio
import os
import re
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..io.shared import Shared

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, PdfMargins, Playwright

#: Chromium's flags: no sandbox (containers), no GPU, nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

#: At most this many A4 pages for a summary PDF; one that runs over is printed again at these scales in turn.
SUMMARY_PAGES = 2
SUMMARY_SCALES = (0.92, 0.85, 0.78)


def page_count(pdf: bytes) -> int:
    """How many pages a PDF Chromium printed has (its page objects are written as plain dictionaries)."""
    import re

    return len(re.findall(rb"/Type\s*/Page\b", pdf))

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
# A governors' summary (reporting/governors.py): the summary box first, then the method (the page's
# opening cell, under a heading of its own) and the glossary; nothing else.
_GOVERNORS_ONLY = """() => {
  const cells = Array.from(document.querySelectorAll('.jp-Cell'));
  if (!document.querySelector('.gaptools-governors')) return false;
  const boxes = cells.filter(c => c.querySelector('.gaptools-summary'));
  const method = cells.find(c => c.querySelector('h1'));
  const words = cells.filter(c => c.querySelector('.gaptools-glossary'));
  const parent = boxes[0].parentElement;
  for (const cell of cells) if (!boxes.includes(cell)) cell.remove();
  if (method) {
    const h1 = method.querySelector('h1');
    const h2 = document.createElement('h2');
    h2.textContent = 'How these figures are made';
    h1.replaceWith(h2);
    method.classList.add('gaptools-method');
    parent.appendChild(method);
  }
  for (const cell of words) parent.appendChild(cell);
  return true;
}"""
_OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => d.open = true)"
# Tables fit the paper: cells wrap at spaces rather than run past the right margin, a long table flows
# on to the next page (its heading row repeated; a row is never split), and a page whose widest table
# has more than WIDE_TABLE columns (the pupil list) is printed landscape.
WIDE_TABLE = 9
_FIT_CSS = """
.jp-OutputArea-output { overflow: visible !important; }
.jp-OutputArea-output table { width: 100% !important; max-width: 100% !important; table-layout: auto;
  font-size: 7.5pt !important; break-inside: auto !important; }
.jp-OutputArea-output th, .jp-OutputArea-output td { overflow-wrap: break-word; word-break: normal;
  padding: 1px 4px !important; white-space: normal !important; }
.jp-OutputArea-output thead { display: table-header-group; }
.jp-OutputArea-output tr { break-inside: avoid; }
"""
_WIDEST = ("() => Math.max(0, ...Array.from(document.querySelectorAll('table')).map(t => "
           "t.rows.length ? t.rows[0].cells.length : 0))")
# A summary flows on as few pages as it can: only its list items and glossary entries stay whole.
_SUMMARY_CSS = """
.jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output, section {
  break-inside: auto !important; break-before: auto !important; break-after: auto !important; }
.gaptools-summary li, .gaptools-glossary li { break-inside: avoid; }
.gaptools-summary { font-size: 9.5pt; }
.gaptools-summary h2 { font-size: 15pt; } .gaptools-summary h3 { font-size: 11.5pt; margin: 0.6em 0 0.3em; }
.gaptools-governors h2 { margin-top: 0; }
.gaptools-governors li { margin-bottom: 0.25em; }
.gaptools-method, .gaptools-method p, .gaptools-glossary, .gaptools-glossary li { font-size: 7.5pt !important;
  line-height: 1.3 !important; }
.gaptools-method h2, .gaptools-glossary h2 { font-size: 11pt !important; margin: 0.5em 0 0.2em; }
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


def check_printer() -> None:
    """Raise :class:`gaptools.errors.UsageError` (saying how to install it) unless PDFs can be printed.

    Run before any work, so that a run asked for PDFs does not analyse every
    school only to fail at the first print.
    """
    from ..errors import UsageError

    try:
        chromium_path()
    except FileNotFoundError as exc:
        raise UsageError(f"--pdf: {exc}. On Debian or Ubuntu: sudo apt-get install chromium; or leave out --pdf "
                         "(the HTML reports need no browser)") from None
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise UsageError("--pdf: the Python package playwright is missing (pip install playwright); or leave "
                         "out --pdf") from None


#: How long one batch of pages may take to print before the caller gives up (a hung browser).
PRINT_TIMEOUT_S = 300.0
_MARGIN: PdfMargins = {"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"}


class Printer:
    """One headless Chromium that prints pages for every thread of this process, several at once.

    Playwright's synchronous API belongs to the thread that opened it, so a
    browser per school thread would be launched again for every school. Here
    the browser lives on a thread of its own, driven by Playwright's asyncio
    API: any thread hands it a batch of pages (:meth:`print_pages`) and
    waits; batches from different threads print side by side, each on its
    own browser page. Launched on first use; :meth:`close` stops it.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="gaptools-printer", daemon=True)
                thread.start()
                try:
                    asyncio.run_coroutine_threadsafe(self._open(), loop).result(PRINT_TIMEOUT_S)
                except BaseException:
                    self._stop(loop, thread)
                    raise
                self._loop, self._thread = loop, thread
            return self._loop

    async def _open(self) -> None:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(executable_path=chromium_path(),
                                                                   args=CHROMIUM_ARGS)
            # offline: nothing is fetched; bypass_csp: the pages' own policy forbids our print scripts
            self._context = await self._browser.new_context(bypass_csp=True, offline=True)
        except BaseException:
            await self._shut()
            raise

    async def _shut(self) -> None:
        for step in (self._browser.close if self._browser else None,
                     self._playwright.stop if self._playwright else None):
            if step is not None:
                try:
                    await step()
                except Exception:  # already gone: nothing more to stop
                    pass
        self._playwright = self._browser = self._context = None

    async def _print(self, pages: list[tuple[Path, bool]]) -> list[bytes]:
        assert self._context is not None  # (run on the loop _started gives, once the browser is open)
        page = await self._context.new_page()  # one tab for the batch: a tab costs a renderer's start
        try:
            printed = []
            for html_path, summary in pages:
                await page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
                if not summary or not await page.evaluate(_GOVERNORS_ONLY):
                    await page.evaluate(_SUMMARY_ONLY if summary else _OPEN_DETAILS)
                if summary:
                    await page.add_style_tag(content=_SUMMARY_CSS)
                else:
                    wide = await page.evaluate(_WIDEST) > WIDE_TABLE
                    await page.add_style_tag(content=_FIT_CSS + ("@page { size: A4 landscape; }" if wide else ""))
                await page.emulate_media(media="print")
                data = await page.pdf(format="A4", print_background=True, prefer_css_page_size=True, margin=_MARGIN)
                for scale in (SUMMARY_SCALES if summary else ()):  # a summary that runs over: printed smaller
                    if page_count(data) <= SUMMARY_PAGES:
                        break
                    data = await page.pdf(format="A4", print_background=True, prefer_css_page_size=True,
                                          margin=_MARGIN, scale=scale)
                printed.append(data)
            return printed
        finally:
            await page.close()

    def print_pages(self, pages: list[tuple[Path, bool]]) -> list[bytes]:
        """Print each ``(html_path, summary)`` as A4 PDF bytes, in order (from any thread)."""
        loop = self._started()
        return asyncio.run_coroutine_threadsafe(self._print(list(pages)), loop).result(PRINT_TIMEOUT_S)

    @staticmethod
    def _stop(loop, thread) -> None:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        if not thread.is_alive():
            loop.close()

    def close(self) -> None:
        """Close the browser and stop its thread (a printer is launched again if used again)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
            if loop is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._shut(), loop).result(60)
            except Exception:  # a browser that will not close is killed with its driver at our exit
                pass
            self._stop(loop, thread)


_SHARED: Shared[Printer] = Shared(Printer, Printer.close)


class printing:
    """``with printing() as printer:`` every PDF printed in this process meanwhile shares one browser.

    A run wraps itself in this, so a trust's schools and its overview are
    printed by one Chromium (launched at the first page) instead of one each.
    Nested uses share it; the last one out closes it.
    """

    def __enter__(self) -> Printer:
        return _SHARED.acquire()

    def __exit__(self, *exc) -> None:
        _SHARED.release()


def _print_all(pages: list[tuple[Path, bool]]) -> list[bytes]:
    """Print with the shared browser when inside :class:`printing`, else with one of its own."""
    with printing() as printer:
        return printer.print_pages(pages)


def print_pdf(html_path, pdf_path, *, summary: bool = False) -> Path:
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

    Returns
    -------
    Path
        ``pdf_path``.
    """
    from ..io.files import atomic_write_bytes

    [data] = _print_all([(Path(html_path), summary)])
    pdf_path = Path(pdf_path)
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


def school_pdfs(folder, pages) -> list[Path]:
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
    from ..io.files import atomic_write_bytes

    folder = Path(folder)
    jobs = [(folder / f"{name}.html", folder / f"{name}.pdf", False) for name in pages
            if (folder / f"{name}.html").is_file()]
    for name in pages:
        html_path = folder / f"{name}.html"
        if html_path.is_file() and re.search(r'class="gaptools-summary[ "]', html_path.read_text(encoding="utf-8")):
            jobs.append((html_path, folder / "summary.pdf", True))
            break
    printed = _print_all([(html_path, summary) for html_path, _, summary in jobs])
    for (_, pdf_path, _), data in zip(jobs, printed):
        atomic_write_bytes(pdf_path, data)
    return [pdf_path for _, pdf_path, _ in jobs]
