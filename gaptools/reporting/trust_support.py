"""Where central support should go (notebook 04 and ``trust.csv``): the analysis' decision list
(:func:`gaptools.analysis.trust.support_priorities`) as people read it."""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import cap
from .display import Section, Table, markdown
from .trust_data import NO_RESULTS, TrustData

#: The decision list's rows on the page.
SUPPORT_MOST = 15
#: ``trust.csv``'s columns: the decision list's, with headings in words.
CSV_COLUMNS = {"rank": "Rank", "school_id": "School id", "school_name": "School", "key_stages": "Key stages",
               "disadvantaged_pupils": "Disadvantaged pupils (latest year)", "concerns": "Concerns",
               "clear_gaps": "Clear gaps against other pupils in school", "widening": "Clearly widening",
               "behind_national": "Clearly behind national figures",
               "stands_out": "Gap larger than the trust's (beyond chance)", "reason": "Why"}


class TrustSupport(TrustData):
    """The decision list, on the page and as ``trust.csv``."""

    def support_table(self, most: int = SUPPORT_MOST):
        """Where central support should go: the decision list of :func:`gaptools.analysis.trust.support_priorities`
        (schools with the most concerns first, each with its reasons in words), its first ``most`` schools."""
        from ..analysis.trust import support_priorities

        if self.gaps.empty:
            return markdown(NO_RESULTS)
        t = support_priorities(self.gaps)
        if t.empty:
            return markdown("_No school has a clear headline gap, a widening gap, a gap behind national figures or a "
                            "gap larger than the trust's: no case for targeted central support from the data._")
        shown = t.head(most)
        table = Table(pd.DataFrame({"Rank": shown["rank"].astype(int), "School": shown["school_name"],
                                    "Key stage": shown["key_stages"], "Concerns": shown["concerns"],
                                    "Why": shown["reason"].map(cap)}).reset_index(drop=True))
        more = len(t) - len(shown)
        n = len(self.docs)
        words = (f"{len(t)} of {n} school{'s' if n != 1 else ''} show at least one concern"
                 + (f"; the first {len(shown)} are here, every school (with or without a concern) is in "
                    "`trust.csv` beside this page, to sort and filter in a spreadsheet." if more else "."))
        return Section([markdown(words), table])

    def support_csv(self) -> str:
        """``trust.csv``: the decision list of every school (those without a concern last, unranked), as
        UTF-8 with a byte-order mark (so that Excel reads the names right) and every cell safe to open in
        a spreadsheet (:func:`gaptools.io.spreadsheet.safe_csv`)."""
        from ..analysis.trust import support_priorities
        from ..io.spreadsheet import safe_csv

        t = support_priorities(self.gaps, every_school=True) if not self.gaps.empty else pd.DataFrame(
            columns=list(CSV_COLUMNS))
        return "\ufeff" + safe_csv(t[list(CSV_COLUMNS)].rename(columns=CSV_COLUMNS))
