"""Plots described once, drawn as a PNG or SVG image (matplotlib) or an interactive HTML page (plotly).

The Galaxy-ML visualisation tool wrote plotly HTML for most plots and a matplotlib image for a few; its
successor offers each plot in each format (``plot_format``), so a plot is described as data
(:class:`Panel`, :class:`Trace`, :class:`Heatmap`) and handed to one of two small renderers here,
instead of being written twice in each plot function.

Titles are drawn exactly as typed (no mathtext, no TeX, no HTML markup): they are free text from the form.
"""
from dataclasses import dataclass, field
import html
import os
from typing import Any

import numpy as np

from gxkeras.galaxy.outputs import atomic_output
from gxkeras.galaxy.values import choice
from gxkeras.report.plot_costs import ANNOTATED_CLASSES

WIDTH, HEIGHT, PANEL_HEIGHT = 6.4, 4.8, 2.4  # inches; at DPI a single plot is 640 x 480 pixels
DPI = 100
# Panels one above the other: 100 are 24,060 pixels high (Agg draws at most 65,536), a 62 MB canvas.
MAX_PANELS = 100
# Counts are written in a heatmap's cells up to ANNOTATED_CLASSES classes. Tick labels: every class up to
# MAX_TICK_LABELS, else that many.
MAX_TICK_LABELS = 50
# plot_format values: the old tool's spellings (html, plotly_html, matplotlib_svg) and ours (png, svg)
FORMATS = {"html": "html", "plotly_html": "html", "png": "png", "svg": "svg", "matplotlib_svg": "svg"}


@dataclass
class Trace:
    """One curve: ``style`` is ``line``, ``step`` (drawn after each point), ``dashed``, ``points``, or
    ``bar`` (one bar per x, the x values being names, e.g. features)."""
    x: list
    y: list
    name: str
    style: str = "line"
    error: list | None = None
    hover: list | None = None


@dataclass
class Panel:
    traces: list
    xlabel: str
    ylabel: str
    limits: tuple | None = None  # (low, high) of both axes, e.g. for rates
    integer_x: bool = False


@dataclass
class Heatmap:
    matrix: np.ndarray
    names: list
    cmap: str
    xlabel: str = "Predicted label"
    ylabel: str = "True label"
    extra: dict = field(default_factory=dict)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display), imported when a picture is drawn: importing the
    package (model_prediction's table of predictions) costs no matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def clean_title(title: object, default: str) -> str:
    """The user's title, control characters other than newlines dropped; ``default`` when empty."""
    text = "".join(char for char in str(title or "") if char == "\n" or char.isprintable()).strip()
    text = text or default
    print(f"Title: {text!r}")
    return text


def output_format(plot_format: str | None, default: str = "png") -> str:
    return FORMATS[choice(plot_format or default, tuple(FORMATS), "The output format and library")]


def draw(content: list[Panel] | Heatmap, title: str, plot_format: str | None, path: str | os.PathLike[str]) -> None:
    """Write ``content`` (a list of panels, or a heatmap) as ``plot_format`` to ``path``."""
    kind = output_format(plot_format)
    if kind == "html":
        figure = _plotly_heatmap(content, title) if isinstance(content, Heatmap) else _plotly_panels(content, title)
        write_page(figure, path)
        return
    if isinstance(content, Heatmap):
        figure = _matplotlib_heatmap(content, title)
    else:
        figure = _matplotlib_panels(content, title)
    figure.tight_layout()
    save_image(figure, kind, path)


def save_image(figure: Any, kind: str, path: str | os.PathLike[str], dpi: int = DPI) -> None:
    """A matplotlib figure written as ``kind`` (png, svg) through ``<path>.part``, then closed."""
    try:
        with atomic_output(os.fspath(path), binary=True) as handle:
            figure.savefig(handle, format=kind, dpi=dpi)
    finally:
        pyplot().close(figure)


def write_page(figure: Any, path: str | os.PathLike[str]) -> None:
    """A plotly figure as a complete HTML page with plotly.js inline (it works offline, nothing from a CDN, no
    MathJax), through ``<path>.part``. Figures hold plain lists (:func:`_plain`), so the page's values can be read."""
    with atomic_output(os.fspath(path)) as handle:
        figure.write_html(handle, include_plotlyjs=True, include_mathjax=False, full_html=True)


MATPLOTLIB_STYLES = {"line": "-", "step": "-", "dashed": "--", "points": "o-", "dashed_points": "s--", "bar": ""}


def _matplotlib_panels(panels: list[Panel], title: str) -> Any:
    from matplotlib.ticker import MaxNLocator

    height = HEIGHT if len(panels) == 1 else PANEL_HEIGHT * len(panels) + 0.6
    figure = pyplot().figure(figsize=(WIDTH, height), dpi=DPI)
    for index, panel in enumerate(panels, start=1):
        axes = figure.add_subplot(len(panels), 1, index)
        for trace in panel.traces:
            style = MATPLOTLIB_STYLES[trace.style]
            if trace.style == "bar":
                _matplotlib_bars(axes, trace)
            elif trace.error is not None:
                axes.errorbar(trace.x, trace.y, yerr=trace.error, fmt=style, capsize=3, label=trace.name)
            elif trace.style == "step":
                axes.step(trace.x, trace.y, where="post", label=trace.name)
            else:
                axes.plot(trace.x, trace.y, style, color="k" if trace.name == "chance" else None, label=trace.name)
        if index == len(panels):
            axes.set_xlabel(panel.xlabel)
        axes.set_ylabel(panel.ylabel)
        if panel.limits:
            axes.set_xlim(*panel.limits)
            axes.set_ylim(*panel.limits)
        if panel.integer_x:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if any(trace.name for trace in panel.traces):
            axes.legend(fontsize="small")
        axes.grid(alpha=0.3)
        if index == 1 and title:
            axes.set_title(title, parse_math=False, usetex=False)
    return figure


def _matplotlib_bars(axes: Any, trace: Trace) -> None:
    """Bars at 0..n-1 labelled with the names as typed (no mathtext: names come from the user's data)."""
    positions = range(len(trace.x))
    axes.bar(positions, trace.y, label=trace.name)
    axes.set_xticks(positions, labels=[str(name) for name in trace.x], rotation=90 if len(trace.x) > 6 else 0)
    for label in axes.get_xticklabels():
        label.set_parse_math(False)


def _matplotlib_heatmap(heatmap: Heatmap, title: str) -> Any:
    figure = pyplot().figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.add_subplot()
    image = axes.imshow(heatmap.matrix, interpolation="nearest", cmap=heatmap.cmap)
    figure.colorbar(image, ax=axes)
    ticks = _tick_positions(len(heatmap.names))
    axes.set_xticks(ticks, labels=[heatmap.names[index] for index in ticks])
    axes.set_yticks(ticks, labels=[heatmap.names[index] for index in ticks])
    axes.set_xlabel(heatmap.xlabel)
    axes.set_ylabel(heatmap.ylabel)
    axes.set_title(title, parse_math=False, usetex=False)
    if len(heatmap.names) <= ANNOTATED_CLASSES:
        threshold = heatmap.matrix.max() / 2.0 if heatmap.matrix.size else 0
        for (row, column), count in np.ndenumerate(heatmap.matrix):
            axes.text(column, row, f"{count:,}", ha="center", va="center",
                      color="white" if count > threshold else "black")
    return figure


def _tick_positions(size: int) -> list[int]:
    """Every index up to :data:`MAX_TICK_LABELS`, else that many evenly spaced (first and last included)."""
    if size <= MAX_TICK_LABELS:
        return list(range(size))
    return sorted(set(np.linspace(0, size - 1, MAX_TICK_LABELS).round().astype(int).tolist()))


PLOTLY_DASH = {"line": None, "step": None, "dashed": "dash", "points": None, "dashed_points": "dash", "bar": None}


def _plotly_panels(panels: list[Panel], title: str) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=len(panels), cols=1, shared_xaxes=len(panels) > 1, vertical_spacing=0.08)
    for row, panel in enumerate(panels, start=1):
        for trace in panel.traces:
            if trace.style == "bar":
                figure.add_trace(go.Bar(x=[_text(name) for name in trace.x], y=_plain(trace.y), name=_text(trace.name)),
                                 row=row, col=1)
                continue
            figure.add_trace(go.Scatter(
                x=_plain(trace.x), y=_plain(trace.y), name=_text(trace.name),
                mode="lines+markers" if trace.style.endswith("points") else "lines",
                line={"dash": PLOTLY_DASH[trace.style], "shape": "hv" if trace.style == "step" else "linear",
                      **({"color": "black"} if trace.name == "chance" else {})},
                error_y=None if trace.error is None else {"type": "data", "array": _plain(trace.error)},
                text=None if trace.hover is None else [_text(item) for item in trace.hover],
            ), row=row, col=1)
        figure.update_yaxes(title_text=_text(panel.ylabel), row=row, col=1,
                            range=list(panel.limits) if panel.limits else None)
        figure.update_xaxes(title_text=_text(panel.xlabel) if row == len(panels) else None, row=row, col=1,
                            range=list(panel.limits) if panel.limits else None)
    figure.update_layout(title={"text": _text(title), "x": 0.5}, font={"family": "sans-serif", "size": 11},
                         plot_bgcolor="rgba(255,255,255,0)", height=max(480, 300 * len(panels)))
    return figure


def _plotly_heatmap(heatmap: Heatmap, title: str) -> Any:
    import matplotlib
    import plotly.graph_objects as go

    names = [_text(name) for name in heatmap.names]
    colormap = matplotlib.colormaps[heatmap.cmap]
    scale = [[step, matplotlib.colors.to_hex(colormap(step))] for step in np.linspace(0, 1, 11)]
    counts = {"text": [[f"{count:,}" for count in row] for row in heatmap.matrix.tolist()], "texttemplate": "%{text}"} \
        if len(names) <= ANNOTATED_CLASSES else {}
    figure = go.Figure(go.Heatmap(z=heatmap.matrix.tolist(), x=names, y=names, colorscale=scale, **counts,
                                  hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    figure.update_layout(title={"text": _text(title), "x": 0.5}, xaxis={"title": heatmap.xlabel, "type": "category"},
                         yaxis={"title": heatmap.ylabel, "type": "category", "autorange": "reversed"})
    return figure


def _plain(values: Any) -> Any:
    """Plain lists, so that the values can be read in the page's source (numpy arrays are base64-encoded)."""
    return np.asarray(values).tolist()


def _text(value: object) -> str | None:
    """Plotly renders titles as HTML: escape them so that they are shown as typed."""
    return None if value is None else html.escape(str(value)).replace("\n", "<br>")
