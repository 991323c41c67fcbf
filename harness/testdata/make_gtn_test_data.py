"""Write the small real-data slices that the GTN workflow tests (workflows/gtn/*-tests.yml) run on.

    python harness/testdata/make_gtn_test_data.py [--shared ../shared/data]

From the full data sets (made by research/gtn_tutorials.py; provenance in each folder's README.md):

- FNN, car purchase (``car_purchase/``): ``gtn_cars_{X,y}_{train,test}.tsv``, the first 60 training and 20
  test rows, with the header line the tutorial's tables have (5 features and ``sales``, all scaled 0..1);
- CNN, MNIST (``mnist/``): ``gtn_mnist_{X,y}_{train,test}.tsv``, the first 80 training and 20 test
  images as 784 pixel values 0..255, and their digits, no header (as the CNN workflow reads them).

The RNN workflow's test uses the IMDB slices already in test-data (``imdb500_*``, harness/testdata/make_test_data.sh).

Sources (full provenance and checksums: the README.md beside each full set): the car purchase data is
Michael Grogan's ``cars.csv`` (GitHub MGCodesandStats/datasets, no licence stated), the data the GTN FNN
tutorial cites; MNIST is LeCun, Cortes and Burges' (commonly distributed under CC BY-SA 3.0).
"""
import argparse
import gzip
import itertools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # harness/testdata/ -> the repository
TEST_DATA = ROOT / "test-data"
SLICES = {  # folder in shared data -> (prefix in test-data, header line?, training rows, test rows)
    "car_purchase": ("gtn_cars", True, 60, 20),
    "mnist": ("gtn_mnist", False, 80, 20),
}


def first_lines(path, count):
    """The first ``count`` lines of a plain or gzipped text file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return list(itertools.islice(handle, count))


def source(folder, name):
    for candidate in (folder / f"{name}.tsv", folder / f"{name}.tsv.gz"):
        if candidate.exists():
            return candidate
    raise SystemExit(f"{folder}: no {name}.tsv or {name}.tsv.gz (see research/gtn_tutorials.py)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    for folder, (prefix, header, train_rows, test_rows) in SLICES.items():
        for name, rows in (("X_train", train_rows), ("y_train", train_rows), ("X_test", test_rows),
                           ("y_test", test_rows)):
            lines = first_lines(source(args.shared / folder, name), rows + int(header))
            target = TEST_DATA / f"{prefix}_{name}.tsv"
            target.write_text("".join(lines))
            print(f"{target.relative_to(ROOT)}: {len(lines)} lines")


if __name__ == "__main__":
    main()
