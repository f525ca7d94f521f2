"""The validated copy of a pupil table: written once by the batch runner, read back by every notebook.

:func:`save_validated` writes a table :func:`gaptools.io.loading.load_pupils`
has checked as Parquet with its custom measures and warnings;
:func:`read_validated` reads it back without validating it again, once its
types and schema check out (the metadata alone is only a claim).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..domain import columns as C
from ..domain.measures import Measure, derive_standard_measures

VALIDATED_KEY = b"gaptools.validated"


def save_validated(pupils: pd.DataFrame, path) -> Path:
    """Write a validated pupil table as Parquet, with its custom measures, atomically.

    ``load_pupils`` reads such a file back without validating it again (the
    batch runner validates once, then every notebook starts from this file).
    """
    import json
    import os
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pupils.reset_index(drop=True).copy()
    frame.attrs = {}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {"measures": [m.__dict__ for m in pupils.attrs.get("gaptools_measures", {}).values()],
            "warnings": list(pupils.attrs.get("gaptools_warnings", [])),
            "sources": list(pupils.attrs.get("gaptools_sources", []))}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           VALIDATED_KEY: json.dumps(meta).encode()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".parquet.tmp")
    os.close(fd)
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def read_validated(path) -> pd.DataFrame | None:
    """A table written by :func:`save_validated`, or None if ``path`` is not one."""
    import json

    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:  # not a Parquet file at all: the ordinary loader will say so
        return None
    if VALIDATED_KEY not in meta:
        return None
    try:
        info = json.loads(meta[VALIDATED_KEY])
        measures = {m["name"]: Measure(**{**m, "key_stages": None}) for m in info["measures"]}
        warnings_, sources_ = [str(w) for w in info["warnings"]], [str(s) for s in info["sources"]]
        frame = pd.read_parquet(path)
    except Exception:  # metadata that is not ours (or a damaged file): validate it as any other file
        return None
    # The metadata is only a claim (anyone can write it): check the types and the schema
    # before trusting it, so a forged file is validated in full instead of failing later.
    if not _typed_as_validated(frame, measures):
        return None
    derive_standard_measures(frame)  # never trust derived measures from the file
    frame.attrs["gaptools_measures"] = measures
    frame.attrs["gaptools_warnings"] = warnings_
    frame.attrs["gaptools_sources"] = sources_
    return frame



def values_within(values: pd.Series, spec) -> bool:
    """Whether every known value in ``values`` is one ``spec`` allows and within its range (``allowed``,
    ``ge``, ``le``: a column spec of the pupil table or of the data drops)."""
    if spec.allowed and not values.dropna().isin(spec.allowed).all():
        return False
    if spec.ge is not None and (values < spec.ge).fillna(False).any():
        return False
    return not (spec.le is not None and (values > spec.le).fillna(False).any())


def _typed_as_validated(frame: pd.DataFrame, measures: dict[str, Measure]) -> bool:
    """Whether ``frame`` has the types :func:`load_pupils` gives and passes the schema."""
    if any(c not in frame.columns for c in C.REQUIRED):
        return False
    for col in frame.columns:
        spec = C.spec_for(col)
        if spec is not None and str(frame[col].dtype) != spec.dtype \
                and not (spec.kind == "grade" and str(frame[col].dtype) == C.GRADE_HALF_DTYPE):  # a double award's half
            return False
        if spec is None and col in measures and str(frame[col].dtype) not in ("Float64", "boolean"):
            return False
        if spec is None:
            continue
        values = frame[col]
        if (spec.required and values.isna().any()) or not values_within(values, spec):
            return False
    if "school_name" not in frame.columns or frame["school_name"].isna().any():
        return False
    return not frame.duplicated(["school_id", "year", "key_stage", "pupil_id"]).any()
