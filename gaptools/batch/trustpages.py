"""A run's trust pages: the overview of every school that succeeded (notebook 04, ``trust.csv``), its PDF,
and the published benchmarks page."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..io import progress
from .kernels import execute_notebook, execution_error
from .outdir import OutputFolder
from .school import NOTEBOOK_DIR, TRUST_NOTEBOOK, SchoolOutcome


def trust_overview(folder: OutputFolder, private: Path, outcomes: list[SchoolOutcome], threshold: int,
                   timeout: int, *, quiet: bool = True) -> dict:
    """Notebook 04 over exactly the schools given (their results.json copied to the private folder), and
    ``trust.csv`` beside it: the same decision list, every school, to sort and filter in a spreadsheet.
    Unless ``quiet``, a progress bar on stderr counts the notebook's cells (each a section, table or chart)
    as they run, then the page and the table as they are written."""
    from ..reporting.html import notebook_html
    from ..reporting.trust import TrustReport

    name, _ = TRUST_NOTEBOOK
    results = private / "results"
    start = time.perf_counter()
    for o in outcomes:
        (results / o.folder).mkdir(parents=True)
        shutil.copyfile(folder.path / o.folder / "results.json", results / o.folder / "results.json")
    executed = private / f"{name}.ipynb"
    try:
        execute_notebook(NOTEBOOK_DIR / f"{name}.ipynb", executed,
                         {"data": None, "mapping": None, "suppression_threshold": threshold,
                          "results_dir": str(results)}, cwd=str(NOTEBOOK_DIR), timeout=timeout, retries=2,
                         runtime=str(private), progress=None if quiet else "trust overview")
        with progress.shown(not quiet), progress.bar(2, "trust overview: writing", "file") as writing:
            page = notebook_html(executed, nav_html='<a href="../index.html">Trust index</a>')
            rel = folder.write_text(f"trust/{name}.html", page)
            writing.update()
            table = folder.write_text("trust/trust.csv", TrustReport(results_dir=results).support_csv())
            writing.update()
        return {"status": "ok", "error": None, "duration_s": round(time.perf_counter() - start, 2),
                "outputs": [rel, table]}
    except Exception as exc:
        return {"status": "failed", "error": execution_error(exc, name),
                "duration_s": round(time.perf_counter() - start, 2), "outputs": []}


def trust_pdf(folder: OutputFolder, private: Path, trust: dict) -> dict:
    """The trust overview as PDF beside its page (no pupil data is on it)."""
    from ..reporting.pdf import print_pdf

    name, _ = TRUST_NOTEBOOK
    try:
        printed = print_pdf(folder.path / "trust" / f"{name}.html", private / f"{name}.pdf")
        rel = folder.write_bytes(f"trust/{name}.pdf", printed.read_bytes())
    except Exception as exc:
        return {**trust, "status": "failed", "error": f"printing the PDF failed: {type(exc).__name__}: {exc}"}
    return {**trust, "outputs": [*trust["outputs"], rel]}


def published_page(folder: OutputFolder, private: Path, published, school_ids, timeout: int) -> dict:
    """The published benchmarks page (DfE performance tables) of the schools asked for."""
    from .published import run_published_notebook

    return run_published_notebook(folder, private, published, school_ids, timeout)
