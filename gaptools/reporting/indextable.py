"""The gap index as page 02 tables it.

Ranked across a trust, each year's index stands beside the DfE's national
figure (close to, not the same as, the DfE method). Ranked within one school
(the data holds that school alone), it is not comparable with the national
index at all: it is shown with its 95% interval and the pupils it counts,
and never beside the national figure.
"""
from __future__ import annotations

import pandas as pd

from ..analysis.gapindex import index_interval
from .display import WITHHELD


def gap_index_frame(gi: pd.DataFrame) -> pd.DataFrame:
    """One row a year of :func:`gaptools.analysis.gapindex.gap_index` rows (withheld ones said)."""
    years = gi["year"].astype(int).tolist()
    label = "Gap index (0 = none, 10 = complete)"
    if (gi["reference"] == "school").all():
        cells, counts = [], []
        for _, r in gi.iterrows():
            if r["suppressed"]:
                cells.append(WITHHELD)
                counts.append(WITHHELD)
                continue
            low, high = index_interval(r["value"], r["n_disadvantaged"], r["n_other"])
            cells.append(f"{r['value']:.2f} ({low:.2f} to {high:.2f})")
            counts.append(f"{int(r['n_disadvantaged'])} / {int(r['n_other'])}")
        return pd.DataFrame({"Year": years, f"{label}, 95% interval": cells,
                             "Pupils ranked (disadv. / others)": counts})
    return pd.DataFrame({
        "Year": years,
        label: [WITHHELD if s else f"{v:.2f}" for s, v in zip(gi["suppressed"], gi["value"])],
        "National (DfE)": [f"{v:.2f}" if pd.notna(v) else "not on file" for v in gi["national"]],
    })
