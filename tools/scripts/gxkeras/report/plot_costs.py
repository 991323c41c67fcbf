"""What drawing a plot takes in memory, for checking it against the job's memory before anything is drawn.

Files and forms size every plot: the classes of a confusion matrix, the curves of a multi-label table, the
points of a curve, the bars of the features. This module holds only the measured costs (no matplotlib, no
plotly), so that a tool can check them without importing a renderer first.
"""

# What drawing takes, measured (peak RSS growth, matplotlib Agg PNG and plotly HTML; the larger of the two,
# rounded up): a heatmap cell 75-105 bytes, and 10-18 kB more with its count written in it (matplotlib:
# 200 x 200 counts took 59 s); a curve 40-160 kB (its legend entry), a point of it 55-390 bytes (plotly
# writes plain lists into the page); a bar 5-39 kB (its tick label). Files and forms size all of these.
HEATMAP_CELL_BYTES = 128
ANNOTATED_CELL_BYTES = 20 * 1024
CURVE_BYTES = 160 * 1024
POINT_BYTES = 512
BAR_BYTES = 48 * 1024
# Counts are written in a heatmap's cells up to this many classes (900 cells, about a second): beyond, they
# could not be read in a 640 x 480 image.
ANNOTATED_CLASSES = 30


def heatmap_bytes(size: int) -> int:
    """What drawing a ``size`` x ``size`` heatmap takes (with its counts, for a small one)."""
    return size * size * (HEATMAP_CELL_BYTES + (ANNOTATED_CELL_BYTES if size <= ANNOTATED_CLASSES else 0))


def curves_bytes(n_curves: int, n_points: int) -> int:
    """What drawing ``n_curves`` curves of ``n_points`` points in all takes."""
    return n_curves * CURVE_BYTES + n_points * POINT_BYTES


def bars_bytes(n_bars: int) -> int:
    """What drawing ``n_bars`` bars (each with its tick label) takes."""
    return n_bars * BAR_BYTES
