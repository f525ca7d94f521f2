"""The published benchmarks page of a run (notebook 05)."""
from __future__ import annotations

import time
from pathlib import Path


def run_published_notebook(out: Path, published, school_ids) -> dict:
    """Run notebooks/05 for the trust's schools that appear in the files (used by ``gaptools run``)."""

    from ..io.files import atomic_write_text
    from ..reporting.html import notebook_html
    from .kernels import execute_notebook, execution_error
    from .school import NOTEBOOK_DIR

    name = "05_published_benchmarks"
    paths = [str(Path(p).resolve()) for p in (published if isinstance(published, (list, tuple)) else [published])]
    stage = out / ".gaptools" / "trust"
    stage.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        execute_notebook(NOTEBOOK_DIR / f"{name}.ipynb", stage / f"{name}.ipynb",
                 {"published": paths, "school_ids": list(map(str, school_ids))},
                 cwd=str(NOTEBOOK_DIR), timeout=600, retries=2)
        (out / "trust").mkdir(exist_ok=True)
        page = notebook_html(stage / f"{name}.ipynb", nav_html='<a href="../index.html">Trust index</a>')
        atomic_write_text(out / "trust" / f"{name}.html", page)
        return {"status": "ok", "error": None, "outputs": [f"trust/{name}.html"],
                "duration_s": round(time.perf_counter() - start, 2)}
    except Exception as exc:
        return {"status": "failed", "error": execution_error(exc, name), "outputs": [],
                "duration_s": round(time.perf_counter() - start, 2)}
