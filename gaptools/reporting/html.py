"""Executed notebooks to self-contained HTML reports (no code, nothing fetched)."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
from pathlib import Path

from ..domain.formatting import bidi_visible

TEMPLATES = Path(__file__).with_name("templates")
#: A school's pages (notebook and HTML names) and their titles, in reading order.
SCHOOL_PAGES = (("01_cohort_overview", "Know the cohort"), ("02_gap_analysis", "Find the gaps"),
                ("03_intervention_targeting", "Target the response"))
#: The in-year page (notebook 06), made only when a run is given assessments (``--assessments``).
IN_YEAR_PAGE = ("06_in_year", "The year so far")
#: The Content-Security-Policy of every report page: nothing is fetched, no script runs, and only
#: the page's own style blocks (by hash) apply. ``{styles}`` becomes their hashes.
CSP = ("default-src 'none'; img-src data:; font-src data:; style-src {styles}; script-src 'none'; "
       "connect-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'; object-src 'none'")
_CSP_MARK = "gaptools-csp-placeholder"
#: Elements that could fetch, navigate or change the page if text from data ever reached the body unescaped.
_ACTIVE = re.compile(r"<(/?)(meta|base|link|script|iframe|frame|object|embed|form|svg|math)\b", re.I)


def content_security_policy(page: str) -> str:
    """The CSP for ``page``: :data:`CSP` with a sha256 hash for each of its ``<style>`` blocks."""
    hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode() + "'"
                     for css in re.findall(r"<style[^>]*>(.*?)</style>", page, flags=re.S | re.I)})
    return CSP.format(styles=" ".join(hashes) or "'none'")


#: Cells with this tag run but never show: side outputs (results.json, targets.csv) a
#: notebook writes for the run, which a reader has no use for.
HIDDEN = "gaptools-hidden"
#: Cells with this tag make up a page's summary (the first screen, and the summary PDF).
SUMMARY = "summary"


#: One exporter per process, its templates compiled on first use: building one and compiling the
#: lab template for every page cost about as much as the page itself. An exporter keeps state
#: between the steps of a conversion (its filters), so conversions take turns under this lock.
_LOCK = threading.Lock()
_EXPORTERS: list = []  # the process's exporter, once built (a list: no rebinding of a global)


def _reset_after_fork() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # a child forked while another thread converted must not inherit a held lock


os.register_at_fork(after_in_child=_reset_after_fork)


#: A cell's or an output area's opening tag: made focusable (``tabindex``), so a reader moves
#: through the page, and scrolls a wide table, by keyboard.
_OUTPUT_DIV = re.compile(r'<div class="([^"<>]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b[^"<>]*)"'
                         r'(?![^<>]*tabindex)')


def _report_exporter_class():
    """nbconvert's HTML exporter without its final BeautifulSoup pass.

    That pass parses and re-serialises the whole page (about two thirds of a
    conversion) to add ``alt`` text to images and ``tabindex`` to output
    areas. Our template writes every chart's alt text itself, and the output
    areas get their ``tabindex`` from one substitution (:data:`_OUTPUT_DIV`).
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            lang = nb.metadata.get("language_info", {})
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lang.get("pygments_lexer", lang.get("name")),
                                                 parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _OUTPUT_DIV.sub(r'<div class="\1" tabindex="0"', page), resources

    return ReportExporter


def _exporter():
    """The process's exporter (call with ``_LOCK`` held)."""
    if not _EXPORTERS:
        from nbconvert.preprocessors import TagRemovePreprocessor

        exporter = _report_exporter_class()(
            template_name="gaptools_report", extra_template_basedirs=[str(TEMPLATES)],
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
            optimistic_validation=True)  # the notebook is checked once, not after every preprocessor
        exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={HIDDEN}), enabled=True)
        _EXPORTERS.append(exporter)
    return _EXPORTERS[0]


def exporters_built() -> int:
    """How many HTML exporters this process has built.

    Returns
    -------
    int
        0 before the first page, then 1: every later page reuses that exporter.
    """
    return len(_EXPORTERS)


def notebook_html(notebook, *, nav_html: str = "") -> str:
    """Render an executed notebook as a report: outputs and narrative only.

    Cells tagged ``gaptools-hidden`` are left out, and so is anything a cell
    wrote to stderr (warnings) and any error output: the page shows the
    report, never the machinery.

    Every text from data is escaped where the report builds it (tables,
    Markdown); as a second line of defence no ``<meta>``, ``<base>``,
    ``<link>``, ``<script>``, frame, object or form element can appear in the
    body, and the Content-Security-Policy allows only the page's own style
    blocks (by hash) and ``data:`` images.

    Parameters
    ----------
    notebook : path or NotebookNode
    nav_html : str
        Trusted HTML (already escaped) for a navigation line at the top and bottom.

    Returns
    -------
    str
        A complete HTML page that loads nothing from the network (see the template).

    Safe to call from several threads at once: the process has one exporter,
    built on first use, and conversions take turns with it.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, Path)) else notebook
    with _LOCK:  # one exporter for the process, its templates compiled once; safe from any thread
        page, _ = _exporter().from_notebook_node(nb, resources={"gaptools_nav": nav_html})
    head, sep, body = page.partition("<body")
    page = head + sep + _ACTIVE.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", body)
    page = bidi_visible(page)  # (a name from data never shows the rest of its line reversed)
    return page.replace(_CSP_MARK, content_security_policy(page))
