"""One school's job: its notebooks, HTML pages and side outputs, in a folder moved into place whole."""
from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .kernels import execute_notebook, execution_error

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"


SCHOOL_NOTEBOOKS = (("01_cohort_overview", "Know the cohort"), ("02_gap_analysis", "Find the gaps"),
                    ("03_intervention_targeting", "Target the response"))


TRUST_NOTEBOOK = ("04_trust_overview", "Trust overview")


WORK = ".gaptools"


RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10)),
            "index.html", "manifest.json", WORK, "trust"}


@dataclass
class SchoolJob:
    """What one worker needs to produce one school's folder."""

    school_id: str
    school_name: str
    folder: str
    data: str            # the validated Parquet file
    out: str             # the run's output folder
    threshold: int = 6
    timeout: int = 600
    retries: int = 2
    notebook_dir: str = str(NOTEBOOK_DIR)
    current: str | None = None   # the current pupils' table, read where it is (never copied)
    mapping: str | None = None   # the mapping, for the current pupils' table


@dataclass
class SchoolOutcome:
    school_id: str
    school_name: str
    folder: str
    status: str                       # ok | failed | skipped
    error: str | None = None
    duration_s: float = 0.0
    outputs: list[str] = field(default_factory=list)
    input_hash: str | None = None


def safe_folder_names(school_ids) -> dict[str, str]:
    """A safe, unique folder name for every school id, whatever it contains.

    Plain ids (letters, digits, ``-_.``) are kept as they are; anything else is
    reduced to safe characters and given a short hash of the original, so two
    ids never share a folder, even on a case-insensitive file system.
    """
    out, taken = {}, set()
    for sid in sorted(map(str, school_ids)):
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", sid).strip("._-")[:48]
        plain = slug == sid and slug.lower() not in RESERVED and slug.lower() not in taken
        name = slug if plain and slug else f"{slug or 'school'}-{hashlib.sha1(sid.encode()).hexdigest()[:8]}"
        while name.lower() in taken:
            name += "_"
        taken.add(name.lower())
        out[sid] = name
    return out


# --------------------------------------------------------------- one school
def _nav(folder: str, current: str | None) -> str:
    links = ['<a href="../index.html">Trust index</a>']
    for name, title in SCHOOL_NOTEBOOKS:
        links.append(f"<strong>{html.escape(title)}</strong>" if name == current
                     else f'<a href="{name}.html">{html.escape(title)}</a>')
    return " · ".join(links)


def run_school(job: SchoolJob) -> SchoolOutcome:
    """Produce one school's folder: executed notebooks, HTML reports and side outputs.

    Safe to call in a worker process or on a Dask worker: it only reads
    ``job.data`` and writes under ``job.out``.
    """
    from ..reporting.html import notebook_html

    start = time.perf_counter()
    out = Path(job.out)
    stage = out / WORK / "stage" / job.folder
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "notebooks").mkdir(parents=True)
    params = {"data": job.data, "school_id": job.school_id, "year": None, "key_stage": None, "mapping": None,
              "suppression_threshold": job.threshold, "out_dir": str(stage)}
    if job.current:
        params.update(current=job.current, mapping=job.mapping)
    outcome = SchoolOutcome(job.school_id, job.school_name, job.folder, "ok")
    try:
        for name, _ in SCHOOL_NOTEBOOKS:
            executed = stage / "notebooks" / f"{name}.ipynb"
            try:
                execute_notebook(Path(job.notebook_dir) / f"{name}.ipynb", executed, params,
                         cwd=job.notebook_dir, timeout=job.timeout, retries=job.retries)
            except Exception as exc:
                outcome.status, outcome.error = "failed", execution_error(exc, name)
                break
            (stage / f"{name}.html").write_text(notebook_html(executed, nav_html=_nav(job.folder, name)),
                                                encoding="utf-8")
    except Exception as exc:  # a bug of ours must not take the other schools down
        outcome.status = "failed"
        outcome.error = f"{type(exc).__name__}: {exc} ({traceback.format_exc(limit=1).strip().splitlines()[-1]})"
    (stage / ".gaptools-analysis.pkl").unlink(missing_ok=True)  # shared by the notebooks, not an output
    if outcome.status == "ok":
        final = out / job.folder
        old = out / WORK / "old" / job.folder
        shutil.rmtree(old, ignore_errors=True)
        old.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.replace(final, old)
        os.replace(stage, final)   # the whole folder appears at once
        shutil.rmtree(old, ignore_errors=True)
        outcome.outputs = sorted(str(p.relative_to(out)) for p in final.rglob("*") if p.is_file())
    outcome.duration_s = round(time.perf_counter() - start, 2)
    return outcome
