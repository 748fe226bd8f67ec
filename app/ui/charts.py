"""Charts for the monitor and the dashboard, drawn with pyqtgraph.

pyqtgraph takes about half a second to import, so pages build their charts after their
first paint (`deferred`); until then a caption says what is coming. A chart stays hidden
until it is first given its figures — never an empty frame with made-up 0.1…0.9 axes.
Colours follow the window's palette, so charts read the same in the light and the dark theme.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# Distinct in both themes and for the common colour-vision deficiencies (Okabe–Ito).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
GOOD, BAD, NEUTRAL = "#009E73", "#D55E00", "#56B4E9"


def _palette() -> QPalette:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app.palette()


class Chart(pg.PlotWidget):
    """A small plot in the window's colours, with a title that carries the current value."""

    def __init__(self, title: str, left: str = "", bottom: str = "", height: int = 150) -> None:
        palette = _palette()
        super().__init__(background=palette.color(QPalette.ColorRole.Base))
        self.title = title
        self.setMinimumHeight(height)
        self.setMaximumHeight(height + 80)
        self.setMinimumWidth(200)  # side by side on a small screen
        # Pictures, not controls: Tab passes them by (their figures are in their titles, and
        # in the lists and labels beside them).
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setAccessibleName(title)
        item = self.getPlotItem()
        for side, label in (("left", left), ("bottom", bottom)):
            if label:
                item.getAxis(side).setLabel(label)
        item.showGrid(x=False, y=True, alpha=0.15)
        self.shown_title = title
        self.follow_palette()
        self.setHidden(True)  # until its figures come (`reveal`)

    def reveal(self) -> None:
        """Its figures came: the chart shows (it was hidden until then)."""
        if self.isHidden():
            self.setHidden(False)

    def follow_palette(self) -> None:
        """The window's colours: at first, and again when the theme changes."""
        palette = _palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        for side in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(side)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        legend = self.getPlotItem().legend
        if legend is not None:
            legend.setLabelTextColor(text)
            for _sample, label in legend.items:  # (setLabelTextColor keeps their old text)
                label.setText(label.text, color=text)
        self.set_title(self.shown_title)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # (Also sent while the plot is being made or taken apart: then there is nothing to do.)
        ready = getattr(self, "shown_title", None) is not None and self.getPlotItem() is not None
        if event.type() == QEvent.Type.PaletteChange and ready:
            self.follow_palette()

    def set_title(self, text: str) -> None:
        self.shown_title = text
        colour = _palette().color(QPalette.ColorRole.Text).name()
        self.getPlotItem().setTitle(text, color=colour, size="10pt")
        self.setToolTip(text)
        self.setAccessibleDescription(text)


class LiveChart(Chart):
    """Lines over the last hour, newest at the right edge: ``x`` in seconds before now, shown
    in minutes (``per`` seconds to a unit of the axis; 1.0 to plot ``x`` as it comes)."""

    def __init__(
        self, title: str, names: Sequence[str], unit: str, ymax: float | None, per: float = 60.0
    ) -> None:
        super().__init__(title, left=unit, bottom="minutes ago")
        self.per = per
        self.setXRange(-60, 0, padding=0)
        if ymax is not None:
            self.setYRange(0, ymax, padding=0.02)
        self.curves = [
            self.plot(pen=pg.mkPen(COLOURS[n % len(COLOURS)], width=2 if n == 0 else 1), name=name)
            for n, name in enumerate(names)
        ]

    def show_points(self, lines: Sequence[tuple[list[float], list[float]]]) -> None:
        self.reveal()
        for curve, (xs, ys) in zip(self.curves, lines, strict=False):
            curve.setData([x / self.per for x in xs], ys)


class Bars(Chart):
    """Stacked bars: one bar per ``x``, one layer per series (bottom first)."""

    def __init__(
        self,
        title: str,
        layers: Sequence[tuple[str, str]],
        left: str = "",
        bottom: str = "",
        width: float = 0.8,
    ) -> None:
        super().__init__(title, left=left, bottom=bottom)
        self.layers = layers
        self.width = width
        self.items: list[pg.BarGraphItem] = []
        if len(layers) > 1:  # the title names a single layer
            legend = self.getPlotItem().addLegend(offset=(8, 2), colCount=len(layers))
            legend.setLabelTextColor(_palette().color(QPalette.ColorRole.Text))
            for name, colour in layers:  # legend entries; bars are replaced on every update
                legend.addItem(pg.BarGraphItem(x=[], height=[], width=1, brush=colour), name)

    def show_bars(self, xs: Sequence[float], heights: Sequence[Sequence[float]]) -> None:
        self.reveal()
        for item in self.items:
            self.removeItem(item)
        self.items = []
        base = [0.0] * len(xs)
        for (_name, colour), layer in zip(self.layers, heights, strict=True):
            item = pg.BarGraphItem(
                x=list(xs), y0=list(base), height=list(layer), width=self.width, brush=colour,
                pen=pg.mkPen(None),
            )  # fmt: skip
            self.addItem(item)
            self.items.append(item)
            base = [b + h for b, h in zip(base, layer, strict=True)]
        top = max(base, default=0.0)
        headroom = 1.3 if len(self.layers) > 1 else 1.1  # room for the legend above the bars
        self.setYRange(0, max(top, 1.0) * headroom, padding=0)
        axis = self.getPlotItem().getAxis("left")
        if top <= 8 and all(float(h).is_integer() for layer in heights for h in layer):
            axis.setTickSpacing(2 if top > 4 else 1, 1)  # counts: whole numbers only
        else:
            axis.setTickSpacing()  # pyqtgraph's own
        if xs:
            self.setXRange(min(xs) - 0.5, max(xs) + 0.5, padding=0)


def day_ticks(days: Sequence[date], every: int = 7) -> list[list[tuple[float, str]]]:
    """Axis ticks for bars at 0…n-1, one per day: a date every ``every`` days, the last always."""
    marked = {n for n in range(len(days)) if (len(days) - 1 - n) % every == 0}
    return [[(float(n), f"{days[n]:%d %b}") for n in sorted(marked)]]


class Trend(Chart):
    """One line with dots, over days (``x`` 0…n-1); gaps where there is no figure."""

    def __init__(self, title: str, left: str, ymax: float | None = None) -> None:
        super().__init__(title, left=left)
        if ymax is not None:
            self.setYRange(0, ymax, padding=0.05)
        self.curve = self.plot(
            pen=pg.mkPen(NEUTRAL, width=2), symbol="o", symbolSize=5, symbolBrush=NEUTRAL,
            connect="finite",
        )  # fmt: skip

    def show_values(self, values: Sequence[float | None]) -> None:
        self.reveal()
        if all(v is None for v in values):  # nothing to draw (and no all-NaN warnings)
            self.curve.setData([], [])
        else:
            self.curve.setData(
                list(range(len(values))), [float("nan") if v is None else v for v in values]
            )
        if values:
            self.setXRange(-0.5, len(values) - 0.5, padding=0)


class WeekStrip(Chart):
    """The next days as columns, the hour of the day downwards: one dot per planned moment,
    coloured by kind. Clicking a dot calls ``on_pick`` with what it carries."""

    def __init__(
        self, title: str, kinds: dict[str, str], on_pick: Callable[[object], None]
    ) -> None:
        super().__init__(title, left="hour")
        self.kinds = kinds
        self.on_pick = on_pick
        self.getPlotItem().invertY(True)
        self.setYRange(0, 24, padding=0.02)
        self.getPlotItem().getAxis("left").setTicks([[(h, f"{h:02d}") for h in range(0, 25, 6)]])
        self.scatter = pg.ScatterPlotItem(
            size=9, pen=pg.mkPen(None), hoverable=True, tip=lambda x, y, data: data[0]
        )
        self.scatter.sigClicked.connect(self._clicked)
        self.addItem(self.scatter)
        legend = self.getPlotItem().addLegend(offset=(-8, 2), colCount=len(kinds))
        legend.setLabelTextColor(_palette().color(QPalette.ColorRole.Text))
        for name, colour in kinds.items():
            legend.addItem(pg.ScatterPlotItem(brush=colour, pen=pg.mkPen(None), size=8), name)

    def show_moments(
        self, first: date, days: int, moments: Sequence[tuple[datetime, str, object]]
    ) -> None:
        """``moments``: (local time, kind, what a click passes on)."""
        self.reveal()
        spots = []
        for when, kind, data in moments:
            column = (when.date() - first).days
            if 0 <= column < days:
                spots.append(
                    {
                        "pos": (column, when.hour + when.minute / 60),
                        "brush": pg.mkBrush(QColor(self.kinds.get(kind, NEUTRAL))),
                        "data": (f"{when:%a %d %b %H:%M}: {kind}", data),
                    }
                )
        self.scatter.setData(spots)
        labels = [
            (float(n), f"{date.fromordinal(first.toordinal() + n):%a %d}") for n in range(days)
        ]
        self.getPlotItem().getAxis("bottom").setTicks([labels])
        self.setXRange(-0.5, days - 0.5, padding=0)

    def _clicked(self, _item: object, points: Sequence[pg.SpotItem], *_args: object) -> None:
        if len(points):
            self.on_pick(points[0].data()[1])
