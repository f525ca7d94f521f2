"""Read a Parquet table, within bounds its footer describes and with one value in each cell."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import Problem
from .tablebounds import MAX_PARQUET_BYTES, MAX_PARQUET_CELLS


def read_parquet_table(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        import pyarrow.parquet as pq
        import pyarrow.types as pat

        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
        nested = [f.name for f in schema if pat.is_nested(f.type)]
        if nested:
            return None, [Problem(name, 1, column, None,
                                  "holds lists or records, not one value per cell; "
                                  "a pupil table has one value in each cell") for column in nested]
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if size > MAX_PARQUET_BYTES or meta.num_rows * max(meta.num_columns, 1) > MAX_PARQUET_CELLS:
            return None, [Problem(name, None, None, None,
                                  f"holds {meta.num_rows:,} rows of {meta.num_columns:,} columns "
                                  f"({size / 2**20:,.0f} MB uncompressed), more than gaptools reads "
                                  f"({MAX_PARQUET_CELLS:,} cells, {MAX_PARQUET_BYTES // 2**20:,} MB)")]
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        return None, [Problem(name, None, None, None,
                              f"could not be read as a Parquet file ({type(exc).__name__}: {exc})")]
    return frame, []
