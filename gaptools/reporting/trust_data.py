"""What the trust overview reads: every school's results (:func:`gaptools.analysis.trust_results.trust_results`),
and the few words and cells its sections share. Nothing here computes a figure."""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import is_yes, with_interval, withheld_text
from .school_data import load_data

NO_RESULTS = ("_No gap figures: the schools' data has no outcome measure (see each school's gap analysis "
              "for why)._")


class TrustData:
    """The results behind :class:`~gaptools.reporting.trust.TrustReport` (its parameters are documented there)."""

    def __init__(self, data=None, *, results_dir=None, mapping=None, threshold: int | None = None):
        from ..analysis.trust_results import trust_results

        pupils = load_data(data, mapping) if results_dir is None else None
        got = trust_results(pupils, results_dir=results_dir, threshold=threshold)
        self.folders: dict[str, str] = got.folders  # school id -> its folder of pages (a gaptools run)
        self.docs = got.docs
        self.threshold = got.threshold
        self.gaps = got.gaps
        self.findings = got.findings

    def _latest(self, comparison="in_school"):
        """Each school's whole-cohort rows of its latest year (:func:`gaptools.analysis.trust.latest`)."""
        from ..analysis.trust import latest

        return latest(self.gaps, comparison)


def real(g: pd.DataFrame) -> pd.Series:
    """Gaps the results model calls clear (they survive the false-discovery-rate control)."""
    return g["clear"].map(is_yes).astype(bool)


def trust_gap_text(r, threshold: int) -> str:
    """A gap with unit and interval, ' *' when clear; or why it is withheld."""
    if r["suppressed"]:
        return withheld_text(r["withheld_reason"], threshold)
    mark = " *" if is_yes(r["clear"]) else ""
    return with_interval(r["gap"], r["ci_low"], r["ci_high"], r["unit"], r["measure"], r["kind"]) + mark
