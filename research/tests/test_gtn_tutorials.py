"""The GTN data preparers: IDX parsing, reproducible gzip, the car purchase split; and the tools' inputs."""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import gtn_tutorials as gtn

GTN = Path(__file__).resolve().parents[2] / "workflows" / "gtn"
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


class Ran(Exception):
    """Stops a tutorial run once its steps are built (no tool is run)."""


def built_steps(monkeypatch, tutorial, *args):
    """The (name, script, inputs, outputs) steps ``gtn.fnn``/``gtn.cnn`` would run, with fake data paths."""
    monkeypatch.setattr(gtn, "prepare_data", lambda data, work: {name: f"/data/{name}.tsv" for name in
                                                                  ("X_train", "y_train", "X_test", "y_test")})

    def capture(work, steps):
        raise Ran(steps)
    monkeypatch.setattr(gtn, "run_steps", capture)
    with pytest.raises(Ran) as ran:
        tutorial(Path("/data"), Path("/work"), *args)
    return ran.value.args[0]


def flat(state, prefix=""):
    """{path: value} of a state, minus Galaxy's bookkeeping keys; a connection's value as ``<connected>``;
    values as text (a .ga saves every value as text; Galaxy types them from the tool's parameters)."""
    found = {}
    for key, value in state.items():
        if key.startswith("__") or key == "chromInfo":
            continue
        path = prefix + key
        if isinstance(value, dict) and "__class__" in value:
            found[path] = "<connected>"
        elif isinstance(value, dict):
            found.update(flat(value, path + "|"))
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                found.update(flat(item, f"{path}_{index}|"))
        elif isinstance(value, list):
            found[path] = ",".join(map(str, value))
        else:
            found[path] = value if value is None or isinstance(value, bool) else str(value)
    return found


def saved_states(workflow):
    """Tool id (a Tool Shed id's tool part) -> the step's saved tool_state, for each tool step of a .ga."""
    steps = json.loads((GTN / workflow).read_text())["steps"].values()
    return {step["tool_id"].split("/")[-2] if "/" in step["tool_id"] else step["tool_id"]: json.loads(step["tool_state"])
            for step in steps if step.get("tool_id")}


@pytest.mark.parametrize("tutorial, args, workflow", [
    (gtn.fnn, (None,), "Intro_To_FNN_latest.ga"), (gtn.cnn, (None, True), "Intro_To_CNN_v1_0_11_0.ga")])
def test_tool_inputs_are_the_published_workflows_saved_states(monkeypatch, tutorial, args, workflow):
    """Every step's inputs hold exactly the saved state's parameters and values; connections become paths."""
    saved = saved_states(workflow)
    steps = built_steps(monkeypatch, tutorial, *args)
    assert [script for _, script, _, _ in steps] == list(saved)  # the workflow's tools, in its order
    for name, script, inputs, _ in steps:
        ours, theirs = flat(inputs), flat(saved[script])
        assert set(ours) == set(theirs), f"{name}: {set(ours) ^ set(theirs)}"
        for path, value in theirs.items():
            if value != "<connected>":
                assert ours[path] == value, f"{name}: {path} is {ours[path]!r}, the workflow saves {value!r}"
        json.dumps(inputs)  # what run_tool writes as the inputs JSON


def test_connections_and_outputs_follow_the_steps(monkeypatch):
    """Training reads the builder's model; prediction the trained model; the plot is one PNG output."""
    steps = {name: (inputs, outputs) for name, _, inputs, outputs in built_steps(monkeypatch, gtn.cnn, 7, False)}
    training, _ = steps["train"]
    assert training["experiment_schemes"]["infile_estimator"] == str(steps["builder"][1]["outfile"])
    assert training["input_options"]["infile2"] == "/data/y_train.tsv"  # the label column without --onehot
    assert steps["builder"][0]["mode_selection"]["random_seed"] == 7
    assert steps["predict"][0]["infile_estimator"] == str(steps["train"][1]["outfile_object"])
    assert set(steps["confusion_matrix"][1]) == {"output", "output_metrics"}
