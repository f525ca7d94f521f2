"""One school's job: its notebooks, HTML pages and side outputs, built in a stage folder.

A job only builds; the runner alone moves a finished stage into the output
folder (see :mod:`gaptools.batch.outdir`), so every change to the output
folder happens in one place, in order, under the run's lock.
"""
from __future__ import annotations

import hashlib
import html
import re
import shutil
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..domain.suppression import DEFAULT_THRESHOLD
from ..reporting.html import IN_YEAR_PAGE, SCHOOL_PAGES
from .in_year import listed
from .kernels import Stopped, execute_notebook, execution_error

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"


SCHOOL_NOTEBOOKS = SCHOOL_PAGES


TRUST_NOTEBOOK = ("04_trust_overview", "Trust overview")


WORK = ".gaptools"


RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10)),
            "index.html", "manifest.json", "manifest.journal.jsonl", WORK, "trust", "governors"}

#: A school's status when its pages are complete but its PDFs could not be printed (its HTML is kept).
PDF_FAILED = "ok, PDF failed"


@dataclass
class SchoolJob:
    """What one worker needs to produce one school's folder."""

    school_id: str
    school_name: str
    folder: str
    data: str            # the run's validated table, one file a school (a folder in the run's private folder)
    stage: str           # where to build the school's folder (inside the output folder's work area)
    threshold: int = DEFAULT_THRESHOLD
    year: int | None = None
    timeout: int = 600
    retries: int = 2
    notebook_dir: str = str(NOTEBOOK_DIR)
    scratch: str | None = None   # parent of the job's private folder (None: the system's temp folder)
    current: str | None = None   # the school's rows of the current pupils (a validated file in the private folder)
    mapping: str | None = None   # the mapping, for the current pupils' table
    pdf: bool = False            # also print each page, and the school's summary, as PDF
    assessments: str | None = None          # the school's data drops (notebooks 02, 06; in the private folder)
    assessments_mapping: str | None = None  # the mapping for the assessments export
    targets: str | None = None              # the previous run's pupil list (targets.csv) of this school
    activities: str | None = None          # the activity register, read where it is (never copied)
    activities_mapping: str | None = None  # the mapping of the register's columns
    one_school: bool = False     # the data holds this school alone: its pages speak of no trust


@dataclass
class SchoolOutcome:
    school_id: str
    school_name: str
    folder: str
    status: str                       # ok | ok, PDF failed | failed | interrupted
    error: str | None = None
    duration_s: float = 0.0
    outputs: list[str] = field(default_factory=list)
    input_hash: str | None = None


#: The files of a school's folder that name pupils (the targeting page in every form, the pupil list):
#: its owner's alone (0600). Every other file is made to be shared and follows the user's umask.
PUPIL_LEVEL_PAGE = "03_intervention_targeting"
PUPIL_LEVEL_FILES = ("targets.csv", "targets.xlsx")


def names_pupils(name: str) -> bool:
    """Whether the school folder's file ``name`` (any sub-folder) is pupil-level: see :data:`PUPIL_LEVEL_FILES`."""
    path = Path(name)
    return path.stem == PUPIL_LEVEL_PAGE or path.name in PUPIL_LEVEL_FILES


def set_modes(stage: Path) -> None:
    """Every file of a built school folder gets the mode its content calls for (:func:`names_pupils`)."""
    from ..io.files import set_mode

    for path in stage.rglob("*"):
        if path.is_file() and not path.is_symlink():
            set_mode(path, private=names_pupils(path.relative_to(stage).as_posix()))


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


def school_parameters(job: SchoolJob, data: str, out_dir: str) -> dict:
    """The parameters every school notebook (01-03) receives: built here and nowhere else."""
    params = {"data": data, "school_id": job.school_id, "year": job.year, "key_stage": None, "mapping": None,
              "suppression_threshold": job.threshold, "out_dir": out_dir}
    if job.current:
        params.update(current=job.current, mapping=job.mapping)
    if job.assessments:
        params.update(assessments=job.assessments, assessments_mapping=job.assessments_mapping, targets=job.targets,
                      school_name=job.school_name)
    if job.activities:
        params.update(activities=job.activities, activities_mapping=job.activities_mapping)
    return params


#: The parameters notebook 06 declares (it reads the assessments, not the pupil table).
IN_YEAR_PARAMETERS = ("assessments", "school_id", "school_name", "assessments_mapping", "targets",
                      "suppression_threshold", "out_dir")


def school_pages(job: SchoolJob) -> tuple:
    """The pages of a school's folder: 01-03, and 06 when the run has assessments."""
    return SCHOOL_NOTEBOOKS + ((IN_YEAR_PAGE,) if job.assessments else ())


# --------------------------------------------------------------- one school
def _for(notebook: str, params: dict) -> dict:
    """The parameters ``notebook`` declares: those of :data:`ONLY_IN` go only to the notebooks named there
    (papermill warns of a parameter a notebook does not declare); notebook 06 takes only its own."""
    if notebook == IN_YEAR_PAGE[0]:
        return {k: v for k, v in params.items() if k in IN_YEAR_PARAMETERS}
    return {k: v for k, v in params.items() if notebook.startswith(ONLY_IN.get(k, "0"))}


#: Parameters that only some notebooks declare, and which (the start of their names).
ONLY_IN = {"current": ("01", "03"), "activities": ("02", "03"), "activities_mapping": ("02", "03"),
           "assessments": ("02", "06"), "assessments_mapping": ("02", "06"), "targets": ("06",),
           "school_name": ("06",)}


def _nav(folder: str, current: str | None, pages=SCHOOL_NOTEBOOKS, one_school: bool = False) -> str:
    links = [f'<a href="../index.html">{"Index" if one_school else "Trust index"}</a>']
    for name, title in pages:
        links.append(f"<strong>{html.escape(title)}</strong>" if name == current
                     else f'<a href="{name}.html">{html.escape(title)}</a>')
    return " · ".join(links)


#: A job's fields naming a school's own file of an input in the run's private folder (sent with ``data``).
INPUT_FIELDS = ("current", "assessments")


def run_school(job: SchoolJob, data: bytes | None = None, inputs: dict[str, bytes] | None = None) -> SchoolOutcome:
    """Build one school's folder in ``job.stage``: executed notebooks, HTML reports, side outputs.

    Safe in a thread, a worker process or on a Dask worker. The notebooks'
    working files (the shared analysis cache, kernel connection files) stay
    in a private folder removed before returning; ``job.stage`` receives only
    the school's outputs. On failure ``job.stage`` is removed.

    Parameters
    ----------
    job : SchoolJob
    data : bytes, optional
        This school's validated file's bytes (its rows and the trust's context for them),
        for a worker that cannot read ``job.data`` (a Dask worker on another machine).
    inputs : dict, optional
        With ``data``: the bytes of the school's own files of the current pupils and the data drops
        (:data:`INPUT_FIELDS`), which such a worker cannot read either.
    """
    from ..reporting.html import notebook_html
    from .workspace import private_folder

    start = time.perf_counter()
    stage = Path(job.stage)
    outcome = SchoolOutcome(job.school_id, job.school_name, job.folder, "ok")
    try:
        with private_folder(job.scratch) as private:
            data_path = job.data
            if data is not None:
                data_path = str(private / "pupils.parquet")
                Path(data_path).write_bytes(data)
            if inputs:  # (a Dask worker that cannot see the run's private folder)
                for name, blob in inputs.items():
                    (private / f"{name}.parquet").write_bytes(blob)
                job = replace(job, current=str(private / "current.parquet") if "current" in inputs else job.current,
                              assessments=str(private / "assessments.parquet") if "assessments" in inputs
                              else job.assessments)
            work = private / "outputs"
            work.mkdir()
            shutil.rmtree(stage, ignore_errors=True)
            (stage / "notebooks").mkdir(parents=True)
            params = school_parameters(job, data_path, str(work))
            pages = school_pages(job)
            for name, _ in pages:
                if name == IN_YEAR_PAGE[0] and not job.targets:  # no earlier list: this run's own, if anyone
                    params["targets"] = listed(work / "targets.csv")
                executed = stage / "notebooks" / f"{name}.ipynb"
                try:
                    execute_notebook(Path(job.notebook_dir) / f"{name}.ipynb", executed, _for(name, params),
                                     cwd=job.notebook_dir, timeout=job.timeout, retries=job.retries,
                                     runtime=str(private))
                except Stopped:
                    outcome.status, outcome.error = "interrupted", "interrupted before it finished"
                    break
                except Exception as exc:
                    outcome.status, outcome.error = "failed", execution_error(exc, name)
                    break
                (stage / f"{name}.html").write_text(notebook_html(executed, nav_html=_nav(job.folder, name, pages,
                                                                                          job.one_school)),
                                                    encoding="utf-8")
            if outcome.status == "ok":
                for path in sorted(work.iterdir()):  # results.json, targets.csv, strategy.md
                    if path.is_file() and not path.name.startswith("."):  # not the notebooks' shared cache
                        shutil.copyfile(path, stage / path.name)
                if job.pdf:
                    from ..reporting.pdf import school_pdfs

                    try:
                        school_pdfs(stage, [name for name, _ in pages])
                    except Exception as exc:  # the pages are there: kept, and the missing PDFs said
                        for stale in stage.glob("*.pdf"):
                            stale.unlink()
                        outcome.status = PDF_FAILED
                        outcome.error = f"printing the PDF reports failed: {type(exc).__name__}: {exc}"
    except OSError as exc:  # a full disk, a read-only folder
        outcome.status = "failed"
        outcome.error = f"could not write {exc.filename or 'the reports'}: {exc.strerror or exc}"
    except Exception as exc:  # a bug of ours must not take the other schools down
        outcome.status = "failed"
        outcome.error = f"{type(exc).__name__}: {exc} ({traceback.format_exc(limit=1).strip().splitlines()[-1]})"
    if outcome.status in ("ok", PDF_FAILED):
        try:
            set_modes(stage)
        except OSError as exc:
            outcome.status = "failed"
            outcome.error = f"could not set who may read {exc.filename or 'the reports'}: {exc.strerror or exc}"
    if outcome.status not in ("ok", PDF_FAILED):
        shutil.rmtree(stage, ignore_errors=True)
    else:
        outcome.outputs = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    outcome.duration_s = round(time.perf_counter() - start, 2)
    return outcome
