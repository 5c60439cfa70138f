"""PNG charts of the reports, drawn with matplotlib from the same numbers as the JSON.

matplotlib is set to the Agg backend before anything else of it is imported, and only its object
API is used (`Figure` with an Agg canvas, no `pyplot`): pyplot keeps a global current figure and
is not safe in a threaded server; a Figure of our own per request is.

Every piece of text goes through `_text`: matplotlib reads a pair of `$` as maths, so a book
called "$5 for $1" would otherwise be typeset (or fail to parse).
"""

import io
import textwrap
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

from matplotlib import dates as mdates  # noqa: E402  (after the backend is chosen)
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

# Titles in scripts the bundled DejaVu fonts lack are drawn with placeholder boxes; say nothing.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)

DPI = 100
FULL_WIDTH = 800  # CSS pixels from which text is drawn at full size
MIN_TEXT = 0.75  # narrower charts draw their text down to this fraction of full size
REVENUE_COLOUR = "#1f77b4"
ORDERS_COLOUR = "#ff7f0e"
UNITS_COLOUR = "#2ca02c"
LOW_COLOUR = "#d62728"
SHORTFALL_COLOUR = "#f5b7b1"
MAX_LABEL = 60  # characters of a label on an axis
ROW_INCHES = 0.3  # height of one horizontal bar
MAX_INVENTORY_BARS = 40
MAX_BARS = 120  # periods drawn as separate bars; more are drawn as one stepped area
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
PERIOD_WORDS = {
    "day": ("Daily", "Day"),
    "week": ("Weekly", "Week (ISO, starting Monday)"),
    "month": ("Monthly", "Month"),
}


@dataclass(frozen=True)
class Size:
    """The width the page shows the chart at (CSS pixels) and the screen's pixels per CSS pixel.
    Below FULL_WIDTH the text shrinks (to MIN_TEXT at most) and long labels are cut shorter, so a
    phone-width chart stays legible instead of being a shrunken desktop picture."""

    width: int = 1000
    scale: int = 1

    @property
    def text(self) -> float:
        return max(MIN_TEXT, min(1.0, self.width / FULL_WIDTH))

    @property
    def inches(self) -> float:
        return self.width / (DPI * self.text)

    @property
    def dpi(self) -> float:
        return DPI * self.text * self.scale

    @property
    def label_chars(self) -> int:
        return MAX_LABEL if self.width >= FULL_WIDTH else max(16, MAX_LABEL * self.width // FULL_WIDTH)


def _text(value) -> str:
    return str(value).replace("$", r"\$")


def _short(title: str, limit: int = MAX_LABEL) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


class Money:
    """Formats amounts in the report's currency: "$1,234.50" (or "1,234.50 CHF" for other codes)."""

    def __init__(self, currency: str):
        self.code = currency
        self.symbol = CURRENCY_SYMBOLS.get(currency)

    def __call__(self, amount, decimals: int = 2) -> str:
        number = f"{Decimal(amount):,.{decimals}f}"
        return f"{self.symbol}{number}" if self.symbol else f"{number} {self.code}"

    def axis(self, decimals: int = 0) -> FuncFormatter:
        return FuncFormatter(lambda value, _pos: _text(self(Decimal(str(value)), decimals)))


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


def _period_end(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _columns(axes, starts: list[date], values: list, period: str, colour: str) -> None:
    """One bar per period, each as wide as its period; past MAX_BARS periods, one stepped area
    (a single shape: drawing hundreds of separate bars costs most of the time of the chart)."""
    if not starts:
        return
    ends = [_period_end(s, period) for s in starts]
    if len(starts) <= MAX_BARS:
        widths = [(e - s).days * 0.85 for s, e in zip(starts, ends, strict=True)]
        axes.bar(starts, values, width=widths, align="edge", color=colour)
        return
    edges = [*starts, ends[-1]]
    heights = [*values, values[-1]]
    axes.fill_between(edges, heights, step="post", color=colour, alpha=0.85, linewidth=0)


def sales_chart(report: dict, currency: str, size: Size = Size()) -> bytes:
    """Revenue (bars, top) and orders (bars, bottom) per period, dates along a shared axis."""
    money = Money(currency)
    series, totals, period = report["series"], report["totals"], report["period"]
    adjective, period_label = PERIOD_WORDS[period]
    starts = [p["period_start"] for p in series]
    revenue = [float(p["revenue"]) for p in series]
    orders = [p["orders"] for p in series]

    figure = Figure(figsize=(size.inches, 6.5), dpi=size.dpi, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(
        _text(f"{adjective} sales, {report['from_'].isoformat()} to {report['to'].isoformat()}"),
        fontsize=14,
        fontweight="bold",
        wrap=True,
    )
    top.set_title(
        _text(
            f"{totals['orders']:,} orders · {totals['units']:,} copies · {money(totals['revenue'])} revenue "
            "(cancelled orders excluded)"
        ),
        fontsize=10,
        wrap=True,
    )
    _columns(top, starts, revenue, period, REVENUE_COLOUR)
    top.set_ylabel(_text(f"Revenue ({money.symbol or money.code})"))
    top.yaxis.set_major_formatter(money.axis(0 if max(revenue, default=0) >= 10 else 2))
    _columns(bottom, starts, orders, period, ORDERS_COLOUR)
    bottom.set_ylabel("Orders")
    _thousands(bottom.yaxis)
    bottom.set_xlabel(period_label)
    for axes, values in ((top, revenue), (bottom, orders)):
        axes.set_ylim(0, max(values) * 1.08 if values and max(values) > 0 else 1)
        axes.grid(axis="y", alpha=0.3)
    if not totals["orders"]:
        top.text(0.5, 0.5, "No orders in this range", ha="center", va="center", transform=top.transAxes)
    if starts:
        pad = timedelta(days=1 if len(starts) <= MAX_BARS else 0)
        bottom.set_xlim(starts[0] - pad, _period_end(starts[-1], period) + pad)
    locator = mdates.AutoDateLocator(minticks=3 if size.width < FULL_WIDTH else 4, maxticks=12)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return _png(figure)


def _wrap(text: str, size: Size, fontsize: float, share: float = 1.0) -> str:
    """The text broken into lines that fit `share` of the figure's width (about 0.6 em a character)."""
    chars = max(12, int(share * size.inches * 72 / (fontsize * 0.6)))
    return "\n".join(textwrap.wrap(text, chars)) or text


def _bars_figure(rows: int, title: str, subtitle: str, size: Size, legend_inches: float = 0.0):
    """A figure for `rows` horizontal bars under a title and subtitle (centred on the figure, not on
    the axes, which the labels push right; wrapped to the width, the header growing with the
    lines): a fixed height per bar, margins set by `_fit_labels` (constrained layout measures every
    label many times over: most of the time of a 100-bar chart)."""
    title, subtitle = _wrap(title, size, 13), _wrap(subtitle, size, 9)
    subtitle_top = 0.1 + 0.24 * (title.count("\n") + 1) + 0.04
    header_inches = subtitle_top + 0.18 * (subtitle.count("\n") + 1) + 0.08 + legend_inches
    height = max(3.5, ROW_INCHES * rows + header_inches + 0.8)
    figure = Figure(figsize=(size.inches, height), dpi=size.dpi)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(top=1 - header_inches / height, bottom=0.75 / height, right=1 - 0.3 / size.inches)
    figure.text(0.5, 1 - 0.1 / height, _text(title), ha="center", va="top", fontsize=13, fontweight="bold")
    figure.text(0.5, 1 - subtitle_top / height, _text(subtitle), ha="center", va="top", fontsize=9)
    return figure, figure.subplots()


def _room_for_labels(figure: Figure, axes, labels, longest: float, at_least: float) -> None:
    """Widen the x range so the label beside the longest bar stays inside the axes (measured once,
    after `_fit_labels` has set the axes' width)."""
    renderer = figure.canvas.get_renderer()
    axes_px = axes.get_window_extent(renderer).width
    widest = max((t.get_window_extent(renderer).width for t in labels), default=0)
    free = max(axes_px - widest - 8 * figure.dpi / DPI, axes_px * 0.3)
    axes.set_xlim(0, max(at_least, longest * axes_px / free))


def _fit_labels(figure: Figure, axes) -> None:
    """Make room on the left for the widest y label (measured once) and the axis title."""
    renderer = figure.canvas.get_renderer()
    widest = max((t.get_window_extent(renderer).width for t in axes.get_yticklabels()), default=0)
    left = (widest + 45 * figure.dpi / DPI) / (figure.get_figwidth() * figure.dpi)
    figure.subplots_adjust(left=min(max(left, 0.12), 0.6))


def _thousands(axis) -> None:
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))


def popular_chart(report: dict, currency: str, size: Size = Size()) -> bytes:
    """Top books as horizontal bars of copies sold, best seller at the top, revenue beside each."""
    money = Money(currency)
    items = report["items"]
    figure, axes = _bars_figure(
        len(items),
        f"{f'Top {len(items)} books' if items else 'Books'} by copies sold, "
        f"{report['from_'].isoformat()} to {report['to'].isoformat()}",
        "Cancelled orders excluded; revenue at the prices the orders froze",
        size,
    )
    bar_labels = []
    if not items:
        axes.text(0.5, 0.5, "No sales in this range", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    else:
        labels = [_text(_short(f"{i['title']} — {i['author']}", size.label_chars)) for i in items]
        units = [i["units_sold"] for i in items]
        positions = list(range(len(items)))
        bars = axes.barh(positions, units, height=0.7, color=UNITS_COLOUR)
        axes.set_yticks(positions, labels=labels, fontsize=9)
        axes.set_ylim(len(items) - 0.5, -0.5)  # best seller at the top
        bar_labels = axes.bar_label(
            bars,
            labels=[_text(f"{u:,} · {money(i['revenue'])}") for u, i in zip(units, items, strict=True)],
            padding=3,
            fontsize=8,
        )
        axes.set_xlim(0, max(units) * 1.35)
    _thousands(axes.xaxis)
    axes.set_xlabel(
        _text(_wrap(f"Copies sold (beside each bar: copies · revenue in {money.code})", size, 10, share=0.55))
    )
    axes.set_ylabel("Book — author")
    axes.grid(axis="x", alpha=0.3)
    _fit_labels(figure, axes)
    if items:
        _room_for_labels(figure, axes, bar_labels, max(units), max(units) * 1.35)
    return _png(figure)


def inventory_chart(report: dict, currency: str, size: Size = Size()) -> bytes:
    """Stock per low-stock title (lowest first) and its shortfall up to the threshold."""
    money = Money(currency)
    threshold = report["low_stock_threshold"]
    low = report["low_stock"]
    shown = low[:MAX_INVENTORY_BARS]
    more = f" (the {len(shown)} lowest shown)" if len(shown) < report["low_stock_count"] else ""
    figure, axes = _bars_figure(
        len(shown),
        f"Low stock: titles with 1 to {threshold} copies",
        f"{report['low_stock_count']:,} low-stock titles{more} · {report['out_of_stock_count']:,} out of stock · "
        f"{report['titles']:,} titles, {report['total_units']:,} copies worth {money(report['inventory_value'])}",
        size,
        legend_inches=0.4 if size.width >= FULL_WIDTH else 0.55,
    )
    bar_labels = []
    if not shown:
        axes.text(0.5, 0.5, "No title is low on stock", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    else:
        positions = list(range(len(shown)))
        stock = [i["stock"] for i in shown]
        shortfall = [i["shortfall"] for i in shown]
        axes.barh(positions, stock, height=0.7, color=LOW_COLOUR, label="in stock")
        bars = axes.barh(
            positions, shortfall, left=stock, height=0.7, color=SHORTFALL_COLOUR, label="shortfall to the threshold"
        )
        axes.set_yticks(positions, labels=[_text(_short(i["title"], size.label_chars)) for i in shown], fontsize=9)
        axes.set_ylim(len(shown) - 0.5, -0.5)  # lowest stock at the top
        bar_labels = axes.bar_label(
            bars,
            labels=[f"{s} in stock, {f} short" for s, f in zip(stock, shortfall, strict=True)],
            padding=4,
            fontsize=8,
        )
    axes.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold ({threshold})")
    axes.set_xlim(0, threshold * 1.45 + 1)
    _thousands(axes.xaxis)
    axes.set_xlabel("Copies")
    axes.set_ylabel("Title")
    axes.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=3 if size.width >= FULL_WIDTH else 2,
        fontsize=8,
        frameon=False,
    )
    axes.grid(axis="x", alpha=0.3)
    _fit_labels(figure, axes)
    if shown:
        _room_for_labels(figure, axes, bar_labels, threshold, threshold * 1.45 + 1)
    return _png(figure)
