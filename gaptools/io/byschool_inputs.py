"""A run's optional pupil-level inputs laid out by school: the current pupils and the data drops, each
school's rows in a validated Parquet file of its own.

The batch runner validates the current pupils (``--current``) and the assessments (``--assessments``)
once; :func:`save_current_by_school` and :func:`save_assessments_by_school` then write each school's
rows once, in the run's private folder (they name pupils: never in the output), and each school's
notebooks read their own file alone, so what a school costs does not grow with the trust (as its
pupil table: :mod:`.byschool`). A school with no rows gets a file of none: its pages then say what
they say of the whole table without its rows. :func:`gaptools.load_pupils` reads a current file back
as any validated copy (:mod:`.validated`); :func:`gaptools.load_assessments` reads an assessments
file back with :func:`read_validated_assessments`. The loading warnings are the whole table's and
are not repeated in each school's file (no page shows them).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..domain import assessments as A
from .byschool import school_file
from .validated import save_validated, values_within

#: An assessments file's metadata: its rows passed :func:`gaptools.load_assessments` (a claim, checked on reading).
ASSESSMENTS_KEY = b"gaptools.validated_assessments"


def _rows_by_school(frame: pd.DataFrame, schools) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each school's rows of ``frame`` in its order (none for a school without any), each once."""
    where = frame.groupby(frame["school_id"].astype(str), sort=False).indices
    for sid in dict.fromkeys(map(str, schools)):
        rows = frame.take(where.get(sid, np.empty(0, dtype=np.intp))).reset_index(drop=True)
        yield sid, rows


def save_current_by_school(current: pd.DataFrame, folder, schools) -> dict[str, Path]:
    """Write each school's rows of the validated current pupils as a validated copy of their own.

    Parameters
    ----------
    current : DataFrame
        From :func:`gaptools.load_pupils` with ``current=True`` (names and all: the files stay private).
    folder : path
        Made if need be (the run's private folder).
    schools : iterable of str
        The schools to write a file for.

    Returns
    -------
    dict
        Each school's file, read back by :func:`gaptools.load_pupils`.
    """
    folder = Path(folder)
    out = {}
    for sid, rows in _rows_by_school(current, schools):
        rows.attrs = {**current.attrs, "gaptools_warnings": [], "gaptools_sources": []}
        out[sid] = save_validated(rows, folder / school_file(sid))
    return out


def save_assessments_by_school(assessments: pd.DataFrame, folder, schools) -> dict[str, Path]:
    """Write each school's rows of the validated assessments as a Parquet file of their own.

    Parameters
    ----------
    assessments : DataFrame
        From :func:`gaptools.load_assessments`.
    folder : path
        Made if need be (the run's private folder).
    schools : iterable of str

    Returns
    -------
    dict
        Each school's file, read back by :func:`gaptools.load_assessments`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for sid, rows in _rows_by_school(assessments, schools):
        table = pa.Table.from_pandas(rows, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               ASSESSMENTS_KEY: json.dumps({"school": sid}).encode()})
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".parquet.tmp")
        os.close(fd)
        pq.write_table(table, tmp)
        os.replace(tmp, folder / school_file(sid))
        out[sid] = folder / school_file(sid)
    return out


def read_validated_assessments(path) -> pd.DataFrame | None:
    """A file written by :func:`save_assessments_by_school`, or None if ``path`` is not one (or its rows
    are not as :func:`gaptools.load_assessments` gives them: it is then validated as any other file)."""
    import pyarrow.parquet as pq

    if isinstance(path, pd.DataFrame) or not str(path).lower().endswith(".parquet") or not Path(path).is_file():
        return None
    try:
        if ASSESSMENTS_KEY not in (pq.read_schema(path).metadata or {}):
            return None
        frame = pd.read_parquet(path)
    except Exception:  # not Parquet, or damaged: the ordinary loader will say so
        return None
    if not _typed_as_assessments(frame):
        return None
    frame.attrs["gaptools_warnings"] = []
    return frame


def _typed_as_assessments(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has the columns, types and values :func:`gaptools.load_assessments` gives (the
    metadata is only a claim: a forged file is validated in full instead of failing later)."""
    if any(c not in frame.columns for c in (*A.REQUIRED, "teaching_group")):
        return False
    for col in frame.columns:
        spec = A.spec_for(col)
        if spec is None or col in A.NAME_COLUMNS:
            return False
        values = frame[col]
        if values.dtype != A.parse(spec, pd.Series([], dtype=object))[0].dtype:
            return False
        if (spec.required and col != "score" and values.isna().any()) or not values_within(values, spec):
            return False
    return not frame.duplicated(list(A.KEY)).any()
