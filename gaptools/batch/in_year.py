"""A run's in-year part (``--assessments``): validated once, then each school's notebooks 02 and 06 read
that school's rows of them (a file a school in the run's private folder: :mod:`gaptools.io.byschool_inputs`).

The assessments are never copied into the output (they
name pupils); a school's pupil list from an earlier run (its ``targets.csv``)
gives the targeted pupils whose progress the page follows.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def validated_assessments(assessments, mapping) -> tuple[tuple[Path, Path | None] | None, pd.DataFrame | None]:
    """The assessments' and their mapping's resolved paths, and their rows, once they pass validation (as
    ``current``; ``(None, None)`` without them)."""
    if assessments is None:
        return None, None
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.assessments import load_assessments

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        rows = load_assessments(assessments, mapping)  # raises DataValidationError naming file, line, column and value
    return (Path(assessments).resolve(), Path(mapping).resolve() if mapping else None), rows


def in_year_job(in_year, school_folder: Path, own: str | None = None) -> dict:
    """A school job's in-year fields: the assessments (``own``: the school's rows of them, validated already,
    else the whole file and its mapping), and the pupil list an earlier run left in its folder."""
    if not in_year:
        return {}
    if own is not None:
        return {"assessments": own, "assessments_mapping": None, "targets": listed(school_folder / "targets.csv")}
    return {"assessments": str(in_year[0]), "assessments_mapping": str(in_year[1]) if in_year[1] else None,
            "targets": listed(school_folder / "targets.csv")}


def listed(path: Path) -> str | None:
    """A pupil list (``targets.csv``) if it lists anyone: an earlier run's, else this run's own; a list of
    no one is no list (page 06 then says none was given)."""
    from ..errors import DataValidationError
    from ..io.assessments import read_pupil_list

    if not path.is_file() or path.is_symlink():
        return None
    try:
        return str(path) if read_pupil_list(path) else None
    except DataValidationError:
        return None
