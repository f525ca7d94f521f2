"""Display types for notebooks and pages: charts, tables, sections, Markdown."""
from __future__ import annotations

import html

import pandas as pd

WITHHELD = "withheld"


#: Pixels per inch of every chart's PNG.
DPI = 110


class Chart:
    """A rendered chart: a PNG for notebooks and HTML, with a text alternative.

    ``title`` is the chart's title; ``alt`` says what it shows in words (set by
    :func:`gaptools.reporting.charts.describe`; the title when there is none),
    and reaches the page as the image's ``alt`` attribute.
    """

    def __init__(self, figure):
        import io

        from matplotlib import rc_context
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure = figure
        axes = figure.get_axes()
        self.title = getattr(figure, "gaptools_title", "") or (axes[0].get_title(loc="left") if axes else "")
        self.alt = getattr(figure, "alt_text", "") or self.title or "Chart"
        buf = io.BytesIO()
        dpi, canvas = figure.dpi, figure.canvas
        try:  # as savefig: the figure keeps its own resolution and canvas (a pyplot figure its window)
            figure.set_dpi(DPI)
            # drawn once, laid out as it draws: savefig would also draw a constrained-layout figure a first
            # time only to lay it out (a third of a notebook's chart time), for the same pixels
            with rc_context(getattr(figure, "gaptools_theme", {})):  # a gaptools chart's theme, never global
                FigureCanvasAgg(figure).print_png(buf)
        finally:
            figure.set_dpi(dpi)
            figure.set_canvas(canvas)
        self.png = buf.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None):
        import base64

        return ({"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": f"Chart: {self.title}"},
                {"image/png": {"alt": self.alt}})

    def __repr__(self):
        return f"Chart({self.title!r})"


class Table:
    """A table for people: no row numbers, text left-aligned; ``.data`` is the DataFrame."""

    def __init__(self, data: pd.DataFrame, index: bool = False):
        self.data = data
        self.index = index

    def _repr_html_(self):
        # every cell and heading may come from data: HTML-escaped (a school, a pupil id, an ethnicity)
        data = self.data.copy(deep=False)
        for axis in (data.index, data.columns):  # Styler leaves index and column *names* as they are
            axis.names = [None if n is None else html.escape(str(n)) for n in axis.names]
        styler = data.style.format(precision=2, na_rep="", escape="html")
        styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
        if not self.index:
            styler = styler.hide(axis="index")
        # one rule for the table, not a style per cell (set_properties): the same look, a third less
        # HTML and work
        styler = styler.set_table_styles([{"selector": "th, td", "props": [("text-align", "left")]}])
        return styler.to_html()

    def __repr__(self):
        return self.data.to_string(index=self.index)


def _presentable(part):
    from matplotlib.figure import Figure

    if isinstance(part, Figure):
        return Chart(part)
    if isinstance(part, pd.DataFrame):
        return Table(part, index=not isinstance(part.index, pd.RangeIndex))
    return part


class Section(list):
    """Several outputs shown one after another (e.g. one per key stage)."""

    def _ipython_display_(self):
        from IPython.display import display

        for part in self:
            if part is not None:
                display(part)

    def append(self, part):
        super().append(_presentable(part))


def markdown(text: str):
    """IPython Markdown when in a notebook, plain text otherwise."""
    try:
        from IPython.display import Markdown
        return Markdown(text)
    except ImportError:  # pragma: no cover - gaptools always installs IPython via ipykernel
        return text
