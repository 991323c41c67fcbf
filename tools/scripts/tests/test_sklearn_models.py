"""scikit-learn models saved by galaxy-ml 0.11: loaded under the allow-list, predicted, plotted (issue 16).

Every class of :data:`gxkeras.sklearn_io.CLASSES` is fitted, saved with galaxy-ml's own
``dump_model_to_h5`` and loaded by ours, which must give the same predictions as the fitted object.
Hostile files (harness/hostile_models.py) must be refused with one error line before anything in
them is imported or built: canaries are a file the payload would write and a module that writes it
when imported, and scikit-learn itself must not have been imported when the refusal comes.
"""
import json
import re
import sys
import warnings

import h5py
import numpy as np
import pytest

import ml_visualization_ex as viz
import model_prediction as mp
from gxkeras import sklearn_io
from gxkeras.errors import ToolInputError
from gxkeras.model_io import check_h5mlm, is_sklearn_file, load_estimator, load_sklearn
from fresh_python import run_tools
from repo_paths import ROOT, TEST_DATA

sys.path.insert(0, str(ROOT / "harness"))
import hostile_models as hostile  # noqa: E402

MODEL = "Choose the dataset containing pipeline/estimator object"
X_PATH = TEST_DATA / "sklearn_X.tsv"


def dump(model, path):
    from galaxy_ml.model_persist import dump_model_to_h5

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dump_model_to_h5(model, str(path))
    return str(path)


def make(module, name):
    """A small instance of an allow-listed class (by its public module)."""
    import importlib

    public = module.split("._")[0] if "._" in module else module
    cls = getattr(importlib.import_module(public), name)
    options = {"RandomForestClassifier": {"n_estimators": 2}, "RandomForestRegressor": {"n_estimators": 2},
               "ExtraTreesClassifier": {"n_estimators": 2}, "ExtraTreesRegressor": {"n_estimators": 2},
               "KNeighborsClassifier": {"n_neighbors": 3, "algorithm": "brute"},
               "KNeighborsRegressor": {"n_neighbors": 3, "algorithm": "brute"}}
    if name == "Pipeline":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        return cls([("scale", StandardScaler()), ("model", LogisticRegression())])
    return cls(**options.get(name, {}))


def outputs(model, X):
    """What the model gives: predictions (and probabilities) or the transformed data."""
    if hasattr(model, "predict"):
        found = [np.asarray(model.predict(X))]
        if hasattr(model, "predict_proba"):
            found.append(model.predict_proba(X))
        return found
    transformed = model.transform(X)
    return [transformed.toarray() if hasattr(transformed, "toarray") else np.asarray(transformed)]


@pytest.mark.parametrize("module, name", sorted(sklearn_io.CLASSES))
def test_every_allowed_class_loads_as_fitted(tmp_path, module, name):
    rng = np.random.RandomState(0)
    X = rng.rand(30, 4)
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0.6, "yes", "no") if "Classif" in name or name in (
        "LogisticRegression", "Perceptron", "LinearSVC", "GaussianNB", "MultinomialNB", "BernoulliNB",
        "Pipeline") else X[:, 0] * 3 + X[:, 1]
    if name == "OneHotEncoder":
        X = (X > 0.5).astype(int)
    if name == "LabelBinarizer":  # fitted on labels, not samples
        X = y = np.where(X[:, 0] > 0.5, "yes", "no")
    model = make(module, name).fit(X) if name == "LabelBinarizer" else make(module, name).fit(X, y)
    assert (type(model).__module__, name) == (module, name)  # the allow-list spells the paths galaxy-ml writes
    path = dump(model, tmp_path / "model.h5mlm")
    check_h5mlm(path, MODEL)
    assert is_sklearn_file(path, MODEL)
    loaded = load_sklearn(path, MODEL)
    assert type(loaded) is type(model)
    for ours, theirs in zip(outputs(loaded, X), outputs(model, X), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_node_dtype_is_sklearns():
    from sklearn.tree._tree import NODE_DTYPE

    assert sklearn_io.NODE_DTYPE == NODE_DTYPE


def test_test_data_models_match_galaxy_mls_own_loader():
    """Ours and galaxy-ml's loader (trusted here: our own test files) give the same model."""
    from galaxy_ml.model_persist import load_model_from_h5

    X = np.loadtxt(X_PATH, skiprows=1)
    for name in ("sklearn_forest.h5mlm", "sklearn_pipeline.h5mlm"):
        ours, theirs = load_sklearn(str(TEST_DATA / name), MODEL), load_model_from_h5(str(TEST_DATA / name))
        np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    forest = load_sklearn(str(TEST_DATA / "sklearn_forest.h5mlm"), MODEL)
    assert forest.n_jobs is None and forest.feature_importances_.argmax() == 0  # "signal" decides the class


# ---- model_prediction ---------------------------------------------------------------------------

def predict_params(model, method="predict", data=X_PATH, **extra):
    return {"infile_estimator": str(model), "method": method, **extra,
            "input_options": {"selected_input": "tabular", "infile1": str(data), "header1": True}}


@pytest.mark.parametrize("name", ["sklearn_forest.h5mlm", "sklearn_pipeline.h5mlm"])
def test_prediction_of_sklearn_models(tmp_path, name):
    model = load_sklearn(str(TEST_DATA / name), MODEL)
    X = np.loadtxt(X_PATH, skiprows=1)
    out = tmp_path / "out.tsv"
    assert mp.run(predict_params(TEST_DATA / name), str(out)) == 40
    lines = out.read_text().splitlines()
    assert lines[0] == "Predicted" and [int(line) for line in lines[1:]] == model.predict(X).tolist()
    assert mp.run(predict_params(TEST_DATA / name, "predict_proba"), str(out), chunk_rows=7) == 40
    table = np.loadtxt(out, skiprows=1)
    assert out.read_text().splitlines()[0] == "0\t1"
    np.testing.assert_allclose(table, model.predict_proba(X), atol=5e-7)
    truth = np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1)
    assert np.mean(table.argmax(axis=1) == truth) >= 0.9


def test_prediction_refuses_weights_and_wrong_columns(tmp_path):
    out = tmp_path / "out.tsv"
    forest = TEST_DATA / "sklearn_forest.h5mlm"
    with pytest.raises(ToolInputError, match="Keras weights cannot be loaded into a scikit-learn model"):
        mp.run(predict_params(forest, weights=[{"infile_weights": str(TEST_DATA / "imdb_trained.weights.h5")}]),
               str(out))
    with pytest.raises(ToolInputError, match="the selected data has 5 columns, but the model expects 4"):
        mp.run(predict_params(forest, data=TEST_DATA / "regression_X.tsv"), str(out))
    assert not out.exists()


def test_prediction_of_a_regressor_has_no_probabilities(tmp_path):
    from sklearn.linear_model import LinearRegression

    X = np.loadtxt(X_PATH, skiprows=1)
    path = dump(LinearRegression().fit(X, X[:, 0]), tmp_path / "linear.h5mlm")
    with pytest.raises(ToolInputError, match="predict_proba needs a classifier; this model is a LinearRegression"):
        mp.run(predict_params(path, "predict_proba"), str(tmp_path / "out.tsv"))
    assert mp.run(predict_params(path), str(tmp_path / "out.tsv")) == 40
    np.testing.assert_allclose(np.loadtxt(tmp_path / "out.tsv", skiprows=1), X[:, 0], atol=1e-5)


def test_training_refuses_a_sklearn_model():
    with pytest.raises(ToolInputError, match="a scikit-learn estimator or pipeline, expected a Keras model"):
        load_estimator(str(TEST_DATA / "sklearn_forest.h5mlm"), MODEL)


# ---- ml_visualization_ex: feature_importances ---------------------------------------------------

def importances_params(model, plot_format="html", threshold=None, **selection):
    return {"plotting_selection": {
        "plot_type": "feature_importances", "infile_estimator": str(model), "infile1": str(X_PATH),
        "column_selector_options": selection or {"selected_column_selector_option": "all_columns"},
        "threshold": threshold, "title": "", "plot_format": plot_format}}


def test_feature_importances_of_a_forest(tmp_path, capsys):
    path = tmp_path / "plot.png"
    viz.run(importances_params(TEST_DATA / "sklearn_forest.h5mlm", "png"), str(path))
    assert path.read_bytes().startswith(b"\x89PNG")
    assert "4 features of a RandomForestClassifier; largest signal" in capsys.readouterr().out


def test_feature_importances_of_a_pipelines_final_step(tmp_path):
    """Coefficients 5.68 (signal), -0.37 (noise), -0.61 (weak), 0 (constant): |value| > 0.5 are kept."""
    path = tmp_path / "plot.html"
    viz.run(importances_params(TEST_DATA / "sklearn_pipeline.h5mlm", threshold=0.5), str(path))
    page = path.read_text()
    bars = re.findall(r'"type":"bar".*?"x":\[([^\]]*)\]|"x":\[([^\]]*)\][^{}]*"type":"bar"', page)
    assert [next(part for part in found if part) for found in bars] == ['"signal","weak"']
    found = "Coefficient" in page
    assert found


def test_feature_importances_follow_the_column_selection(tmp_path):
    params = importances_params(TEST_DATA / "sklearn_forest.h5mlm", selected_column_selector_option="by_index_number",
                                col1="1,2")
    with pytest.raises(ToolInputError, match="2 feature names selected, but the RandomForestClassifier has 4"):
        viz.run(params, str(tmp_path / "plot.html"))


def test_feature_importances_refuse_a_keras_model(tmp_path):
    with pytest.raises(ToolInputError, match="a Keras model, which has neither coef_ nor feature_importances_"):
        viz.run(importances_params(TEST_DATA / "imdb_trained.h5mlm"), str(tmp_path / "plot.html"))


# ---- hostile files ------------------------------------------------------------------------------

ATTACKS = {
    "os.system": "the model names os.system, which is not one of the scikit-learn classes",
    "subprocess.Popen": "the model names subprocess.Popen, which is not one of the scikit-learn classes",
    "builtins.eval": "the model names builtins.eval, which is not one of the scikit-learn classes",
    "canarymod": "the model names canarymod.payload, which is not one of the scikit-learn classes",
    "sklearn_function": "the model names sklearn.tree._export.export_graphviz, which is not one of",
    "sklearn_class": "the model names sklearn.svm._classes.SVC, which is not one of the scikit-learn classes",
    "object_array": "an object array holds something other than numbers and texts",
    "numpy_scalar": "the model names os.system, which is not one of the scikit-learn classes",
}


HOSTILE_TOOLS = {"model_prediction": ("--outfile", predict_params),
                 "ml_visualization_ex": ("--output", importances_params)}


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    """Every attack through each tool, one fresh Python per tool running its attacks one after the other
    (tests/fresh_python.py; a case that imports something is the first of its tool to report it):
    ``{(tool, case): (Run, its output path)}``, and the canary a payload or an imported canarymod writes."""
    folder = tmp_path_factory.mktemp("hostile")
    target = folder / "outside" / "pwned"
    target.parent.mkdir()
    (target.parent / "canarymod.py").write_text(f"open({str(target)!r}, 'w').write('imported')\npayload = 1\n")
    models = {case: hostile.sklearn_attack(folder / f"{case}.h5mlm", case, target) for case in sorted(ATTACKS)}
    found = {}
    for tool, (flag, params) in HOSTILE_TOOLS.items():
        runs, outs = [], []
        for case, model in models.items():
            inputs, out = folder / f"{tool}-{case}.json", folder / f"{tool}-{case}.out"
            inputs.write_text(json.dumps(params(model)))
            runs.append((tool + ".py", ["--inputs", inputs, flag, out]))
            outs.append(out)
        results = run_tools(runs, ["canarymod", "sklearn", "galaxy_ml", "tensorflow"], cwd=folder,
                            extra_path=[target.parent])
        found.update({(tool, case): (result, out) for case, result, out in zip(models, results, outs, strict=True)})
    return found, target


@pytest.mark.parametrize("case", sorted(ATTACKS))
@pytest.mark.parametrize("tool", sorted(HOSTILE_TOOLS))
def test_hostile_descriptions_are_refused_before_anything_is_imported(hostile_runs, case, tool):
    runs, target = hostile_runs
    run, out = runs[tool, case]
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert run.returncode == 1 and len(errors) == 1 and ATTACKS[case] in errors[0], run.stderr
    assert "the file is refused unread" in errors[0]
    assert run.imported == [] and not target.exists() and not out.exists()


def test_hostile_tree_nodes_are_refused(tmp_path):
    path = hostile.sklearn_tree_outside(tmp_path / "model.h5mlm")
    with pytest.raises(ToolInputError, match="a decision tree's nodes point outside the tree or its features"):
        check_h5mlm(path, MODEL)


def test_attribute_hiding_a_method_is_refused(tmp_path):
    path = hostile.sklearn_attack(tmp_path / "model.h5mlm", "callable_attribute", tmp_path / "pwned")
    with pytest.raises(ToolInputError, match="attribute 'predict' would hide its method of that name"):
        load_sklearn(path, MODEL)


def rewrite(tmp_path, change, source="sklearn_pipeline.h5mlm"):
    graph = hostile.sklearn_graph(source)
    change(graph)
    return hostile.write_sklearn(tmp_path / "model.h5mlm", graph, source)


@pytest.mark.parametrize("change, message", [
    (lambda g: g["-object-"]["-reduce-"]["-state-"].update(memory="cache"), "memory \\(a cache folder\\) must be None"),
    (lambda g: hostile.final_step_state(g).update(C={"-memo-": 999}), "-memo- 999 refers to nothing read before it"),
    (lambda g: hostile.final_step_state(g).update(coef_={"-np_ndarray-": 99}), "array 99 is missing"),
    (lambda g: hostile.final_step_state(g).update(C={"-keras_model-": 0}), "-keras_model- entries"),
    (lambda g: hostile.final_step_state(g).update(C={"-memo-": 0}),
     "refers to copyreg._reconstructor: classes and functions are not accepted as values"),
], ids=["pipeline_memory", "memo_forward", "missing_array", "keras_inside", "function_as_value"])
def test_malformed_descriptions_are_refused(tmp_path, change, message):
    with pytest.raises(ToolInputError, match=message):
        check_h5mlm(rewrite(tmp_path, change), MODEL)


def test_forest_members_must_have_the_forests_features(tmp_path):
    def change(graph):
        state = graph["-object-"]["-reduce-"]["-state-"]
        state["n_features_in_"] = 2
    with pytest.raises(ToolInputError, match="a member of the RandomForestClassifier has other features"):
        load_sklearn(rewrite(tmp_path, change, "sklearn_forest.h5mlm"), MODEL)


def test_string_arrays_of_numbers_only(tmp_path):
    """A text dtype array is accepted (class names); its values are plain."""
    from sklearn.naive_bayes import GaussianNB

    X = np.loadtxt(X_PATH, skiprows=1)
    y = np.where(np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1) > 0, "pos", "neg").astype(object)
    path = dump(GaussianNB().fit(X, y), tmp_path / "nb.h5mlm")
    with h5py.File(path) as handle:
        assert "-np_ndarray_o_type-" in handle["-model_config-"][()].decode()
    assert load_sklearn(path, MODEL).classes_.tolist() == ["neg", "pos"]
