"""``gaptools run``: every school's reports, a trust overview, and nothing lost when one school fails.

The order of a run: check the options and the output folder (misuse is
refused before any work); validate the data into the run's private folder;
take the output folder's lock; build each school's folder aside and move it
into place as it finishes; then the trust pages, the index and the manifest.
"""
from __future__ import annotations

import shutil
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..domain.columns import NAME_COLUMNS
from ..domain.formatting import terminal_safe
from ..domain.suppression import DEFAULT_THRESHOLD
from ..errors import DataValidationError, UsageError
from ..io import progress
from . import warm
from .dispatch import connect, dispatch
from .governors import governors_folder, school_is_ok
from .in_year import in_year_job, validated_assessments
from .index import render_index
from .inputs import activity_fields, hash_inputs, unknown_schools, validated_activities, validated_current
from .interrupt import Interrupted, StopOnSignal
from .kernels import reset
from .options import RunOptions
from .outdir import OutputFolder, check_output_folder
from .school import NOTEBOOK_DIR, PDF_FAILED, SchoolJob, SchoolOutcome, safe_folder_names
from .trustpages import published_page, trust_overview, trust_pdf
from .validate import problems_text, validate_by_school
from .workspace import private_folder

SCHEMA_VERSION = 2


# --------------------------------------------------------------- the run
def run(data, out, *, mapping=None, schools=None, workers: int | None = None, scheduler: str | None = None,
        resume: bool = False, quiet: bool = False, threshold: int = DEFAULT_THRESHOLD, year: int | None = None,
        force: bool = False, timeout: int = 600, published=None, notebook_dir=None, current=None,
        pdf: bool = False, current_mapping=None, assessments=None, assessments_mapping=None, activities=None,
        activities_mapping=None) -> dict:
    """Run every school's notebooks and build the trust index.

    Parameters
    ----------
    data : path or DataFrame
        The pupil table (file or folder).
    out : path
        Output folder (created). An earlier gaptools output is updated in
        place; files gaptools did not write are kept.
    mapping : path, optional
    schools : list of str, optional
        Only (re)build these school ids; the index and trust pages then cover
        them and every other complete school folder made from the same data.
    workers : int, optional
        Size of the local pool (default: CPU count, bounded by memory).
    scheduler : str, optional
        Address of a Dask distributed scheduler: run school jobs there instead.
    resume : bool
        Skip schools whose folders are complete, intact and made from the same
        data and settings (checked against the manifest's hashes).
    quiet : bool
        No progress bar (for logs).
    threshold : int, default 6
        Suppression threshold (at least 2).
    year : int, optional
        Report this results year (and the years before it); default the latest.
    force : bool
        Write into a non-empty folder that is not a gaptools output.
    timeout : int, default 600
        Seconds any one notebook cell may run.
    published : path or list of paths, optional
        DfE performance-table CSVs for the published benchmarks page.
    pdf : bool
        Also print each school's pages and its summary (two A4 pages at most),
        and the trust overview, as PDF (Debian's Chromium through Playwright).
    notebook_dir : path, optional
        A folder of (customised) notebook templates with the same names.
    current : path, optional
        The pupils on roll now (same contract and mapping as ``data``), for the
        pupil lists. Validated first (any problem stops the run with
        :class:`DataValidationError`); each school's rows are then written once
        to a file of their own in the run's private folder, which that school's
        notebooks read (never copied into ``out``).
    assessments : path, optional
        The data drops (data contract §6) of any of the schools: each school's
        folder then has the in-year page (notebook 06) and ``results.json``
        has ``in_year``. Validated first and laid out by school, as ``current``.
    assessments_mapping : path, optional
        A mapping for the assessments export.
    activities : path, optional
        The activity register (data contract §7): each school's page 03 and
        Part B of its strategy.md review its activities, and results.json gains
        ``activities``. Checked against the pupil table first (any problem stops
        the run with :class:`DataValidationError`); read where it is, never copied.
    activities_mapping : path, optional
        A mapping of the register's own columns.
    current_mapping : path, optional
        Mapping file for ``current`` when its export differs from the results'
        (default ``mapping``).

    Returns
    -------
    dict
        The manifest (also written to ``out/manifest.json``).

    Raises
    ------
    UsageError
        Misuse found before any work: a bad option, an output folder that is a
        file, someone else's or in use, a school id not in the data.
    Interrupted
        Ctrl-C or SIGTERM: kernels were killed, the manifest and index of what
        finished were written (``exc.manifest``); ``resume=True`` completes the rest.
    """
    opts = RunOptions(mapping=mapping, schools=schools, workers=workers, scheduler=scheduler, resume=resume,
                      quiet=quiet, threshold=threshold, year=year, force=force, timeout=timeout, published=published,
                      notebook_dir=notebook_dir, current=current, pdf=pdf, current_mapping=current_mapping,
                      assessments=assessments, assessments_mapping=assessments_mapping, activities=activities,
                      activities_mapping=activities_mapping)
    return _run(data, out, opts)


def _run(data, out, opts: RunOptions) -> dict:
    """:func:`run` with its options gathered."""
    from ..analysis.trustwide import trust_context
    from ..io.byschool import save_by_school
    from ..reporting.pdf import printing
    from .inputs import inputs_by_school

    opts.check()
    mapping, schools, scheduler, year, pdf = opts.mapping, opts.schools, opts.scheduler, opts.year, opts.pdf
    if pdf:  # before any work: a missing browser would otherwise fail every school after its analysis
        from ..reporting.pdf import check_printer

        check_printer()
    out = Path(out).resolve()  # every path resolved once: nothing depends on the process's directory later
    check_output_folder(out, force=opts.force)
    notebook_dir = Path(opts.notebook_dir or NOTEBOOK_DIR).resolve()
    source = "<DataFrame>" if isinstance(data, pd.DataFrame) else str(data)
    started = time.perf_counter()
    reset()
    with StopOnSignal() as stopper, private_folder() as private, progress.shown(not opts.quiet), \
            (warm.session() if not scheduler else nullcontext()):
        # the warm kernel parent imports everything while the data is validated
        client = connect(scheduler) if scheduler else None
        try:
            current_mapping = mapping if opts.current_mapping is None else opts.current_mapping
            current, current_rows = validated_current(opts.current, current_mapping)
            in_year, drops = validated_assessments(opts.assessments, opts.assessments_mapping)
            pupils, failures = validate_by_school(data, mapping)
            activities = validated_activities(opts.activities, opts.activities_mapping, pupils)
            names = pupils.groupby("school_id")["school_name"].first().astype(str).to_dict() \
                if pupils is not None else {}
            known = sorted(set(names) | set(failures))
            wanted = None if not schools else list(dict.fromkeys(str(s).strip() for s in schools))
            if wanted is not None and set(wanted) - set(known):
                raise UsageError(unknown_schools([s for s in wanted if s not in known], known, source))
            data_file = private / "pupils"  # one validated file a school: each school's notebooks read theirs
            input_hash = None
            if pupils is not None:
                if year is not None:
                    if not (pupils["year"] == year).any():
                        years = ", ".join(map(str, sorted(pupils["year"].unique())))
                        raise UsageError(f"--year {year}: {source} has no results for {year} (years: {years})")
                    kept = pupils[pupils["year"] <= year].reset_index(drop=True)
                    kept.attrs = pupils.attrs
                    pupils = kept
                pupils = pupils.drop(columns=list(NAME_COLUMNS), errors="ignore")  # names stay out
                # what every school's figures share with the trust, worked out once (value added, the
                # gap index's ranks) and saved beside each school's rows
                save_by_school(pupils, data_file, *trust_context(pupils))
                input_hash = hash_inputs(pupils, opts.threshold, year, notebook_dir, current,
                                         current_mapping if current else None,
                                         (*(in_year or ()), *(Path(p) for p in activities or () if p)),
                                         in_year=bool(in_year), skip=out)
                if pdf:  # a folder made without PDFs is not complete for a run that asks for them
                    input_hash += "+pdf"
            # each school's rows of the current pupils and of the data drops, once: its notebooks read them alone
            own = inputs_by_school(private, [s for s in names if wanted is None or s in wanted], current_rows, drops)
            del current_rows, drops
            del pupils  # the workers read the private file; this process needs only the names
            phases = {"validation": round(time.perf_counter() - started, 2)}  # (the rest as each phase ends)
            with OutputFolder(out) as folder, (printing() if pdf else nullcontext()):
                # the folder is ours (or refused) before we wait for anything; one browser prints every PDF
                return _run_in(folder, private, stopper, client, opts, data_file=data_file,
                               input_hash=input_hash, source=source, names=names, failures=failures, known=known,
                               wanted=wanted, notebook_dir=notebook_dir, started=started, current=current,
                               mapping=current_mapping, in_year=in_year, activities=activities, phases=phases,
                               own=own)
        finally:
            if client is not None:
                client.close()


def _run_in(folder: OutputFolder, private: Path, stopper: StopOnSignal, client, opts: RunOptions, *,
            data_file, input_hash, source, names, failures, known, wanted, notebook_dir, started, current, mapping,
            in_year=None, activities=None, phases=None, own=None) -> dict:
    """The run in its output folder (locked): the schools, the trust pages, the index and the manifest.
    ``current``, ``mapping``, ``in_year`` and ``activities`` are the validated inputs, not ``opts``' paths;
    ``phases`` the seconds of each phase so far (this adds the schools, the overview and the index); ``own``
    each school's files of the current pupils and the data drops (:func:`.inputs.inputs_by_school`)."""
    assert folder.stage is not None  # (the folder is open: its stage is made)
    resume, workers, quiet, threshold, year = opts.resume, opts.workers, opts.quiet, opts.threshold, opts.year
    timeout, published, pdf = opts.timeout, opts.published, opts.pdf
    out = folder.path
    folders = safe_folder_names(known)
    asked = wanted if wanted is not None else known
    outcomes: dict[str, SchoolOutcome] = {}
    jobs = []
    for sid in known:
        if sid in failures:
            if sid in asked:
                outcomes[sid] = SchoolOutcome(sid, names.get(sid, sid), folders[sid], "failed",
                                              problems_text(failures[sid]))
            continue
        rebuild = sid in asked
        kept = folder.verified(folders[sid], sid, input_hash) if (resume or not rebuild) else None
        if kept:
            outcomes[sid] = SchoolOutcome(sid, names[sid], folders[sid], "ok", outputs=kept, input_hash=input_hash)
        elif rebuild:
            mine = (own or {}).get(sid, {})
            jobs.append(SchoolJob(sid, names[sid], folders[sid], str(data_file), str(folder.stage / folders[sid]),
                                  threshold, year, timeout, notebook_dir=str(notebook_dir),
                                  scratch=str(private) if client is None else None,  # a Dask worker: its own
                                  current=mine.get("current", str(current) if current else None), pdf=bool(pdf),
                                  one_school=len(known) == 1,
                                  mapping=str(Path(mapping).resolve()) if current and "current" not in mine
                                  and isinstance(mapping, (str, Path)) else None,
                                  **in_year_job(in_year, out / folders[sid], mine.get("assessments")),
                                  **activity_fields(activities)))
    order = [sid for sid in known if sid in outcomes or any(j.school_id == sid for j in jobs)]
    fields = {"schema_version": SCHEMA_VERSION,
              "generated": datetime.now(UTC).isoformat(timespec="seconds"),
              "data": source, "input_hash": input_hash, "suppression_threshold": threshold, "year": year,
              "status": "running", "duration_s": None, "trust": {"status": "running", "error": None, "outputs": []},
              "phases_s": phases if phases is not None else {}}
    phase_started = time.perf_counter()

    def phase_done(name: str) -> None:
        nonlocal phase_started
        now = time.perf_counter()
        fields["phases_s"][name] = round(now - phase_started, 2)
        phase_started = now

    def schools_now(pending: str = "running") -> dict:
        done = {}
        for sid in order:
            o = outcomes.get(sid)
            done[sid] = asdict(o) if o else asdict(SchoolOutcome(sid, names.get(sid, sid), folders[sid], pending))
        return done

    with stopper.critical():
        folder.save(**fields, schools=schools_now())
    try:
        skipped = sum(school_is_ok(o.status) for o in outcomes.values())
        already_failed = sum(o.status == "failed" for o in outcomes.values())
        for outcome in dispatch(jobs, client=client, data_file=data_file, workers=workers, quiet=quiet,
                                already_failed=already_failed, skipped=skipped):
            with stopper.critical():
                if school_is_ok(outcome.status):
                    try:  # a folder whose PDFs failed is recorded as made without them: --resume prints them
                        outcome.outputs = folder.commit(outcome.folder, outcome.school_id,
                                                        input_hash if outcome.status == "ok" else
                                                        str(input_hash).removesuffix("+pdf"),
                                                        folder.stage / outcome.folder)
                        outcome.input_hash = input_hash
                    except OSError as exc:
                        shutil.rmtree(folder.stage / outcome.folder, ignore_errors=True)
                        outcome.status, outcome.outputs = "failed", []
                        outcome.error = f"could not write {out / outcome.folder}: {exc.strerror or exc}"
                outcomes[outcome.school_id] = outcome
                folder.record(schools={outcome.school_id: asdict(outcome)})  # journaled: O(1) a school
        if wanted is None:  # a full run: folders of schools that are not in this data go
            mine = set(folders.values())
            for stale in [f for f in folder.folders if f not in mine]:
                with stopper.critical():
                    folder.remove_folder(stale)
        phase_done("schools")
        ok = [sid for sid in order if school_is_ok(outcomes[sid].status)]
        trust = {"status": "skipped", "error": None, "outputs": []} if len(known) == 1 else \
            trust_overview(folder, private, [outcomes[s] for s in ok], threshold, timeout, quiet=quiet) if ok else \
            {"status": "skipped", "error": "no school succeeded", "outputs": []}  # one school: no trust page
        if pdf and trust["status"] == "ok":
            trust = trust_pdf(folder, private, trust)
        if published:
            trust["published"] = published_page(folder, private, published,
                                                [s for s in asked if s in names], timeout)
        phase_done("overview")
        status = "complete"
    except Interrupted as stop:
        with stopper.finishing():
            for sid in order:
                if sid not in outcomes:
                    kept = folder.verified(folders[sid], sid, input_hash)
                    outcomes[sid] = SchoolOutcome(sid, names[sid], folders[sid], "ok", outputs=kept,
                                                  input_hash=input_hash) if kept else \
                        SchoolOutcome(sid, names[sid], folders[sid], "interrupted",
                                      "the run was stopped before this school finished; run again with --resume")
            trust = {"status": "interrupted", "error": "the run was stopped before the trust overview", "outputs": []}
            stop.manifest = _finish(folder, fields, trust, schools_now(), "interrupted", started)
        raise
    with stopper.critical():
        return _finish(folder, fields, trust, schools_now(), status, started)


def _finish(folder: OutputFolder, fields: dict, trust: dict, schools: dict, status: str, started: float) -> dict:
    """Write index.html and manifest.json so that both describe exactly what is on disk."""
    pages = set(trust.get("outputs") or []) | set((trust.get("published") or {}).get("outputs") or [])
    for rel in [r for r in folder.files if r.startswith("trust/") and r not in pages]:
        folder.remove_file(rel)  # an old trust page that this run did not rebuild: not left to mislead
    begun = time.perf_counter()
    fields.update(status=status, trust=trust, governors=governors_folder(folder, schools, trust))
    page = render_index(folder.path, {"generator": "gaptools", **fields, "schools": schools})
    folder.write_text("index.html", page)
    now = time.perf_counter()
    fields["phases_s"]["index"] = round(now - begun, 2)
    fields["duration_s"] = round(now - started, 2)
    return folder.save(**fields, schools=schools)


# --------------------------------------------------------------- the command
def run_cli(args) -> int:
    """``gaptools run`` (see data contract §4). Exit 0 all ok, 1 a school or page failed
    (or could not be written), 2 misuse found before any work, 130/143 stopped by a signal."""
    import signal

    schools = [s.strip() for s in args.schools.split(",") if s.strip()] if args.schools else None
    if args.scheduler:
        import logging

        import distributed  # noqa: F401  (its import sets its loggers' levels: set ours after it)

        # a lost scheduler is said once, per school, in the run's own words: not as the Dask client's
        # tracebacks of each reconnection it tries
        for name in ("distributed.client", "distributed.comm", "distributed.core"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        manifest = run(args.data, args.out, mapping=args.mapping, schools=schools, workers=args.workers,
                       scheduler=args.scheduler, resume=args.resume, quiet=args.quiet,
                       threshold=getattr(args, "threshold", 6), year=getattr(args, "year", None),
                       force=getattr(args, "force", False), published=getattr(args, "published", None),
                       current=getattr(args, "current", None), pdf=getattr(args, "pdf", False),
                       current_mapping=getattr(args, "current_mapping", None),
                       assessments=getattr(args, "assessments", None),
                       assessments_mapping=getattr(args, "assessments_mapping", None),
                       activities=getattr(args, "activities", None),
                       activities_mapping=getattr(args, "activities_mapping", None))
    except UsageError as err:
        print("gaptools: error: " + "\n".join(terminal_safe(line) for line in str(err).splitlines()), file=sys.stderr)
        return 2
    except DataValidationError as err:  # the mapping file itself, or the current pupils, are broken: nothing can run
        for p in err.problems:
            print(terminal_safe(p), file=sys.stderr)
        data_given = getattr(args, "current", None) or getattr(args, "assessments", None) \
            or getattr(args, "activities", None)
        mappings = {str(m) for m in (args.mapping, getattr(args, "current_mapping", None),
                                     getattr(args, "assessments_mapping", None),
                                     getattr(args, "activities_mapping", None)) if m is not None}
        return 2 if not data_given or any(p.file in mappings for p in err.problems) else 1
    except Interrupted as stop:
        done = stop.manifest or {"schools": {}}
        n_ok = sum(school_is_ok(s["status"]) for s in done["schools"].values())
        print(f"gaptools: stopped by {signal.Signals(stop.signum).name}: {n_ok} of {len(done['schools'])} schools "
              f"complete; every kernel stopped. Run the same command with --resume to finish.", file=sys.stderr)
        return 128 + stop.signum
    except OSError as exc:  # the output folder cannot be written at all (read-only, full, a link in the way)
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"gaptools: error: cannot write the reports in {args.out}:{where} {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    statuses = [s["status"] for s in manifest["schools"].values()]
    failed = [sid for sid, s in manifest["schools"].items() if s["status"] in ("failed", PDF_FAILED)]
    no_pdf = statuses.count(PDF_FAILED)
    no_pdf_text = f"{no_pdf} ok but PDF failed, " if no_pdf else ""
    one = len(statuses) == 1 and not manifest["trust"]["error"]  # the data holds one school: no trust page
    trust_text = "" if one else f"trust overview {manifest['trust']['status']}; "
    print(f"{len(statuses)} school{'' if len(statuses) == 1 else 's'}: {statuses.count('ok')} ok, {no_pdf_text}"
          f"{len(failed) - no_pdf} failed; {trust_text}{manifest['duration_s']:.0f}s. "
          f"Open {Path(args.out) / 'index.html'}")
    for sid in failed:
        print(f"  failed {terminal_safe(sid)}: {terminal_safe(manifest['schools'][sid]['error'])}", file=sys.stderr)
    for kept in manifest.get("kept_edits", []):
        print(terminal_safe(f"  kept the edited {kept['file']} as {kept['kept_as']} (a new one is in its place)"))
    return 1 if failed or manifest["trust"]["status"] == "failed" else 0
