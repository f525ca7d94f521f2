"""Executed notebooks to self-contained HTML reports (no code, nothing fetched)."""
from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")

#: Cells with this tag run but never show: side outputs (results.json, targets.csv) a
#: notebook writes for the run, which a reader has no use for.
HIDDEN = "gaptools-hidden"
#: Cells with this tag make up a page's summary (the first screen, and the summary PDF).
SUMMARY = "summary"


def notebook_html(notebook, *, nav_html: str = "") -> str:
    """Render an executed notebook as a report: outputs and narrative only.

    Cells tagged ``gaptools-hidden`` are left out, and so is anything a cell
    wrote to stderr (warnings) and any error output: the page shows the
    report, never the machinery.

    Parameters
    ----------
    notebook : path or NotebookNode
    nav_html : str
        Trusted HTML (already escaped) for a navigation line at the top and bottom.

    Returns
    -------
    str
        A complete HTML page that loads nothing from the network (see the template).
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, Path)) else notebook
    exporter = HTMLExporter(template_name="gaptools_report", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={HIDDEN}), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"gaptools_nav": nav_html})
    return body
