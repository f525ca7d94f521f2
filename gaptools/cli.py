"""The ``gaptools`` command line (data contract §4).

Exit codes: 0 success; 1 invalid data (``validate``) or a school failed
(``run``); 2 the command was misused (unknown option, missing file).
Bad data never produces a traceback: every problem is printed on its own line.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .domain.suppression import DEFAULT_THRESHOLD

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code for misuse is 2, as the contract wants
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"gaptools: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gaptools", description="Disadvantage gap analysis for schools and trusts.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("sample", help="write the synthetic sample trust")
    s.add_argument("--out", required=True, type=Path, help="folder to write the CSV files into")
    s.add_argument("--schools", type=int, default=6, help="number of schools (first 6 have planted stories)")
    s.add_argument("--years", type=int, default=3, help="number of results years from 2023")
    s.add_argument("--seed", type=int, default=2025, help="random seed")

    v = sub.add_parser("validate", help="check a pupil table against the data contract")
    v.add_argument("data", type=Path, help="a CSV/Excel/Parquet file or a folder of them")
    v.add_argument("--mapping", type=Path, help="YAML mapping file for an MIS export")
    v.add_argument("--current", type=Path,
                   help="also check a table of pupils on roll now, as gaptools run --current reads it")
    v.add_argument("--current-mapping", type=Path, dest="current_mapping",
                   help="YAML mapping file for the current pupils' export (default: --mapping); without "
                        "--current, DATA itself is checked as a table of current pupils")

    _run_parser(sub)
    _reference_parser(sub)
    return p


RUN_EXAMPLES = """examples:
  gaptools run data/sample --out reports
  gaptools run exports/ --out reports --mapping sims.yaml --schools 100001,100002 --resume
  gaptools run pupils.parquet --out reports --threshold 10 --year 2024 --workers 4
  gaptools run pupils.parquet --out /shared/reports --scheduler tcp://10.0.0.5:8786
"""


def _run_parser(sub) -> argparse.ArgumentParser:
    """``gaptools run``: one argument per line, each with an example (others add theirs here)."""
    r = sub.add_parser("run", help="analyse every school and write the reports",
                       description="Validate the pupil table once, run notebooks 01-03 for every school and the "
                                   "trust overview, and write an offline HTML report folder.",
                       epilog=RUN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("data", type=Path,
                   help="the pupil table: a CSV/Excel/Parquet file or a folder of them (e.g. data/sample)")
    r.add_argument("--out", required=True, type=Path,
                   help="output folder, created if missing; an earlier gaptools output is updated in place "
                        "(e.g. --out reports)")
    r.add_argument("--mapping", type=Path, help="YAML mapping file for an MIS export (e.g. --mapping sims.yaml)")
    r.add_argument("--current", type=Path,
                   help="pupils on roll now (same columns or mapping): the pupil lists come from these alone "
                        "(e.g. --current exports/current.csv)")
    r.add_argument("--assessments", type=Path,
                   help="the school's data drops through the year (data contract §6): adds the in-year page "
                        "(06) to each school and in_year to results.json (e.g. --assessments exports/drops.csv)")
    r.add_argument("--assessments-mapping", type=Path,
                   help="YAML mapping file for the assessments export (e.g. --assessments-mapping drops.yaml)")
    r.add_argument("--activities", type=Path,
                   help="the activity register (who took part in which activity, aimed at which measure): page 03 "
                        "and Part B of strategy.md review each activity (e.g. --activities register.csv)")
    r.add_argument("--activities-mapping", type=Path,
                   help="YAML mapping of the register's own column names (e.g. --activities-mapping register.yaml)")
    r.add_argument("--current-mapping", type=Path, dest="current_mapping",
                   help="YAML mapping file for the current pupils' export when it differs from the results' "
                        "(default: --mapping; e.g. --current-mapping tracker.yaml)")
    r.add_argument("--schools",
                   help="only these comma-separated school ids; default all (e.g. --schools 100001,100002)")
    r.add_argument("--workers", type=int, default=None,
                   help="notebooks run side by side; default one per core, bounded by memory (e.g. --workers 4)")
    r.add_argument("--scheduler",
                   help="run the school jobs on this Dask distributed scheduler (e.g. --scheduler tcp://10.0.0.5:8786)")
    r.add_argument("--threshold", type=int, default=DEFAULT_THRESHOLD,
                   help="withhold groups smaller than this; at least 2, default 6 (e.g. --threshold 10)")
    r.add_argument("--year", type=int, default=None,
                   help="report this results year (2025 = 2024/25) and the years before it; default the latest "
                        "(e.g. --year 2024)")
    r.add_argument("--resume", action="store_true",
                   help="skip schools whose reports are complete, readable and made from the same data and "
                        "settings (e.g. after Ctrl-C)")
    r.add_argument("--force", action="store_true",
                   help="write into a non-empty folder that is not a gaptools output; files with the names "
                        "gaptools writes are replaced, other files are kept (e.g. --out shared --force)")
    r.add_argument("--quiet", action="store_true",
                   help="one line per school instead of a progress bar (e.g. in cron jobs and CI logs)")
    r.add_argument("--published", type=Path, action="append",
                   help="DfE performance-table CSV file or folder: adds the published benchmarks page; "
                        "repeatable (e.g. --published data/dfe/ks2_school_level)")
    r.add_argument("--pdf", action="store_true",
                   help="also write each report as PDF, and each school's summary (summary.pdf, at most two A4 "
                        "pages) for governors; e.g. --pdf")
    return r


REFERENCE_EXAMPLES = """examples:
  gaptools reference import ks4_national_characteristics_202526.csv
  gaptools reference import ks2_national_202526.csv ks4_national_202526.csv --dir /shared/gaptools-reference
"""


def _reference_parser(sub) -> None:
    """``gaptools reference import``: national figures from the DfE statistics service."""
    ref = sub.add_parser("reference", help="national figures the reports compare with")
    actions = ref.add_subparsers(dest="reference_command", required=True, parser_class=_Parser)
    imp = actions.add_parser(
        "import", help="add the national figures of DfE statistics-service CSV files (national characteristics)",
        description="Read the national rows for disadvantaged, other and all pupils from DfE statistics-service "
                    "CSVs and add them to the user reference folder; reports for those years then compare "
                    "with them (they win over the figures shipped with gaptools).",
        epilog=REFERENCE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE",
                     help="a national characteristics CSV as downloaded (e.g. ks4_national_characteristics.csv)")
    imp.add_argument("--dir", type=Path, default=None,
                     help="reference folder to add them to; default $GAPTOOLS_REFERENCE_DIR, else "
                          "~/.local/share/gaptools/reference (e.g. --dir /shared/gaptools-reference)")


def _check_paths(args) -> str | None:
    data = getattr(args, "data", None)
    if data is not None and not data.exists():
        return f"{data}: no such file or folder"
    for mapping in (getattr(args, "mapping", None), getattr(args, "current_mapping", None)):
        if mapping is not None and not mapping.exists():
            return f"{mapping}: mapping file not found"
        if mapping is not None and not mapping.is_file():
            return f"{mapping}: is not an ordinary file (a pipe, device or folder); name a YAML mapping file"
    current = getattr(args, "current", None)
    if current is not None and not current.exists():
        return f"{current}: no such current-pupils file or folder"
    assessments = getattr(args, "assessments", None)
    if assessments is not None and not assessments.exists():
        return f"{assessments}: no such assessments file or folder"
    assessments_mapping = getattr(args, "assessments_mapping", None)
    if assessments_mapping is not None and not assessments_mapping.is_file():
        return f"{assessments_mapping}: assessments mapping file not found"
    for option, what in (("activities", "activity register"), ("activities_mapping", "activity-register mapping")):
        path = getattr(args, option, None)
        if path is not None and not path.exists():
            return f"{path}: no such {what} file or folder"
    if args.command == "run" and current is None and getattr(args, "current_mapping", None) is not None:
        return "--current-mapping is the mapping of the --current table: give --current PATH too"
    for published in getattr(args, "published", None) or []:
        if not published.exists():
            return f"{published}: no such published file or folder"
    return None


def cmd_sample(args) -> int:
    from .io.sample import generate_trust, write_trust

    if args.schools < 1 or args.years < 1:
        print("gaptools: error: --schools and --years must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    trust = generate_trust(schools=args.schools, years=args.years, seed=args.seed)
    files = write_trust(trust, args.out)
    print(f"wrote {len(files)} files to {args.out}: {len(trust)} pupil rows, "
          f"{trust['school_id'].nunique()} schools")
    return EXIT_OK


def _count(n: int, noun: str) -> str:
    from .domain.formatting import count

    return count(n, noun)


def describe(pupils, current: bool = False) -> str:
    """A one-line summary of a loaded pupil table (of current pupils: by year group and results year)."""
    parts = []
    for ks, rows in pupils.groupby("key_stage", sort=True):
        years = sorted(rows["year"].unique())
        span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
        if current and "year_group" in rows.columns and rows["year_group"].notna().any():
            by = rows.groupby(["year_group", "year"]).size()
            span = ", ".join(f"Year {g} ({n}, results in {y})" for (g, y), n in by.items())
        parts.append(f"{ks} {_count(rows['school_id'].nunique(), 'school')}, {span}")
    n_dis = int(pupils["disadvantaged"].sum())
    return (f"{_count(len(pupils), 'pupil')} ({n_dis} disadvantaged) in "
            f"{_count(pupils['school_id'].nunique(), 'school')}: "
            + "; ".join(parts))


def cmd_validate(args) -> int:
    """``gaptools validate``: the results table, and with ``--current`` (or ``--current-mapping`` alone)
    a table of current pupils; exit 1 if either is invalid."""
    current, current_mapping = getattr(args, "current", None), getattr(args, "current_mapping", None)
    if current is None and current_mapping is not None:  # DATA is itself a tracker
        return _validate_one(args.data, current_mapping, current=True)
    code = _validate_one(args.data, args.mapping)
    if current is not None:
        code = max(code, _validate_one(current, current_mapping or args.mapping, current=True))
    return code


def _validate_one(data, mapping, *, current: bool = False) -> int:
    from .domain.formatting import terminal_safe
    from .domain.measures import missing_headlines
    from .errors import DataValidationError, GaptoolsWarning
    from .io.loading import load_pupils
    from .io.problems import fixes, grouped

    what = "current pupils: " if current else ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GaptoolsWarning)
        try:
            pupils = load_pupils(data, mapping, current=current)
        except DataValidationError as err:
            for note in err.notes:
                print(f"warning: {terminal_safe(note)}")
            for line in grouped(err.problems):
                print(terminal_safe(line))
            for fix in fixes(err.problems):
                print("fix: " + "\n     ".join(terminal_safe(line) for line in fix.splitlines()))
            files = {p.file for p in err.problems}
            n = len(err.problems)
            print(f"INVALID: {what}{_count(n, 'problem')} in {_count(len(files), 'file')}")
            return EXIT_INVALID
    for w in caught:
        if issubclass(w.category, GaptoolsWarning):
            print(f"warning: {terminal_safe(w.message)}")
    if not current:
        for gap in missing_headlines(pupils):
            print(f"warning: {terminal_safe(gap)}")
    print(f"OK: {what}{terminal_safe(data)}: {terminal_safe(describe(pupils, current=current))}")
    return EXIT_OK


def cmd_run(args) -> int:
    from contextlib import nullcontext

    from .batch import warm

    # the warm kernel parent starts importing now, beside this process's own imports and validation
    # (the run's own session then shares it; a Dask run's kernels are the workers'), unless the run
    # will be refused at once: its imports are several core-seconds
    with warm.session() if not (args.scheduler or _refused_at_once(args)) else nullcontext():
        from .batch.runner import run_cli

        return run_cli(args)


def _refused_at_once(args) -> bool:
    """Whether ``gaptools run`` will stop before any work for its ``--out`` folder (``run_cli`` then
    checks again, and says why; a missing data path never reaches here)."""
    from .batch.outdir import check_output_folder
    from .errors import UsageError

    try:
        check_output_folder(Path(args.out).resolve(), force=getattr(args, "force", False))
    except (UsageError, OSError):
        return True
    return False


def _figure_list(figures) -> str:
    """'KS4 2026: attainment8 (disadvantaged, other, all), progress8 (not available: all)'."""
    parts = []
    order = {"disadvantaged": 0, "other": 1, "all": 2}
    figures = figures.sort_values("group", key=lambda g: g.map(order).fillna(3), kind="stable")
    for (ks, year), rows in figures.groupby(["key_stage", "year"], sort=True):
        measures = []
        for measure, m in rows.groupby("measure", sort=False):
            shown = ", ".join(m.loc[m["value"].notna(), "group"])
            absent = ", ".join(m.loc[m["value"].isna(), "group"])
            measures.append(f"{measure} ({shown}{'; ' if shown and absent else ''}"
                            f"{'not available: ' + absent if absent else ''})")
        parts.append(f"{ks} {year}: " + ", ".join(measures))
    return "; ".join(parts)


def cmd_reference(args) -> int:
    from .errors import DataValidationError
    from .io.dfe_statistics import import_national_files

    for f in args.files:
        if not f.is_file():
            print(f"gaptools: error: {f}: no such file", file=sys.stderr)
            return EXIT_USAGE
    try:
        target, read = import_national_files(args.files, args.dir)
    except DataValidationError as err:
        for problem in err.problems:
            print(problem)
        files = {p.file for p in err.problems}
        print(f"INVALID: {_count(len(err.problems), 'problem')} in {_count(len(files), 'file')}; nothing imported")
        return EXIT_INVALID
    for f in read:
        print(f"{f.name}: {_count(int(f.figures['value'].notna().sum()), 'national figure')}: "
              f"{_figure_list(f.figures)}")
        left = [f"{n} {level} rows" for level, n in f.not_national.items()]
        if f.other_breakdowns:
            left.append(f"{f.other_breakdowns} national rows for other groups of pupils (sex, school type, ...)")
        if left:
            print(f"  left out: {', '.join(left)}")
    print(f"added to {target}: reports for these years now compare with them")
    return EXIT_OK


COMMANDS = {"sample": cmd_sample, "validate": cmd_validate, "run": cmd_run, "reference": cmd_reference}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gaptools`` console script."""
    args = _parser().parse_args(argv)
    problem = _check_paths(args)
    if problem:
        from .domain.formatting import terminal_safe

        print(f"gaptools: error: {terminal_safe(problem)}", file=sys.stderr)  # a path may hold escapes
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("gaptools: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # unreadable file, full disk: say what and where, no traceback
        from .domain.formatting import terminal_safe

        print(f"gaptools: error: {terminal_safe(exc)}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, (FileNotFoundError, PermissionError)) else EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
