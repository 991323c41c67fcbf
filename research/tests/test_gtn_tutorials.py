"""The GTN data preparers: IDX parsing, reproducible gzip, the car purchase split; and the tools' inputs."""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import gtn_tutorials as gtn

CARS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "car_purchase" / "cars.csv"


def idx(values, rows):
    """An IDX file of unsigned bytes: magic 0 0 8 dims, the sizes (big-endian), the values."""
    shape = (rows, len(values) // rows) if len(values) // rows > 1 else (rows,)
    header = bytes([0, 0, 8, len(shape)]) + b"".join(size.to_bytes(4, "big") for size in shape)
    return header + bytes(values)


def test_read_idx_gives_one_row_per_item(tmp_path):
    path = tmp_path / "images.idx3-ubyte"
    path.write_bytes(idx(range(12), 3))
    assert gtn.read_idx(path, 3).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    labels = tmp_path / "labels.idx1-ubyte"
    labels.write_bytes(idx([5, 0, 4], 3))
    assert gtn.read_idx(labels, 3).tolist() == [[5], [0], [4]]
    with pytest.raises(SystemExit, match="not an IDX file of 4"):
        gtn.read_idx(path, 4)


def test_mnist_tsv_refuses_files_that_are_not_the_official_ones(tmp_path):
    for name in gtn.MNIST_FILES:
        (tmp_path / name).write_bytes(idx([0] * 4, 2))
    with pytest.raises(SystemExit, match="expected the official"):
        gtn.mnist_tsv(tmp_path, tmp_path / "out")


def test_tsv_gz_is_tab_separated_and_byte_reproducible(tmp_path):
    array = np.array([[0, 255, 3], [7, 8, 9]], dtype=np.uint8)
    first, second = tmp_path / "1" / "X.tsv.gz", tmp_path / "2" / "X.tsv.gz"
    for path in (first, second):
        path.parent.mkdir()
        gtn.write_tsv_gz(path, array)
    assert first.read_bytes() == second.read_bytes()  # no timestamp: the README's checksums hold
    assert gzip.decompress(first.read_bytes()) == b"0\t255\t3\n7\t8\t9\n"


def test_cars_tsv_refuses_another_file(tmp_path):
    other = tmp_path / "cars.csv"
    other.write_text("age,gender,miles,debt,income,sales\n1,0,2,3,4,5\n")
    with pytest.raises(SystemExit, match="MGCodesandStats"):
        gtn.cars_tsv(other, tmp_path / "out", 0)


@pytest.mark.skipif(not CARS.exists(), reason="the car purchase data is not in ../shared/data")
def test_cars_tsv_makes_the_tutorials_tables(tmp_path):
    gtn.cars_tsv(CARS, tmp_path, 0)
    sizes = {"X_train": (722, 5), "y_train": (722, 1), "X_test": (241, 5), "y_test": (241, 1)}
    for name, shape in sizes.items():
        lines = (tmp_path / f"{name}.tsv").read_text().splitlines()
        assert len(lines) == shape[0] + 1  # the tutorial's 723 and 242 lines
        assert lines[0].split("\t") == (gtn.CARS_COLUMNS[:5] if name[0] == "X" else ["sales"])
        values = np.loadtxt(tmp_path / f"{name}.tsv", skiprows=1, ndmin=2)
        assert values.shape == shape and values.min() >= 0 and values.max() <= 1


def test_tool_inputs_follow_the_workflows():
    built = gtn.builder("model.json", "KerasGRegressor", "mse", ["mse"], 150, 50, None)["mode_selection"]
    assert built["compile_params"]["optimizer_selection"]["optimizer_type"] == "adam"
    assert (built["fit_params"]["epochs"], built["fit_params"]["batch_size"]) == (150, 50)
    trained = gtn.train("model.h5mlm", "X.tsv", "y.tsv", True, "mean_squared_error")
    assert trained["experiment_schemes"]["val_split"]["test_size"] == 0.2
    assert trained["input_options"]["header1"] is True and trained["input_options"]["header2"] is True
    json.dumps(trained)  # what run_tool writes as the inputs JSON
