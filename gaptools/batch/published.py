"""The published benchmarks page of a run (notebook 05)."""
from __future__ import annotations

import time
from pathlib import Path


def run_published_notebook(folder, private: Path, published, school_ids, timeout: int = 600) -> dict:
    """Run notebooks/05 for the trust's schools that appear in the files (used by ``gaptools run``).

    Parameters
    ----------
    folder : gaptools.batch.outdir.OutputFolder
        The run's output folder (the page is written there).
    private : Path
        The run's private folder (the executed notebook and kernel files stay there).
    published : path or list of paths
    school_ids : iterable of str
    timeout : int
        Seconds any one cell may run.
    """
    from ..reporting.html import notebook_html
    from .kernels import execute_notebook, execution_error
    from .school import NOTEBOOK_DIR

    name = "05_published_benchmarks"
    paths = [str(Path(p).resolve()) for p in (published if isinstance(published, (list, tuple)) else [published])]
    executed = private / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        execute_notebook(NOTEBOOK_DIR / f"{name}.ipynb", executed,
                         {"published": paths, "school_ids": list(map(str, school_ids))},
                         cwd=str(NOTEBOOK_DIR), timeout=timeout, retries=2, runtime=str(private))
        page = notebook_html(executed, nav_html='<a href="../index.html">Trust index</a>')
        rel = folder.write_text(f"trust/{name}.html", page)
        return {"status": "ok", "error": None, "outputs": [rel], "duration_s": round(time.perf_counter() - start, 2)}
    except Exception as exc:
        return {"status": "failed", "error": execution_error(exc, name), "outputs": [],
                "duration_s": round(time.perf_counter() - start, 2)}
