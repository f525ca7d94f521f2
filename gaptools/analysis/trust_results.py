"""A trust's results gathered in one place: each school's ``results.json`` read back, or each school analysed.

The trust overview (:class:`gaptools.reporting.trust.TrustReport`) renders what
this gives and computes nothing itself: every figure, verdict and reason is the
schools' results model (one validated table of all schools), and who stands out
or needs support is :mod:`gaptools.analysis.trust`'s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..domain.suppression import DEFAULT_THRESHOLD


@dataclass
class TrustResults:
    """Every school's results, side by side.

    Attributes
    ----------
    docs : list of dict
        Each school's results document (data contract §3), by school id.
    gaps : DataFrame
        The results model of every school, with ``school_id`` and ``school_name``.
    findings : DataFrame
        Every school's findings, with ``school_id`` and ``school_name``.
    threshold : int
        The suppression threshold the results were written with (the highest, if they differ).
    folders : dict
        School id -> its folder of pages (results read from a ``gaptools run``; empty otherwise).
    """

    docs: list[dict]
    gaps: pd.DataFrame
    findings: pd.DataFrame
    threshold: int
    folders: dict[str, str] = field(default_factory=dict)


def trust_results(pupils: pd.DataFrame | None = None, *, results_dir=None,
                  threshold: int | None = None) -> TrustResults:
    """Every school's results: read from a run's ``results_dir`` or, without one, each school of ``pupils`` analysed.

    Parameters
    ----------
    pupils : DataFrame, optional
        From :func:`gaptools.load_pupils` (used when ``results_dir`` is None).
    results_dir : path, optional
        A ``gaptools run`` output folder: each school's ``results.json``.
    threshold : int, optional
        Used when analysing ``pupils`` (default 6); with ``results_dir`` the
        threshold the results were written with is the one given back.

    Returns
    -------
    TrustResults
    """
    from .results import analyse_school, read_results_table, results_dict, results_frame

    docs, frames = [], []
    folders: dict[str, str] = {}  # school id -> its folder of pages (a gaptools run)
    if results_dir is not None:
        for path in sorted(Path(results_dir).glob("*/results.json")):
            doc, frame = read_results_table(path)
            docs.append(doc)
            frames.append(frame)
            folders[str(docs[-1]["school_id"])] = path.parent.name
    elif pupils is not None:
        for sid in sorted(pupils["school_id"].unique()):
            docs.append(results_dict(analyse_school(pupils, sid, threshold=threshold or DEFAULT_THRESHOLD)))
            frames.append(results_frame(docs[-1]))
    used = sorted({int(d["suppression_threshold"]) for d in docs})
    frames = [f.assign(school_id=d["school_id"], school_name=d["school_name"]) for f, d in zip(frames, docs)]
    gaps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    findings = pd.DataFrame([{"school_id": d["school_id"], "school_name": d["school_name"], **f}
                             for d in docs for f in d["findings"]])
    return TrustResults(docs, gaps, findings, used[-1] if used else (threshold or DEFAULT_THRESHOLD), folders)


def latest_drops(docs: list[dict]) -> pd.DataFrame:
    """Each school's year-group rows of ``in_year`` (results.json, ``--assessments``) at its latest data drop.

    Teaching groups are left out: they belong on the school's own page, never on a trust's.
    Rows carry ``school_name``, ordered by school, year group (by number: Year 7 before Year 10) and subject.
    """
    rows = [{"school_name": d["school_name"], **r} for d in docs for r in d.get("in_year") or []
            if r.get("level") == "year_group"]
    if not rows:
        return pd.DataFrame()
    t = pd.DataFrame(rows)
    t = t[t["drop_index"] == t.groupby(["school_id", "year_group", "subject"])["drop_index"].transform("max")]
    return t.sort_values(["school_name", "year_group", "subject"])  # Year 7 before Year 10: by number, not text
