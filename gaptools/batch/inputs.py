"""A run's inputs before any school starts: the optional tables validated, the schools asked for checked
against the data, and the hash of everything a school's outputs depend on (for ``--resume``)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from .school import IN_YEAR_PAGE, SCHOOL_NOTEBOOKS


def unknown_schools(wanted: list[str], known: list[str], source: str) -> str:
    """Why ``--schools`` is refused: each id not in the data, with the closest ids that are."""
    import difflib

    lines = []
    for sid in wanted:
        close = difflib.get_close_matches(sid, known, n=5, cutoff=0.5) or known[:5]
        lines.append(f"--schools: school id {sid!r} is not in {source}; closest ids in the data: {', '.join(close)}")
    return "\n".join(lines)


def hash_inputs(pupils: pd.DataFrame, threshold: int, year: int | None, notebook_dir: Path,
                current: Path | None = None, current_mapping=None, inputs: tuple = (),
                in_year: bool = False, skip: Path | None = None) -> str:
    """What a school's outputs depend on: all the data (value added and the gap index are
    relative to the trust), the current pupils, the threshold, the year, the templates, the version
    and the reference data (national figures). The data counts by content, not by where it was read
    from: the same table from another folder is the same data."""
    import json

    from .. import __version__
    from ..domain.reference import reference_fingerprint

    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(pupils, index=False).to_numpy().tobytes())
    h.update(json.dumps([[str(c), str(t)] for c, t in pupils.dtypes.items()]).encode())
    measures = [m.__dict__ for m in pupils.attrs.get("gaptools_measures", {}).values()]
    h.update(json.dumps(measures, sort_keys=True, default=str).encode())
    files = [f for src in (current, *inputs) if src  # (the assessments, the register and their mappings)
             for f in ([src] if src.is_file() else sorted(src.rglob("*")))
             if skip is None or not f.is_relative_to(skip)]  # (an --out folder inside an input folder)
    if isinstance(current_mapping, (str, Path)):  # the current table as read: its mapping too
        files.append(Path(current_mapping))
    for f in files:
        if f.is_file():
            with open(f, "rb") as fh:
                while block := fh.read(1 << 20):
                    h.update(block)
    h.update(f"threshold={threshold};year={year};version={__version__}".encode())
    h.update(reference_fingerprint().encode())  # national figures imported since change the reports
    for name, _ in SCHOOL_NOTEBOOKS + ((IN_YEAR_PAGE,) if in_year else ()):
        h.update((notebook_dir / f"{name}.ipynb").read_bytes())
    return h.hexdigest()[:16]


def validated_current(current, mapping) -> tuple[Path | None, pd.DataFrame | None]:
    """The current-pupils table's resolved path and its rows, once it passes the same validation as the main
    table (``(None, None)`` without one)."""
    if current is None:
        return None, None
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.loading import load_pupils

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        rows = load_pupils(current, mapping, current=True)  # raises DataValidationError: file, line, column, value
    return Path(current).resolve(), rows


def inputs_by_school(private: Path, schools, current: pd.DataFrame | None,
                     assessments: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    """Each school's own file of the validated current pupils and of the data drops (the job fields
    ``current`` and ``assessments``), written once in the run's private folder: a school's notebooks read
    its rows alone (:mod:`gaptools.io.byschool_inputs`)."""
    from ..io.byschool_inputs import save_assessments_by_school, save_current_by_school

    files: dict[str, dict[str, str]] = {str(sid): {} for sid in schools}
    if current is not None:
        for sid, path in save_current_by_school(current, private / "current", files).items():
            files[sid]["current"] = str(path)
    if assessments is not None:
        for sid, path in save_assessments_by_school(assessments, private / "assessments", files).items():
            files[sid]["assessments"] = str(path)
    return files


def validated_activities(activities, mapping, pupils) -> tuple[str, str | None] | None:
    """The activity register's resolved path (and its mapping's), once it passes its checks against the
    pupil table: a problem in it stops the run before any school starts, as the current pupils' do."""
    if activities is None:
        return None
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.activities import load_activities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)  # (each school's page says what concerns it)
        load_activities(activities, mapping, pupils=pupils)  # raises DataValidationError, located
    return str(Path(activities).resolve()), str(Path(mapping).resolve()) if mapping else None


def activity_fields(activities) -> dict:
    """A school job's fields for the activity register (none without one)."""
    return {} if not activities else {"activities": activities[0], "activities_mapping": activities[1]}
