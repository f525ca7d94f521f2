"""A school's analysis kept in a folder, so that the school's other pages read it instead of working it out again.

``gaptools run`` executes pages 01-03 of a school one after the other with the same
``out_dir``: the first computes :func:`gaptools.analyse` and keeps it here; the next
read it back while the data, the choices, gaptools' version and the reference data
are the same (anything else is recomputed: a cache is never a source of truth).
It holds no pupil-level data (the results model only) and lives beside results.json.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import pandas as pd

#: The cache file's name in the folder.
CACHE = ".gaptools-analysis.pkl"


def cache_key(pupils: pd.DataFrame, choices: tuple) -> tuple:
    """What a kept analysis must match: gaptools' version, the analyst's ``choices``, the pupil table
    (hashed: the same table gives the same key), the trust's context of a school's rows (their figures
    depend on it: :func:`gaptools.load_school`) and the reference data on file."""
    from .. import __version__
    from ..domain.reference import reference_fingerprint
    from ..io.byschool import ATTR, TrustContext

    digest = int(pd.util.hash_pandas_object(pupils, index=False).sum())  # once a notebook: analyse() asks once
    trust = pupils.attrs.get(ATTR)
    return (__version__, choices, digest, len(pupils), reference_fingerprint(),
            trust.digest() if isinstance(trust, TrustContext) else None)


def read_cached(folder, key: tuple):
    """The analysis kept in ``folder`` under ``key``, or None (none, another key, or a damaged file)."""
    path = Path(folder) / CACHE
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            kept, value = pickle.load(fh)
    except Exception:  # a damaged or old cache is simply recomputed
        return None
    return value if kept == key else None


def write_cached(folder, key: tuple, value) -> None:
    """Keep ``value`` in ``folder`` under ``key`` (written whole or not at all)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump((key, value), fh)
    os.replace(tmp, folder / CACHE)
