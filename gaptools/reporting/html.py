"""Executed notebooks to self-contained HTML reports (no code, nothing fetched)."""
from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")


def notebook_html(notebook, *, nav_html: str = "") -> str:
    """Render an executed notebook as a report: outputs and narrative only.

    Parameters
    ----------
    notebook : path or NotebookNode
    nav_html : str
        Trusted HTML (already escaped) for a navigation line at the top.

    Returns
    -------
    str
        A complete HTML page that loads nothing from the network (see the template).
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, Path)) else notebook
    exporter = HTMLExporter(template_name="gaptools_report", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"gaptools_nav": nav_html})
    return body
