"""A run's validated pupil table laid out by school: each school's rows, with the trust's context for them,
in a Parquet file of its own.

The batch runner validates the trust once and works out once what every school's figures share
with the trust (value added against the trust's pupils, each pupil's rank in the trust for the
gap index: :mod:`gaptools.analysis.trustwide`). :func:`save_by_school` writes the table as a
folder with one file a school, each a validated copy (:mod:`.validated`) of that school's rows
with that context in columns beside them; a school's notebooks read their own file alone
(:func:`read_school`), so what a school costs does not grow with the trust. The context comes
back in ``attrs`` (:class:`TrustContext`), never as columns of the pupil table.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UnknownSchoolError
from .validated import VALIDATED_KEY, read_validated, save_validated

#: Columns of a school's file holding the trust's context (never a pupil-table column: no input is named so).
CONTEXT_PREFIX = "__trust__"
#: The context's row key column (see :func:`gaptools.analysis.trustcontext.row_keys`).
KEY = CONTEXT_PREFIX + "key"
#: A school file's metadata: its school and what the context says of the whole trust.
CONTEXT_META = b"gaptools.trust_context"
#: The folder's index: its schools in the table's order, and a token that tells a worker it sees this folder.
INDEX = "by-school.json"
#: Where a pupil table keeps the trust's context of its rows.
ATTR = "gaptools_trust_context"


@dataclass(frozen=True, eq=False)
class TrustContext:
    """The trust's figures for some of its rows (read-only).

    Attributes
    ----------
    values : DataFrame
        One row per pupil row of the trust table, indexed by its row key: ``va_<measure>``
        (value added against the trust) and ``index_rank`` (the gap index's percentile rank).
    info : dict
        ``columns`` (those the row key covers), ``first_scored`` (how many schools' first year
        with a gap-index score is each year), ``school`` and, once the rows are cut to a year,
        ``up_to``.
    """

    values: pd.DataFrame
    info: dict

    def __deepcopy__(self, memo) -> TrustContext:
        return self  # read-only: pandas copies ``attrs`` at every step, this need not be copied

    def digest(self) -> str:
        """A fingerprint of the context (a cache of figures worked out with it is kept only for the same one)."""
        h = hashlib.sha256(pd.util.hash_pandas_object(self.values).to_numpy().tobytes())
        h.update(json.dumps(self.info, sort_keys=True).encode())
        return h.hexdigest()

    def __repr__(self) -> str:
        return f"TrustContext({len(self.values)} rows, {', '.join(self.values.columns)})"


def school_file(school_id) -> str:
    """A school's file name in the folder: a digest of its id (any text is safe as a name)."""
    return hashlib.sha1(str(school_id).encode("utf-8")).hexdigest()[:24] + ".parquet"


def save_by_school(pupils: pd.DataFrame, folder, context: pd.DataFrame, info: dict) -> Path:
    """Write a validated table as a folder of one validated Parquet file a school.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`.
    folder : path
        Made (replaced if it exists).
    context : DataFrame
        Aligned with ``pupils`` (by position): the trust's figures for each row, and its row key
        in column ``key`` (:func:`gaptools.analysis.trustwide.trust_context`).
    info : dict
        What the context says of the whole trust (JSON).

    Returns
    -------
    Path
        The folder.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".by-school-"))
    whole = save_validated(pupils, work / "whole.parquet")  # the validated copy's own format, then cut up
    table = pq.read_table(whole)
    whole.unlink()
    for col in context.columns:
        table = table.append_column(KEY if col == "key" else CONTEXT_PREFIX + col, pa.array(context[col].to_numpy()))
    meta = dict(table.schema.metadata or {})
    # the loading warnings and source files are the whole table's (as many as its files): kept once, in the
    # index, so that a school's file stays the size of its rows
    whole_meta = json.loads(meta[VALIDATED_KEY])
    meta[VALIDATED_KEY] = json.dumps({**whole_meta, "warnings": [], "sources": []}).encode()
    # the rows in school order (each school's in the table's order) once, then each school's a slice of them
    code, schools = pd.factorize(pupils["school_id"].astype(str).to_numpy(dtype=object), sort=False)
    table = table.take(pa.array(np.argsort(code, kind="stable")))
    ends = np.cumsum(np.bincount(code, minlength=len(schools)))
    for sid, start, end in zip(schools, ends - np.bincount(code, minlength=len(schools)), ends):
        mine = {**meta, CONTEXT_META: json.dumps({**info, "school": sid}).encode()}
        pq.write_table(table.slice(int(start), int(end - start)).replace_schema_metadata(mine),
                       work / school_file(sid))
    (work / INDEX).write_text(json.dumps({"schools": [str(s) for s in schools], "token": uuid.uuid4().hex,
                                          "warnings": whole_meta["warnings"], "sources": whole_meta["sources"]}),
                              encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(work, folder)
    return folder


def is_by_school(path) -> bool:
    """Whether ``path`` is a folder written by :func:`save_by_school`."""
    try:
        return (Path(path) / INDEX).is_file()
    except (TypeError, OSError):
        return False


def folder_token(path) -> str | None:
    """The folder's token (None if this machine does not see it): a Dask worker that gives the client's
    token reads the school files where they are."""
    try:
        return str(json.loads((Path(path) / INDEX).read_text(encoding="utf-8"))["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_school(path, school_id) -> pd.DataFrame | None:
    """One school's rows of a table written by :func:`save_by_school`, the trust's context in ``attrs``.

    Parameters
    ----------
    path : path
        The folder, or one school's file from it (a Dask worker's copy).
    school_id : str

    Returns
    -------
    DataFrame or None
        As :func:`gaptools.load_pupils` gives the whole table, with the school's rows alone and
        ``attrs["gaptools_trust_context"]`` a :class:`TrustContext` (the table's loading warnings and
        source files are not repeated in each school's file: :func:`read_all` has them); None if ``path`` is no such
        folder or file (or is damaged: the whole table is then read as any other).

    Raises
    ------
    UnknownSchoolError
        The folder has no such school (the closest ids are named).
    """
    import pyarrow.parquet as pq

    path, school_id = Path(path), str(school_id)
    if path.is_dir():
        if not is_by_school(path):
            return None
        file = path / school_file(school_id)
        if not file.is_file():
            known = json.loads((path / INDEX).read_text(encoding="utf-8"))["schools"]
            close = difflib.get_close_matches(school_id, known, n=5, cutoff=0.5) or known[:5]
            raise UnknownSchoolError(f"school {school_id!r} is not in the data; closest ids: {', '.join(close)}")
    elif path.suffix.lower() == ".parquet" and path.is_file():
        file = path
    else:
        return None
    try:
        info = json.loads((pq.read_schema(file).metadata or {})[CONTEXT_META])
    except Exception:  # not one school's file of ours
        return None
    frame = read_validated(file)  # checked as any validated copy (the metadata is only a claim)
    if frame is None or info.get("school") != school_id or KEY not in frame.columns \
            or not (frame["school_id"] == school_id).all():
        return None
    extra = [c for c in frame.columns if c.startswith(CONTEXT_PREFIX)]
    values = frame[extra].set_index(KEY)
    values.columns = [c[len(CONTEXT_PREFIX):] for c in values.columns]
    rows = frame.drop(columns=extra)
    rows.attrs = frame.attrs
    rows.attrs[ATTR] = TrustContext(values, info)
    return rows


def read_all(path) -> pd.DataFrame:
    """Every school's rows of a table written by :func:`save_by_school`, as one table (no context)."""
    index = json.loads((Path(path) / INDEX).read_text(encoding="utf-8"))
    parts = []
    for sid in index["schools"]:
        rows = read_school(path, sid)
        if rows is None:
            raise ValueError(f"{path}: the file of school {sid!r} is damaged")
        parts.append(rows)
    whole = pd.concat(parts, ignore_index=True)
    whole.attrs = {**{k: v for k, v in parts[0].attrs.items() if k != ATTR},
                   "gaptools_warnings": list(index["warnings"]), "gaptools_sources": list(index["sources"])}
    return whole
