"""PNG charts of the reports, drawn with matplotlib from the same numbers as the JSON.

matplotlib is set to the Agg backend before anything else of it is imported, and only its object
API is used (`Figure` with an Agg canvas, no `pyplot`): pyplot keeps a global current figure and
is not safe in a threaded server; a Figure of our own per request is.

Every piece of text goes through `_text`: matplotlib reads a pair of `$` as maths, so a book
called "$5 for $1" would otherwise be typeset (or fail to parse).
"""

import io
import warnings
from datetime import timedelta
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
WIDTH = 10.0  # inches: 1000 px
REVENUE_COLOUR = "#1f77b4"
ORDERS_COLOUR = "#ff7f0e"
UNITS_COLOUR = "#2ca02c"
LOW_COLOUR = "#d62728"
MAX_LABEL = 48  # characters of a book title on an axis
MAX_INVENTORY_BARS = 40
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
PERIOD_WORDS = {
    "day": ("Daily", "Day"),
    "week": ("Weekly", "Week (ISO, starting Monday)"),
    "month": ("Monthly", "Month"),
}


def _text(value) -> str:
    return str(value).replace("$", r"\$")


def _short(title: str) -> str:
    return title if len(title) <= MAX_LABEL else title[: MAX_LABEL - 1].rstrip() + "…"


class Money:
    """Formats amounts in the report's currency: "$1,234.50" (or "1,234.50 CHF" for other codes)."""

    def __init__(self, currency: str):
        self.code = currency
        self.symbol = CURRENCY_SYMBOLS.get(currency)

    def __call__(self, amount, decimals: int = 2) -> str:
        number = f"{Decimal(amount):,.{decimals}f}"
        return _text(f"{self.symbol}{number}" if self.symbol else f"{number} {self.code}")

    def axis(self, decimals: int = 0) -> FuncFormatter:
        return FuncFormatter(lambda value, _pos: self(Decimal(str(value)), decimals))


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _bar_width(period: str, count: int) -> float:
    days = {"day": 1, "week": 7, "month": 30}[period]
    return days * (0.8 if count < 60 else 0.95)


def sales_chart(report: dict, currency: str) -> bytes:
    """Revenue (bars, top) and orders (bars, bottom) per period, dates along a shared axis."""
    money = Money(currency)
    series, totals, period = report["series"], report["totals"], report["period"]
    adjective, period_label = PERIOD_WORDS[period]
    starts = [p["period_start"] for p in series]
    revenue = [float(p["revenue"]) for p in series]
    orders = [p["orders"] for p in series]

    figure = Figure(figsize=(WIDTH, 6.5), dpi=DPI, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(
        _text(f"{adjective} sales, {report['from_'].isoformat()} to {report['to'].isoformat()}"),
        fontsize=14,
        fontweight="bold",
    )
    top.set_title(
        f"{totals['orders']:,} orders · {totals['units']:,} copies · {money(totals['revenue'])} revenue "
        "(cancelled orders excluded)",
        fontsize=10,
    )
    width = _bar_width(period, len(series))
    align = "center" if period == "day" else "edge"
    top.bar(starts, revenue, width=width, align=align, color=REVENUE_COLOUR, label="Revenue")
    top.set_ylabel(_text(f"Revenue ({money.symbol or money.code})"))
    top.yaxis.set_major_formatter(money.axis())
    bottom.bar(starts, orders, width=width, align=align, color=ORDERS_COLOUR, label="Orders")
    bottom.set_ylabel("Orders")
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_xlabel(period_label + " (UTC)")
    for axes, values in ((top, revenue), (bottom, orders)):
        axes.set_ylim(0, max(values) * 1.08 if values and max(values) > 0 else 1)
        axes.grid(axis="y", alpha=0.3)
    if starts:
        pad = timedelta(days=1 if period == "day" else 3)
        last_end = starts[-1] + timedelta(days={"day": 1, "week": 7, "month": 31}[period])
        bottom.set_xlim(starts[0] - pad, last_end)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return _png(figure)


def popular_chart(report: dict, currency: str) -> bytes:
    """Top books as horizontal bars of copies sold, best seller at the top, revenue beside each."""
    money = Money(currency)
    items = report["items"]
    height = max(3.5, 0.38 * len(items) + 1.8)
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    axes.set_title(
        _text(f"Top {len(items)} books by copies sold, {report['from_'].isoformat()} to {report['to'].isoformat()}"),
        fontsize=13,
        fontweight="bold",
    )
    if not items:
        axes.text(0.5, 0.5, "No sales in this range", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    else:
        labels = [_text(f"{_short(i['title'])} — {_short(i['author'])}") for i in items]
        units = [i["units_sold"] for i in items]
        positions = list(range(len(items)))
        bars = axes.barh(positions, units, color=UNITS_COLOUR)
        axes.set_yticks(positions, labels=labels, fontsize=9)
        axes.invert_yaxis()
        axes.bar_label(
            bars,
            labels=[f"{u:,} · {money(i['revenue'])}" for u, i in zip(units, items, strict=True)],
            padding=3,
            fontsize=8,
        )
        axes.set_xlim(0, max(units) * 1.25)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(_text(f"Copies sold (bar labels: copies · revenue in {money.code})"))
    axes.set_ylabel("Book — author")
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def inventory_chart(report: dict, currency: str) -> bytes:
    """Stock per low-stock title (lowest first) against the threshold."""
    money = Money(currency)
    threshold = report["low_stock_threshold"]
    low = report["low_stock"]
    shown = low[:MAX_INVENTORY_BARS]
    height = max(3.5, 0.38 * len(shown) + 2.0)
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    figure.suptitle(f"Low stock: titles with 1 to {threshold} copies", fontsize=13, fontweight="bold")
    more = f" (the {len(shown)} lowest shown)" if len(shown) < len(low) else ""
    axes.set_title(
        f"{len(low):,} low-stock titles{more} · {len(report['out_of_stock']):,} out of stock · "
        f"{report['titles']:,} titles, {report['total_units']:,} copies worth {money(report['inventory_value'])}",
        fontsize=9,
    )
    if not shown:
        axes.text(0.5, 0.5, "No title is low on stock", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    else:
        positions = list(range(len(shown)))
        stock = [i["stock"] for i in shown]
        bars = axes.barh(positions, stock, color=LOW_COLOUR)
        axes.set_yticks(positions, labels=[_text(_short(i["title"])) for i in shown], fontsize=9)
        axes.invert_yaxis()
        axes.bar_label(bars, labels=[f"{i['stock']} (short {i['shortfall']})" for i in shown], padding=3, fontsize=8)
    axes.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold ({threshold})")
    axes.set_xlim(0, threshold * 1.3 + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("Copies in stock")
    axes.set_ylabel("Title")
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)
