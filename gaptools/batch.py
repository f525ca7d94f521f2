"""``gaptools run``: every school's reports, a trust overview, and nothing lost when one school fails.

The data are validated once. A school whose rows break the data contract is
recorded as failed with its problems; every other school goes on. Each school's
notebooks (01-03) run through papermill's Python API, each in its own kernel,
in a local pool of workers or on a Dask ``distributed`` cluster; executed
notebooks become self-contained HTML reports. A school's folder is built aside
and moved into place whole, so no half-written report ever looks finished.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .errors import DataValidationError, Problem

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
SCHOOL_NOTEBOOKS = (("01_cohort_overview", "Know the cohort"), ("02_gap_analysis", "Find the gaps"),
                    ("03_intervention_targeting", "Target the response"))
TRUST_NOTEBOOK = ("04_trust_overview", "Trust overview")
WORK = ".gaptools"
#: Errors from starting a kernel that are worth another try (port races, slow start-up).
RETRYABLE = ("Kernel didn't respond", "Kernel died before replying", "Address already in use",
             "ZMQError", "kernel_info", "Timeout waiting for", "Kernel not responding")
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


# --------------------------------------------------------------- validation
def validate_by_school(data, mapping=None) -> tuple[pd.DataFrame | None, dict[str, list[Problem]]]:
    """Validate the data once, setting aside any school whose rows are invalid.

    Returns
    -------
    (DataFrame or None, dict)
        The valid schools' pupils, and for each failed school id (or file
        name, where no school can be told) the problems found.
    """
    import warnings

    from .errors import GaptoolsWarning
    from .loading import _rename, _sources, load_pupils
    from .mapping import load_mapping
    from .readers import read_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        try:
            return load_pupils(data, mapping), {}
        except DataValidationError as err:
            first = err
    mapping = load_mapping(mapping)
    failures: dict[str, list[Problem]] = {}
    frames = []
    by_file: dict[str, list[Problem]] = {}
    for p in first.problems:
        by_file.setdefault(p.file or "<input>", []).append(p)
    for name, src in _sources(data):
        problems = by_file.get(name, [])
        if not problems:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", GaptoolsWarning)
                frames.append(load_pupils(src, mapping))
            continue
        raw = src if isinstance(src, pd.DataFrame) else read_table(src, name)[0]
        sid = None
        if raw is not None:
            part, _ = _rename(name, raw, mapping)
            if "school_id" in part.frame.columns:
                sid = part.frame["school_id"].astype(str).str.strip()
            elif mapping is not None and "school_id" in mapping.constants:
                sid = pd.Series(mapping.constants["school_id"], index=raw.index)
        located = [p for p in problems if p.line and p.line >= 2]
        if sid is None or len(located) < len(problems):
            key = sid.iloc[0] if sid is not None and sid.nunique() == 1 else Path(name).name
            failures.setdefault(key, []).extend(problems)
            continue
        bad = {}
        for p in located:
            bad.setdefault(sid.iloc[p.line - 2], []).append(p)
        for school, found in bad.items():
            failures.setdefault(school, []).extend(found)
        keep = raw[~sid.isin(list(bad))]
        if len(keep):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", GaptoolsWarning)
                    frames.append(load_pupils(keep.reset_index(drop=True), mapping))
            except DataValidationError as again:  # should not happen: report rather than lose it
                for school in keep.index.map(sid).unique():
                    failures.setdefault(school, []).extend(again.problems)
    if not frames:
        return None, failures
    pupils = pd.concat(frames, ignore_index=True)
    pupils.attrs = frames[0].attrs
    return pupils, failures


def _problems_text(problems: list[Problem], limit: int = 8) -> str:
    shown = "; ".join(str(p) for p in problems[:limit])
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return f"invalid data: {len(problems)} problem{'s' if len(problems) != 1 else ''}: {shown}{more}"


# --------------------------------------------------------------- one school
def _nav(folder: str, current: str | None) -> str:
    links = ['<a href="../index.html">Trust index</a>']
    for name, title in SCHOOL_NOTEBOOKS:
        links.append(f"<strong>{html.escape(title)}</strong>" if name == current
                     else f'<a href="{name}.html">{html.escape(title)}</a>')
    return " · ".join(links)


def _kernel_manager_class():
    """Kernels talk over IPC sockets, not TCP ports: no port races between
    parallel kernels, and nothing listening on the network."""
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        def cleanup_ipc_files(self) -> None:
            super().cleanup_ipc_files()
            try:
                Path(self.ip).parent.rmdir()
            except OSError:
                pass

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel's own chatter (shutdown notices) stays out of the run's output;
            # cell errors reach us as messages, not through stderr
            import subprocess

            kw.setdefault("stderr", subprocess.DEVNULL)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

        @default("ip")
        def _private_socket_path(self):
            # each kernel its own folder: jupyter's default ('kernel-ipc' in the
            # working directory) is shared by kernels started side by side
            return str(Path(tempfile.mkdtemp(prefix="gaptools-kernel-")) / "ipc")

    return IPCKernelManager


def _execute(source: Path, target: Path, parameters: dict, *, cwd: str, timeout: int, retries: int):
    """Run one notebook; retry only the kernel start-up races, never a failing cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    for attempt in range(retries + 1):
        try:
            pm.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                                cwd=cwd, progress_bar=False, log_output=False, execution_timeout=timeout,
                                start_timeout=120, kernel_manager_class=_kernel_manager_class())
            return
        except PapermillExecutionError:
            raise
        except Exception as exc:  # kernel start-up races surface as assorted runtime errors
            if attempt < retries and any(s in f"{type(exc).__name__}: {exc}" for s in RETRYABLE):
                time.sleep(1.0 + attempt)
                continue
            raise


def _execution_error(exc, notebook: str) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first = (exc.source or "").strip().splitlines()
        code = first[0][:80] if first else ""
        return f"{notebook}: cell {exc.exec_count} ({code}) failed: {exc.ename}: {exc.evalue}"
    return f"{notebook}: {type(exc).__name__}: {exc}"


def run_school(job: SchoolJob) -> SchoolOutcome:
    """Produce one school's folder: executed notebooks, HTML reports and side outputs.

    Safe to call in a worker process or on a Dask worker: it only reads
    ``job.data`` and writes under ``job.out``.
    """
    from .html import notebook_html

    start = time.perf_counter()
    out = Path(job.out)
    stage = out / WORK / "stage" / job.folder
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "notebooks").mkdir(parents=True)
    params = {"data": job.data, "school_id": job.school_id, "year": None, "key_stage": None, "mapping": None,
              "suppression_threshold": job.threshold, "out_dir": str(stage)}
    outcome = SchoolOutcome(job.school_id, job.school_name, job.folder, "ok")
    try:
        for name, _ in SCHOOL_NOTEBOOKS:
            executed = stage / "notebooks" / f"{name}.ipynb"
            try:
                _execute(Path(job.notebook_dir) / f"{name}.ipynb", executed, params,
                         cwd=job.notebook_dir, timeout=job.timeout, retries=job.retries)
            except Exception as exc:
                outcome.status, outcome.error = "failed", _execution_error(exc, name)
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


# --------------------------------------------------------------- the run
def _default_workers() -> int:
    cpus = os.cpu_count() or 1
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_memory = max(1, int(avail // (1.5 * 2 ** 30)))  # a kernel with a trust loaded: ~1.5 GiB at most
    except (ValueError, OSError, AttributeError):
        by_memory = cpus
    return max(1, min(cpus, by_memory))


def _hash_inputs(data_file: Path, threshold: int, notebook_dir: Path) -> str:
    """What a school's outputs depend on: all the data (value added and the gap
    index are relative to the trust), the threshold, the templates, the version."""
    h = hashlib.sha256()
    h.update(data_file.read_bytes())
    h.update(str(threshold).encode())
    for name, _ in SCHOOL_NOTEBOOKS:
        h.update((notebook_dir / f"{name}.ipynb").read_bytes())
    from . import __version__
    h.update(__version__.encode())
    return h.hexdigest()[:16]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _complete(out: Path, outcome: dict) -> bool:
    return outcome.get("status") == "ok" and all((out / f).is_file() for f in outcome.get("outputs", [])) \
        and bool(outcome.get("outputs"))


def run(data, out, *, mapping=None, schools=None, workers: int | None = None, scheduler: str | None = None,
        resume: bool = False, quiet: bool = False, threshold: int = 6, timeout: int = 600,
        published=None, notebook_dir=None) -> dict:
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

    Returns
    -------
    dict
        The manifest (also written to ``out/manifest.json``).
    """
    from .loading import save_validated

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / WORK).mkdir(exist_ok=True)
    started = time.perf_counter()
    pupils, failures = validate_by_school(data, mapping)
    data_file = out / WORK / "pupils.parquet"
    names: dict[str, str] = {}
    if pupils is not None:
        save_validated(pupils, data_file)
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
    input_hash = _hash_inputs(data_file, threshold, Path(notebook_dir or NOTEBOOK_DIR)) if pupils is not None else None
    outcomes: dict[str, SchoolOutcome] = {}
    jobs = []
    for sid in all_ids:
        if sid in failures:
            outcomes[sid] = SchoolOutcome(sid, names.get(sid, sid), folders[sid], "failed",
                                          _problems_text(failures[sid]))
            continue
        prev = previous.get(sid)
        if resume and prev and prev.get("input_hash") == input_hash and _complete(out, prev):
            outcomes[sid] = SchoolOutcome(**{**{k: prev.get(k) for k in ("school_id", "school_name", "folder",
                                                                           "outputs", "duration_s")},
                                             "status": "ok", "error": None, "input_hash": input_hash})
            outcomes[sid].duration_s = 0.0
            continue
        jobs.append(SchoolJob(sid, names[sid], folders[sid], str(data_file.resolve()), str(out.resolve()),
                              threshold, timeout, notebook_dir=str(Path(notebook_dir or NOTEBOOK_DIR).resolve())))
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
    _atomic_write(manifest_path, json.dumps(manifest, indent=1, ensure_ascii=False))
    _atomic_write(out / "index.html", render_index(out, manifest))
    shutil.rmtree(out / WORK / "stage", ignore_errors=True)
    shutil.rmtree(out / WORK / "old", ignore_errors=True)
    return manifest


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
            from concurrent.futures import ThreadPoolExecutor, as_completed as done

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
    from .html import notebook_html

    name, title = TRUST_NOTEBOOK
    stage = out / WORK / "trust"
    stage.mkdir(parents=True, exist_ok=True)
    executed = stage / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        _execute(NOTEBOOK_DIR / f"{name}.ipynb", executed,
                 {"data": None, "mapping": None, "suppression_threshold": threshold,
                  "results_dir": str(out.resolve())}, cwd=str(NOTEBOOK_DIR), timeout=timeout, retries=2)
        (out / "trust").mkdir(exist_ok=True)
        page = notebook_html(executed, nav_html='<a href="../index.html">Trust index</a>')
        _atomic_write(out / "trust" / f"{name}.html", page)
        return {"status": "ok", "error": None, "duration_s": round(time.perf_counter() - start, 2),
                "outputs": [f"trust/{name}.html"]}
    except Exception as exc:
        return {"status": "failed", "error": _execution_error(exc, name),
                "duration_s": round(time.perf_counter() - start, 2), "outputs": []}


def _published_page(out: Path, published, school_ids) -> dict:
    try:
        from .published import run_published_notebook
    except ImportError:
        return {"status": "failed", "error": "published benchmarks are not available in this version"}
    return run_published_notebook(out, published, school_ids)


# --------------------------------------------------------------- index.html
def _headline(out: Path, outcome: dict) -> list[dict]:
    path = out / outcome["folder"] / "results.json"
    if outcome["status"] != "ok" or not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    latest = {}
    for g in doc["gaps"]:
        latest[g["key_stage"]] = max(latest.get(g["key_stage"], 0), g["year"])
    for g in doc["gaps"]:
        if g["subgroup"] is None and g["comparison"] == "in_school" and g["year"] == latest[g["key_stage"]] \
                and g["measure"] in ("attainment8", "progress8", "basics_4plus", "rwm_expected", "attendance_pct"):
            rows.append(g)
    return rows


def render_index(out: Path, manifest: dict) -> str:
    """The trust index page: every school, its status, headline gaps and links (HTML-escaped)."""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    labels = {"attainment8": "Attainment 8", "progress8": "Progress 8", "basics_4plus": "Grade 4+ E&M",
              "rwm_expected": "RWM expected", "attendance_pct": "Attendance"}
    schools = []
    for sid, o in sorted(manifest["schools"].items(), key=lambda kv: (kv[1]["status"] != "failed",
                                                                       kv[1]["school_name"] or kv[0])):
        cells = []
        for g in _headline(out, o):
            pct = g["kind"] == "rate"
            if g["suppressed"]:
                text = "withheld"
            else:
                f = (lambda v: f"{v * 100:.0f}") if pct else (lambda v: f"{v:.1f}" if g["measure"] != "progress8"
                                                               else f"{v:.2f}")
                text = f"{f(g['gap'])}{' pts' if pct else ''} ({f(g['ci_low'])} to {f(g['ci_high'])})"
            cells.append({"label": f"{labels[g['measure']]} {g['key_stage']} {g['year']}", "text": text,
                          "clear": bool(g.get("clear", g["significant"])) and not g["suppressed"]})
        schools.append({"id": sid, **o, "cells": cells,
                        "links": [(f"{o['folder']}/{n}.html", t) for n, t in SCHOOL_NOTEBOOKS]
                        if o["status"] == "ok" else []})
    n_failed = sum(s["status"] == "failed" for s in schools)
    page = env.from_string(INDEX_TEMPLATE).render(manifest=manifest, schools=schools, n_failed=n_failed,
                                                  trust=manifest["trust"])
    return page


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Disadvantage gap reports</title>
<style>
 body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
 h1{font-size:1.6rem} table{border-collapse:collapse;width:100%;font-size:.9rem}
 th,td{border-bottom:1px solid #ddd;padding:.45rem .5rem;text-align:left;vertical-align:top}
 th{background:#f3f3f3} .failed{color:#a00000;font-weight:600} .ok{color:#006b3c}
 .clear{font-weight:600} .muted{color:#555;font-size:.85rem} .err{font-family:monospace;font-size:.8rem;color:#700}
</style></head><body>
<h1>Disadvantage gap reports</h1>
<p class="muted">Generated {{ manifest.generated }} by gaptools. {{ schools|length }} school{{ '' if schools|length == 1 else 's' }},
{{ n_failed }} failed. Gaps: disadvantaged pupils' shortfall against other pupils in the same school, latest year, with 95% intervals;
<span class="clear">bold</span> = a clear gap (survives the false-discovery check). Groups under {{ manifest.suppression_threshold }} pupils are withheld.</p>
<p>{% if trust.status == 'ok' %}<a href="trust/04_trust_overview.html">Trust overview: which gaps are real, which are closing, where to put support</a>{% else %}<span class="failed">Trust overview not available: {{ trust.error }}</span>{% endif %}
{% if trust.published and trust.published.status == 'ok' %} · <a href="{{ trust.published.outputs[0] }}">Published benchmarks</a>{% endif %}</p>
<table>
<thead><tr><th>School</th><th>Status</th><th>Headline gaps</th><th>Reports</th></tr></thead>
<tbody>
{% for s in schools %}<tr>
<td>{{ s.school_name }}<br><span class="muted">{{ s.id }}</span></td>
<td class="{{ s.status }}">{{ s.status }}{% if s.error %}<div class="err">{{ s.error }}</div>{% endif %}</td>
<td>{% for c in s.cells %}<div{% if c.clear %} class="clear"{% endif %}>{{ c.label }}: {{ c.text }}</div>{% endfor %}</td>
<td>{% for href, title in s.links %}<a href="{{ href }}">{{ title }}</a><br>{% endfor %}</td>
</tr>{% endfor %}
</tbody></table>
</body></html>
"""


def run_cli(args) -> int:
    """``gaptools run`` (see data contract §4)."""
    schools = [s.strip() for s in args.schools.split(",") if s.strip()] if args.schools else None
    if args.workers is not None and args.workers < 1:
        print("gaptools: error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        manifest = run(args.data, args.out, mapping=args.mapping, schools=schools, workers=args.workers,
                       scheduler=args.scheduler, resume=args.resume, quiet=args.quiet,
                       published=getattr(args, "published", None))
    except DataValidationError as err:  # the mapping file itself is broken: nothing can run
        for p in err.problems:
            print(p, file=sys.stderr)
        return 2
    statuses = [s["status"] for s in manifest["schools"].values()]
    failed = [sid for sid, s in manifest["schools"].items() if s["status"] == "failed"]
    print(f"{len(statuses)} schools: {statuses.count('ok')} ok, {len(failed)} failed; "
          f"trust overview {manifest['trust']['status']}; {manifest['duration_s']:.0f}s. Open {Path(args.out) / 'index.html'}")
    for sid in failed:
        print(f"  failed {sid}: {manifest['schools'][sid]['error']}", file=sys.stderr)
    return 1 if failed or manifest["trust"]["status"] == "failed" else 0
