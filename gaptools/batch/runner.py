"""``gaptools run``: every school's reports, a trust overview, and nothing lost when one school fails."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..domain.columns import NAME_COLUMNS
from ..errors import DataValidationError, Problem
from ..io.files import atomic_write_text
from .index import render_index
from .kernels import execute_notebook, execution_error
from .school import (
    NOTEBOOK_DIR,
    SCHOOL_NOTEBOOKS,
    TRUST_NOTEBOOK,
    WORK,
    SchoolJob,
    SchoolOutcome,
    run_school,
    safe_folder_names,
)
from .validate import problems_text, validate_by_school


# --------------------------------------------------------------- the run
def _default_workers() -> int:
    cpus = os.cpu_count() or 1
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_memory = max(1, int(avail // (1.5 * 2 ** 30)))  # a kernel with a trust loaded: ~1.5 GiB at most
    except (ValueError, OSError, AttributeError):
        by_memory = cpus
    return max(1, min(cpus, by_memory))


def _hash_inputs(data_file: Path, threshold: int, notebook_dir: Path, current: Path | None = None) -> str:
    """What a school's outputs depend on: all the data (value added and the gap
    index are relative to the trust), the current pupils, the threshold, the templates, the version
    and the reference data (national figures)."""
    h = hashlib.sha256()
    h.update(data_file.read_bytes())
    for f in ([current] if current and current.is_file() else sorted(current.rglob("*")) if current else []):
        if f.is_file():
            h.update(f.read_bytes())
    h.update(str(threshold).encode())
    for name, _ in SCHOOL_NOTEBOOKS:
        h.update((notebook_dir / f"{name}.ipynb").read_bytes())
    from .. import __version__
    from ..domain.reference import reference_fingerprint
    h.update(__version__.encode())
    h.update(reference_fingerprint().encode())  # national figures imported since change the reports
    return h.hexdigest()[:16]




def _complete(out: Path, outcome: dict) -> bool:
    return outcome.get("status") == "ok" and all((out / f).is_file() for f in outcome.get("outputs", [])) \
        and bool(outcome.get("outputs"))


def run(data, out, *, mapping=None, schools=None, workers: int | None = None, scheduler: str | None = None,
        resume: bool = False, quiet: bool = False, threshold: int = 6, timeout: int = 600,
        published=None, notebook_dir=None, current=None) -> dict:
    """Run every school's notebooks and build the trust index.

    Parameters
    ----------
    data : path or DataFrame
        The pupil table (file or folder).
    out : path
        Output folder (created).
    mapping : path, optional
    schools : list of str, optional
        Only these school ids.
    workers : int, optional
        Size of the local pool (default: CPU count, bounded by memory).
    scheduler : str, optional
        Address of a Dask distributed scheduler: run school jobs there instead.
    resume : bool
        Skip schools whose outputs are complete and whose inputs have not changed.
    quiet : bool
        No progress bar (for logs).
    threshold : int, default 6
    timeout : int, default 600
        Seconds any one notebook cell may run.
    published : path or list of paths, optional
        DfE performance-table CSVs for the published benchmarks page.
    notebook_dir : path, optional
        A folder of (customised) notebook templates with the same names.
    current : path, optional
        The pupils on roll now (same contract and mapping as ``data``), for the
        pupil lists. Validated first (any problem stops the run with
        :class:`DataValidationError`); read by each school's notebook from where
        it is, never copied into ``out``.

    Returns
    -------
    dict
        The manifest (also written to ``out/manifest.json``).
    """
    from ..io.loading import save_validated

    out = Path(out).resolve()  # every path resolved once: nothing depends on the process's directory later
    out.mkdir(parents=True, exist_ok=True)
    (out / WORK).mkdir(exist_ok=True)
    started = time.perf_counter()
    current = _validated_current(current, mapping)
    pupils, failures = validate_by_school(data, mapping)
    data_file = out / WORK / "pupils.parquet"
    names: dict[str, str] = {}
    if pupils is not None:
        save_validated(pupils.drop(columns=list(NAME_COLUMNS), errors="ignore"), data_file)  # names stay out
        names = pupils.groupby("school_id")["school_name"].first().astype(str).to_dict()
    wanted = None if not schools else {str(s) for s in schools}
    all_ids = sorted(set(names) | set(failures))
    if wanted is not None:
        unknown = wanted - set(all_ids)
        for sid in sorted(unknown):
            failures[sid] = [Problem(None, None, None, sid, "this school id is not in the data")]
        all_ids = sorted(wanted)
    folders = safe_folder_names(all_ids)
    manifest_path = out / "manifest.json"
    previous = {}
    if resume and manifest_path.is_file():
        try:
            previous = json.loads(manifest_path.read_text(encoding="utf-8")).get("schools", {})
        except json.JSONDecodeError:
            previous = {}
    input_hash = _hash_inputs(data_file, threshold, Path(notebook_dir or NOTEBOOK_DIR), current) \
        if pupils is not None else None
    outcomes: dict[str, SchoolOutcome] = {}
    jobs = []
    for sid in all_ids:
        if sid in failures:
            outcomes[sid] = SchoolOutcome(sid, names.get(sid, sid), folders[sid], "failed",
                                          problems_text(failures[sid]))
            continue
        prev = previous.get(sid)
        if resume and prev and prev.get("input_hash") == input_hash and _complete(out, prev):
            outcomes[sid] = SchoolOutcome(**{**{k: prev.get(k) for k in ("school_id", "school_name", "folder",
                                                                           "outputs", "duration_s")},
                                             "status": "ok", "error": None, "input_hash": input_hash})
            outcomes[sid].duration_s = 0.0
            continue
        jobs.append(SchoolJob(sid, names[sid], folders[sid], str(data_file.resolve()), str(out.resolve()),
                              threshold, timeout, notebook_dir=str(Path(notebook_dir or NOTEBOOK_DIR).resolve()),
                              current=str(current) if current else None,
                              mapping=str(Path(mapping).resolve()) if current and isinstance(mapping, (str, Path)) else None))
    skipped = len(all_ids) - len(jobs) - sum(o.status == "failed" for o in outcomes.values())
    for outcome in _dispatch(jobs, workers=workers, scheduler=scheduler, quiet=quiet,
                             already_failed=sum(o.status == "failed" for o in outcomes.values()), skipped=skipped):
        outcome.input_hash = input_hash if outcome.status == "ok" else None
        outcomes[outcome.school_id] = outcome
    trust = _trust_overview(out, threshold, timeout) if any(o.status == "ok" for o in outcomes.values()) else \
        {"status": "skipped", "error": "no school succeeded"}
    if published:
        trust["published"] = _published_page(out, published, [s for s in all_ids if s in names])
    manifest = {
        "schema_version": 1,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": str(data) if not isinstance(data, pd.DataFrame) else "<DataFrame>",
        "suppression_threshold": threshold,
        "duration_s": round(time.perf_counter() - started, 2),
        "trust": trust,
        "schools": {sid: asdict(outcomes[sid]) for sid in all_ids},
    }
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1, ensure_ascii=False))
    atomic_write_text(out / "index.html", render_index(out, manifest))
    shutil.rmtree(out / WORK / "stage", ignore_errors=True)
    shutil.rmtree(out / WORK / "old", ignore_errors=True)
    return manifest


def _validated_current(current, mapping) -> Path | None:
    """The current-pupils table's resolved path, once it passes the same validation as the main table."""
    if current is None:
        return None
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.loading import load_pupils

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        load_pupils(current, mapping)  # raises DataValidationError naming file, line, column and value
    return Path(current).resolve()


def _dispatch(jobs, *, workers, scheduler, quiet, already_failed=0, skipped=0):
    """Run the jobs (locally or on Dask), yielding outcomes as they finish, with a progress bar."""
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), unit="school", disable=quiet or not jobs, file=sys.stderr,
               desc="schools", dynamic_ncols=True)
    failed = already_failed

    def tick(outcome):
        nonlocal failed
        failed += outcome.status == "failed"
        bar.update(1)
        bar.set_postfix(done=bar.n, failed=failed, remaining=bar.total - bar.n, skipped=skipped)
        if quiet:
            print(f"{outcome.school_id}: {outcome.status} ({outcome.duration_s:.1f}s)"
                  + (f": {outcome.error}" if outcome.error else ""), file=sys.stderr)

    try:
        if not jobs:
            return
        if scheduler:
            from distributed import Client, as_completed

            with Client(scheduler, timeout="30s") as client:
                futures = client.map(run_school, jobs, pure=False, key=[f"gaptools-{j.folder}" for j in jobs])
                for fut in as_completed(futures):
                    try:
                        outcome = fut.result()
                    except Exception as exc:  # the worker itself died
                        job = jobs[futures.index(fut)]
                        outcome = SchoolOutcome(job.school_id, job.school_name, job.folder, "failed",
                                                f"the Dask worker failed: {type(exc).__name__}: {exc}")
                    tick(outcome)
                    yield outcome
        else:
            from concurrent.futures import ThreadPoolExecutor
            from concurrent.futures import as_completed as done

            # threads suffice: each notebook runs in its own kernel process
            n = max(1, min(workers or _default_workers(), len(jobs)))
            with ThreadPoolExecutor(max_workers=n) as pool:
                futures = {pool.submit(run_school, j): j for j in jobs}
                for fut in done(futures):
                    outcome = fut.result()
                    tick(outcome)
                    yield outcome
    finally:
        bar.close()


def _trust_overview(out: Path, threshold: int, timeout: int) -> dict:
    from ..reporting.html import notebook_html

    name, title = TRUST_NOTEBOOK
    stage = out / WORK / "trust"
    stage.mkdir(parents=True, exist_ok=True)
    executed = stage / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        execute_notebook(NOTEBOOK_DIR / f"{name}.ipynb", executed,
                 {"data": None, "mapping": None, "suppression_threshold": threshold,
                  "results_dir": str(out.resolve())}, cwd=str(NOTEBOOK_DIR), timeout=timeout, retries=2)
        (out / "trust").mkdir(exist_ok=True)
        page = notebook_html(executed, nav_html='<a href="../index.html">Trust index</a>')
        atomic_write_text(out / "trust" / f"{name}.html", page)
        return {"status": "ok", "error": None, "duration_s": round(time.perf_counter() - start, 2),
                "outputs": [f"trust/{name}.html"]}
    except Exception as exc:
        return {"status": "failed", "error": execution_error(exc, name),
                "duration_s": round(time.perf_counter() - start, 2), "outputs": []}


def _published_page(out: Path, published, school_ids) -> dict:
    try:
        from .published import run_published_notebook
    except ImportError:
        return {"status": "failed", "error": "published benchmarks are not available in this version"}
    return run_published_notebook(out, published, school_ids)


def run_cli(args) -> int:
    """``gaptools run`` (see data contract §4)."""
    schools = [s.strip() for s in args.schools.split(",") if s.strip()] if args.schools else None
    if args.workers is not None and args.workers < 1:
        print("gaptools: error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        manifest = run(args.data, args.out, mapping=args.mapping, schools=schools, workers=args.workers,
                       scheduler=args.scheduler, resume=args.resume, quiet=args.quiet,
                       published=getattr(args, "published", None), current=getattr(args, "current", None))
    except DataValidationError as err:  # the mapping file itself, or the current pupils, are broken: nothing can run
        for p in err.problems:
            print(p, file=sys.stderr)
        return 2 if not getattr(args, "current", None) or any(p.file == str(args.mapping) for p in err.problems) \
            else 1
    statuses = [s["status"] for s in manifest["schools"].values()]
    failed = [sid for sid, s in manifest["schools"].items() if s["status"] == "failed"]
    print(f"{len(statuses)} schools: {statuses.count('ok')} ok, {len(failed)} failed; "
          f"trust overview {manifest['trust']['status']}; {manifest['duration_s']:.0f}s. Open {Path(args.out) / 'index.html'}")
    for sid in failed:
        print(f"  failed {sid}: {manifest['schools'][sid]['error']}", file=sys.stderr)
    return 1 if failed or manifest["trust"]["status"] == "failed" else 0
