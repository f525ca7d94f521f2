"""``load_pupils``: read, map, type and validate a pupil table in one call."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..domain import columns as C
from ..domain.measures import Measure, derive_standard_measures
from ..domain.upn import is_valid_upn, looks_like_upn
from ..errors import DataValidationError, GaptoolsWarning, Problem, shorten
from . import progress
from .byschool import is_by_school, read_all
from .columnmap import Part, apply_values, count_text, find_column, headers_text, rename_columns, skip_export_rows
from .filerules import rule_notes
from .gradecells import double_award_notes
from .identity import identity_notes
from .mapping import Mapping, load_mapping
from .problems import totals_notes
from .readers import NOTES_ATTR, line_numbers, read_table, table_files
from .resultyears import implausible_years
from .validated import VALIDATED_KEY, read_validated, save_validated
from .yeargroups import results_years, two_year_groups

#: (the validated copy's functions live in :mod:`.validated`; imported from here by older code)
__all__ = ["load_pupils", "rename_columns", "sources", "find_column", "save_validated", "read_validated",
           "VALIDATED_KEY"]

UPN_PATTERN = r"[A-Z]\d{11}[0-9A-Z]"

_FILE, _LINE = "__file", "__line"
#: The most subjects (``grade_<subject>`` columns) a pupil table may have: a school offers a few dozen.
MAX_SUBJECTS = 100


def sources(data) -> list[tuple[str, Path | pd.DataFrame]]:
    if isinstance(data, pd.DataFrame):
        return [("<DataFrame>", data)]
    path = Path(data)
    if path.is_dir():
        files = table_files(path)
        if not files:
            raise DataValidationError([Problem(str(path), None, None, None,
                                               "the folder holds no CSV, Excel or Parquet files")])
        return [(str(f), f) for f in files]
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    # a link named as DATA is the user's own choice, followed here; a link found inside a folder is
    # refused by the reader (it could point anywhere: /etc/passwd, another school's export)
    return [(str(path), path.resolve() if path.is_symlink() else path)]


def read_sources(found_sources):
    """Each source read as a table of text cells: ``(name, frame or None, problems)`` (a DataFrame given as the
    data is copied, its column names made text)."""
    for name, src in found_sources:
        if isinstance(src, pd.DataFrame):
            frame = src.copy()
            frame.columns = [str(c) for c in frame.columns]
            yield name, frame, []
        else:
            yield (name, *read_table(src, name))


def folder_notes(data) -> list[str]:
    """Warnings about a DATA folder: folders inside it, whose files are not read."""
    if isinstance(data, pd.DataFrame) or not Path(data).is_dir():
        return []
    inner = sorted(p for p in Path(data).iterdir() if p.is_dir() and not p.name.startswith(".")
                   and not p.is_symlink() and any(True for _ in table_files(p)))
    return [f"{p}: a folder inside {data} is not read (only the files directly in it are); move its files "
            "up, or name the folder as the data" for p in inner]


def read_parts(data, mapping: Mapping | None, current: bool = False, *, required=C.REQUIRED,
               spec_for=C.spec_for, table: str = "pupil table") -> tuple[list[Part], list[Problem], list[str]]:
    """Read, skip and rename each source; returns the readable parts, the problems and every warning.

    ``required``, ``spec_for`` and ``table`` describe the table read (the pupil
    table by default; the assessments of :mod:`gaptools.io.assessments` too).
    """
    parts, problems, all_notes = [], [], []
    found_sources = sources(data)
    all_notes += folder_notes(data)
    whole = mapping
    if mapping and mapping.files and not isinstance(data, pd.DataFrame):
        all_notes += rule_notes(mapping.files, [n for n, _ in found_sources])
    for name, frame, found in progress.each(read_sources(found_sources), len(found_sources),
                                            "validating: reading", "file"):
        notes: list[str] = []
        mapping = whole.for_file(name) if whole else None
        problems += found
        if frame is None:
            continue
        notes += frame.attrs.get(NOTES_ATTR, [])
        lines = line_numbers(frame)
        skipped = 0
        if mapping and mapping.skip_rows:
            before = len(frame)
            frame, lines, skip_notes, found = skip_export_rows(name, frame, lines, mapping)
            notes += skip_notes
            problems += found
            skipped = before - len(frame)
        part, found = rename_columns(name, frame, mapping, lines, current=current, spec_for=spec_for)
        problems += found
        grades = [c for c in part.frame.columns if str(c).startswith(C.GRADE_PREFIX)]
        if len(grades) > MAX_SUBJECTS:  # each is a measure analysed, charted and paged: bounded before it costs
            problems.append(Problem(name, 1, None, None,
                                    f"has {len(grades):,} grade_ columns; a pupil table has at most {MAX_SUBJECTS} "
                                    "subjects (is a column repeated, or a wide export not meant for gaptools?)"))
            continue
        part.notes = notes + part.notes
        all_notes += part.notes
        part.constants = dict(mapping.constants) if mapping else {}
        constants = set(part.constants)
        missing = [c for c in required if c not in part.frame.columns and c not in constants]
        if current and "year" in missing and ("year_group" in part.frame.columns or "year_group" in constants):
            missing.remove("year")  # the results year comes from the year group (see yeargroups)
        if part.unresolved:
            missing = [c for c in missing if c not in part.unresolved]
            if any(c in part.unresolved for c in required):
                continue
        if missing:
            have = headers_text(frame.columns)
            if len(missing) == len(required):
                problems.append(Problem(name, 1, None, None,
                                        f"does not look like a {table}: none of the required columns "
                                        f"({', '.join(required)}) is in its header (found: {have}); "
                                        "if it is an MIS export, name its columns in a mapping file"))
                continue
            read_as = {h: canon for canon, h in part.original.items()}  # header in file -> canonical
            for c in missing:
                taken = [h for h in frame.columns if C.canonical_name(h) == c and h in read_as]
                if taken:
                    message = (f"required column '{c}' is missing: the mapping reads the file's "
                               f"'{shorten(taken[0], 60)}' column as '{read_as[taken[0]]}'")
                elif c == "year" and current:
                    message = ("a table of current pupils needs 'year' (the summer of their results) or "
                               f"'year_group' (Year 10, Y10, 10) to work it out (the file's columns: {have})")
                else:
                    message = f"required column '{c}' is missing (the file's columns: {have})"
                problems.append(Problem(name, 1, c, None, message))
            continue
        f = part.frame
        blank_rows = _blank_rows(f)
        f[_FILE] = name
        f[_LINE] = lines
        f = f[~blank_rows]  # wholly empty lines hold no pupil
        if f.empty:
            also = f" ({count_text(skipped, 'row')} left out by the mapping's skip_rows)" if skipped else ""
            rows = table.split()[0].rstrip("s")  # pupil rows, assessment rows
            problems.append(Problem(name, None, None, None, f"the file has a header but no {rows} rows" + also))
            continue
        part.frame = f
        parts.append(part)
    return parts, problems, all_notes


def _blank_rows(f: pd.DataFrame) -> np.ndarray:
    """Rows empty in every column (each column is only looked at where all before it were empty)."""
    candidates = np.arange(len(f)) if f.shape[1] else np.array([], dtype=np.int64)
    for col in f.columns:
        if not len(candidates):
            break
        s = f[col] if len(candidates) == len(f) else f[col].iloc[candidates]
        candidates = candidates[C._blank(s).to_numpy(dtype=bool)]
    out = np.zeros(len(f), dtype=bool)
    out[candidates] = True
    return out


def cell_problems(raw: pd.DataFrame, col: str, bad: pd.Series, message: str,
                   originals: dict[str, dict[str, str]]) -> list[Problem]:
    idx = np.flatnonzero(bad.to_numpy(dtype=bool, na_value=False))
    files = raw[_FILE].to_numpy()
    lines = raw[_LINE].to_numpy()
    values = raw[col].to_numpy()
    return [Problem(files[i], int(lines[i]), originals.get(files[i], {}).get(col, col),
                    "" if pd.isna(values[i]) else str(values[i]), message) for i in idx]


def _schema_problems(typed: pd.DataFrame, raw: pd.DataFrame,
                     originals: dict[str, dict[str, str]]) -> list[Problem]:
    from pandera.errors import SchemaErrors

    from .schema import PUPIL_TABLE

    try:
        PUPIL_TABLE.validate(typed, lazy=True)
        return []
    except SchemaErrors as err:
        cases = err.failure_cases
    problems: list[Problem] = []
    dup_rows: set[int] = set()
    for case in cases.itertuples(index=False):
        check = str(case.check)
        if case.index is None or (isinstance(case.index, float) and np.isnan(case.index)):
            if "unique" in check:
                continue
            problems.append(Problem(None, None, str(case.column), None, check))
            continue
        i = int(case.index)
        if "unique" in check:
            dup_rows.add(i)
            continue
        col = str(case.column)
        spec = C.spec_for(col)
        if "nullable" in check:
            msg = f"'{col}' is required but this cell is empty"
        elif "isin" in check:
            msg = "must be one of " + ", ".join(spec.allowed) if spec else check
        elif spec is not None and ("range" in check or "greater" in check or "less" in check):
            msg = spec.range_text
        else:
            msg = f"fails the check {check}"
        file = raw.at[i, _FILE]
        value = raw.at[i, col] if col in raw.columns else None
        problems.append(Problem(file, int(raw.at[i, _LINE]), originals.get(file, {}).get(col, col),
                                "" if value is None or pd.isna(value) else str(value), msg))
    if dup_rows:
        keys = ["school_id", "year", "key_stage", "pupil_id"]
        dups = typed.loc[sorted(dup_rows), keys].assign(**{_FILE: raw[_FILE], _LINE: raw[_LINE]})
        for _, group in dups.groupby(keys, sort=False, dropna=False):
            where = [f"{f} line {n}" for f, n in zip(group[_FILE], group[_LINE])]
            first = group.iloc[0]
            for j, (f, n) in enumerate(zip(group[_FILE], group[_LINE])):
                others = ", ".join(w for k, w in enumerate(where) if k != j)
                problems.append(Problem(f, int(n), originals.get(f, {}).get("pupil_id", "pupil_id"),
                                        str(first["pupil_id"]),
                                        f"pupil appears more than once for school {first['school_id']}, "
                                        f"{first['key_stage']} {first['year']} (also at {others})"))
    return problems


def load_pupils(data, mapping=None, *, derive_progress: bool = True, current: bool = False,
                today=None) -> pd.DataFrame:
    """Load, map and validate a pupil table (data contract §1).

    Parameters
    ----------
    data : str, Path or DataFrame
        A CSV (UTF-8, UTF-8 with BOM or Windows-1252), Excel (.xlsx) or Parquet
        file, a folder of such files with the same columns, or a DataFrame.
    mapping : str, Path, dict or Mapping, optional
        A mapping file (data contract §2) applied before validation.
    derive_progress : bool, default True
        Derive ``progress8`` from ``attainment8`` and ``prior_attainment`` with
        the DfE estimates where it is not supplied.
    current : bool, default False
        The table is of pupils on roll now (data contract §1, current pupils):
        outcome columns the mapping names may be absent, and ``year`` may be
        left out where ``year_group`` is given (it is then worked out from the
        year group and ``academic_year``, or ``today``); a pupil in two year
        groups is a problem.
    today : date, optional
        The date that gives the academic year when a current table has no
        ``academic_year`` (default: today).

    Returns
    -------
    DataFrame
        Typed columns (text as ``string``, whole numbers as ``Int64``, numbers
        as ``Float64``, yes/no as ``boolean``, missing as ``<NA>``) with the
        derived standard measures added. ``attrs["gaptools_measures"]`` holds
        the custom measures declared in the mapping; ``attrs["gaptools_warnings"]``
        the warnings raised while loading.

    A Parquet file written by :func:`save_validated` (a validated copy), or a
    folder written by :func:`gaptools.io.byschool.save_by_school` (the batch
    runner's, one file a school), is read back as it is, without validating
    it again.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, line, column and value.
    FileNotFoundError
        When ``data`` does not exist.
    """
    # (a validated table is canonical already: a mapping, meant for a current-pupils export beside it, is not applied)
    if not isinstance(data, pd.DataFrame) and str(data).lower().endswith(".parquet") and Path(data).is_file():
        validated = read_validated(data)
        if validated is not None:  # written by save_validated: checked already
            return validated
    if not isinstance(data, pd.DataFrame) and is_by_school(data):  # a run's validated table, by school
        return read_all(data)
    mapping = load_mapping(mapping)
    parts, problems, read_notes = read_parts(data, mapping, current)
    if not parts:
        raise DataValidationError(problems or [Problem(str(data), None, None, None, "no pupil rows found")],
                                  read_notes)
    originals = {p.name: p.original for p in parts}
    raw = pd.concat([p.frame for p in parts], ignore_index=True, sort=False)
    notes: list[str] = list(read_notes)
    if mapping:
        apply_values(raw, mapping)
        _apply_constants(raw, parts, notes)
    columns: dict[str, pd.Series] = {}  # made into one frame at the end: inserting a column at a time is quadratic
    # each column, then the checks of the whole table (its schema, its years, its ids and the measures derived)
    checking = progress.bar(len(raw.columns) + 4, "validating: checking the columns", "step")
    for col in raw.columns:
        checking.update()
        if col in (_FILE, _LINE):
            continue
        if col in C.DERIVED:
            notes.append(f"column '{col}' in the input is ignored: gaptools derives it from the grades/scores")
            continue
        spec = C.spec_for(col)
        custom = mapping.measures.get(col) if mapping else None
        if custom is not None:
            out, bad, msg = (C.parse_float(raw[col]) if custom.kind == "score" else C.parse_bool(raw[col]))
        elif spec is not None:
            out, bad, msg = C.parse_column(spec, raw[col])
            if spec.kind == "ks2_score":
                columns[col + "_code"] = C.ks2_codes(raw[col])
        else:
            columns[col] = raw[col].astype("string") if raw[col].dtype == object else raw[col]
            continue
        columns[col] = out
        if bad.any():
            problems += cell_problems(raw, col, bad, msg, originals)
        if spec is not None and spec.kind == "grade":
            notes += double_award_notes(raw, col, originals)
    typed = pd.DataFrame(columns, index=raw.index)
    if current:
        problems += results_years(typed, raw, today)
    bad_cells = {(p.file, p.line, p.column) for p in problems}
    checking.update()
    problems += [p for p in _schema_problems(typed, raw, originals)
                 if (p.file, p.line, p.column) not in bad_cells]
    checking.update()
    if current:
        problems += two_year_groups(typed, raw, originals)
    elif not any(p.column in ("year", (originals.get(p.file, {}) if p.file is not None else {}).get("year"))
                 for p in problems):
        problems += implausible_years(typed, raw, originals, _FILE, _LINE, today)
    checking.update()
    if problems:
        checking.close()
        problems.sort(key=lambda p: (p.file or "", p.line or 0, p.column or ""))
        raise DataValidationError(problems, notes + totals_notes(raw, problems, originals, _FILE, _LINE))
    notes += _upn_notes(typed, raw) + identity_notes(typed, raw, _FILE, _LINE)
    if "school_name" not in typed.columns:
        typed["school_name"] = typed["school_id"]
    else:
        typed["school_name"] = typed["school_name"].fillna(typed["school_id"])
    if derive_progress:
        from ..domain.progress8 import fill_progress8
        notes += fill_progress8(typed)
    derive_standard_measures(typed)
    checking.update()
    checking.close()
    typed.attrs["gaptools_measures"] = {
        m.name: Measure(m.name, m.label or m.name.replace("_", " "), m.kind,
                        m.unit or ("%" if m.kind == "rate" else "points"), m.higher_is_better, None, True)
        for m in (mapping.measures.values() if mapping else [])
    }
    typed.attrs["gaptools_warnings"] = notes
    typed.attrs["gaptools_sources"] = sorted(originals)
    for note in notes:
        warnings.warn(note, GaptoolsWarning, stacklevel=2)
    return typed


def _apply_constants(raw: pd.DataFrame, parts: list[Part], notes: list[str]) -> None:
    """Set each file's constants (the mapping's, a ``files:`` entry's over them) on that file's rows."""
    whole = len(parts) == 1 or all(p.constants == parts[0].constants for p in parts)
    for part in (parts[:1] if whole else parts):
        rows = np.ones(len(raw), dtype=bool) if whole else (raw[_FILE] == part.name).to_numpy()
        for canon, value in part.constants.items():
            if canon in raw.columns and not C._blank(raw.loc[rows, canon]).all():
                notes.append(f"the mapping's constant {canon}={shorten(value, 60)} replaces the '{canon}' column "
                             "of the data" + ("" if whole else f" in {part.name}"))
            if whole:
                raw[canon] = value
                continue
            if canon not in raw.columns or raw[canon].dtype != object:
                raw[canon] = raw[canon].astype(object) if canon in raw.columns else None
            raw.loc[rows, canon] = value


def _upn_notes(typed: pd.DataFrame, raw: pd.DataFrame) -> list[str]:
    shaped = (typed["pupil_id"].str.len() == 13).to_numpy(dtype=bool, na_value=False)  # cheap first look
    if shaped.any():
        shaped[shaped] = typed["pupil_id"][shaped].str.fullmatch(UPN_PATTERN).to_numpy(dtype=bool, na_value=False)
    if not shaped.any():
        return []
    ids = typed["pupil_id"].to_numpy()
    shaped &= np.fromiter((looks_like_upn(v) if ok else False for v, ok in zip(ids, shaped)),
                          dtype=bool, count=len(ids))
    bad = [i for i in np.flatnonzero(shaped) if not is_valid_upn(ids[i])]
    if not bad:
        return []
    shown = [f"{raw.at[i, _FILE]} line {raw.at[i, _LINE]} ({ids[i]})" for i in bad[:10]]
    more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
    return [f"{len(bad)} pupil_id value(s) look like UPNs but have the wrong check letter "
            f"(a typing error?): {', '.join(shown)}{more}"]
