"""The GTN deep-learning tutorials that `make run` reproduces: their data, workflows and reported numbers.

The one place for what each tutorial's Zenodo record holds (four tables, the shape and values of each:
what harness/fetch_zenodo.py checks a download against), where its data is in this repository, which
workflow runs it, and the numbers the tutorial reports (what harness/tutorial_report.py prints next to
ours). The tutorials are galaxyproject/training-material ``topics/statistics/tutorials/{FNN,RNN,CNN}/
tutorial.md``; ``source`` names the commit each number was read from.
"""
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ("X_train", "y_train", "X_test", "y_test")


@dataclass(frozen=True)
class Cells:
    """What every cell of a table must be. ``spellings``: the text of each accepted value, checked as a set
    (fast); a cell not among them is accepted when it is a number in ``low..high`` (when those are set)."""

    expected: str
    spellings: frozenset[str] = frozenset()
    low: float | None = None
    high: float | None = None

    def accepts(self, cell: str) -> bool:
        if cell in self.spellings:
            return True
        if self.low is None or self.high is None:
            return False
        try:
            value = float(cell)
        except ValueError:
            return False
        return self.low <= value <= self.high  # False for nan


def integers(low: int, high: int, expected: str) -> Cells:
    return Cells(expected, frozenset(str(value) for value in range(low, high + 1)))


WORD_INDEX = integers(0, 9999, "a word index in 0..9999")
BINARY_LABEL = integers(0, 1, "a 0/1 label")
DIGIT = integers(0, 9, "a digit label 0..9")
# MNIST pixels: integers 0..255 in our copy; a record that wrote them as numbers (255.0) is accepted too.
PIXEL = Cells("a pixel value in 0..255", integers(0, 255, "").spellings, 0, 255)
SCALED = Cells("a number in 0..1 (min-max scaled)", low=0, high=1)


@dataclass(frozen=True)
class Table:
    """One of a tutorial's tables as its Zenodo record holds it: ``rows`` data rows (a header line, when
    ``header``, not counted) of ``columns`` tab-separated cells."""

    rows: int
    columns: int
    cells: Cells
    header: bool = False


@dataclass(frozen=True)
class Tutorial:
    title: str
    url: str
    source: str  # the tutorial.md commit the numbers below were read from
    workflow: Path
    zenodo: int  # the tutorial's Zenodo record: https://zenodo.org/records/<zenodo>
    tables: dict[str, Table]
    bundled: Path | None  # the full data in this repository (None: DATA=DIR or DATA=zenodo)
    quick: tuple[Path, str]  # (folder, file name prefix) of the slice `make run QUICK=1` uses
    reported: dict  # the tutorial's own numbers, as its text states them


def four_tables(train_rows, test_rows, x_columns, x_cells, y_cells, header=False):
    return {
        "X_train": Table(train_rows, x_columns, x_cells, header),
        "y_train": Table(train_rows, 1, y_cells, header),
        "X_test": Table(test_rows, x_columns, x_cells, header),
        "y_test": Table(test_rows, 1, y_cells, header),
    }


TUTORIAL_PAGE = "https://training.galaxyproject.org/training-material/topics/statistics/tutorials/{}/tutorial.html"

TUTORIALS = {
    "rnn": Tutorial(
        title="Deep Learning (Part 2) - Recurrent neural networks (RNN): IMDB sentiment",
        url=TUTORIAL_PAGE.format("RNN"),
        source="RNN/tutorial.md, section 'Machine Learning Visualization Extension'",
        workflow=ROOT / "workflows" / "imdb_rnn.ga",
        zenodo=4477881,
        tables=four_tables(25000, 25000, 500, WORD_INDEX, BINARY_LABEL),
        bundled=ROOT / "data" / "imdb",
        quick=(ROOT / "data" / "imdb_slice", ""),
        # Confusion matrix of the 25,000 test reviews, class 1 (positive) the positive class. The text
        # states the counts and precision 0.84, recall 0.89, F score 0.86; accuracy is not stated:
        # 0.865 is (10,397 + 11,219) / 25,000 = 0.8646.
        reported={"TN": 10397, "FP": 2103, "FN": 1281, "TP": 11219,
                  "accuracy": 0.865, "precision": 0.84, "recall": 0.89, "f1": 0.86},
    ),
    "fnn": Tutorial(
        title="Deep Learning (Part 1) - Feedforward neural networks (FNN): car purchase regression",
        url=TUTORIAL_PAGE.format("FNN"),
        source="FNN/tutorial.md at 0d5f9ea338f7ccabed6f6669fb40b132a4b9a684, "
               "section 'Plot actual vs predicted curves and residual plots'",
        workflow=ROOT / "workflows" / "gtn" / "Intro_To_FNN_latest.ga",
        zenodo=4660497,
        # "723 training examples", "242 test examples": the tables' lines, header included
        tables=four_tables(722, 241, 5, SCALED, SCALED, header=True),
        bundled=ROOT / "data" / "car_purchase",
        quick=(ROOT / "test-data", "gtn_cars_"),
        reported={"r2": 0.87, "rmse": 0.11},
    ),
    "cnn": Tutorial(
        title="Deep Learning (Part 3) - Convolutional neural networks (CNN): MNIST digits",
        url=TUTORIAL_PAGE.format("CNN"),
        source="CNN/tutorial.md at 8c29ce9533163cc4042346e58f893889c91f7006, "
               "section 'Machine Learning Visualization Extension'",
        workflow=ROOT / "workflows" / "gtn" / "Intro_To_CNN_v1_0_11_0.ga",
        zenodo=4697906,
        tables=four_tables(60000, 10000, 784, PIXEL, DIGIT),
        bundled=None,  # 15 MB gzipped: DATA=DIR or DATA=zenodo
        quick=(ROOT / "test-data", "gtn_mnist_"),
        # The text works through digits 0 and 1 of the confusion matrix (10,000 test images) and states
        # no overall accuracy. Digit 0: 967 right, 23 others predicted as 0, 13 zeros missed; precision
        # 0.97, recall 0.98, F score 0.97. Digit 1: its row "1,132 + 1 + 2 = 1,135", its column
        # "1,132 + 7 + 3 + 12 + 3 + 5 = 1,162" (so 30 others predicted as 1, 3 ones missed).
        reported={"classes": {"0": {"TP": 967, "FP": 23, "FN": 13, "precision": 0.97, "recall": 0.98, "f1": 0.97},
                              "1": {"TP": 1132, "FP": 30, "FN": 3}}},
    ),
}


def zenodo_files_url(tutorial: Tutorial) -> str:
    return f"https://zenodo.org/records/{tutorial.zenodo}/files"
