"""Ensembles, imbalanced-learn pipelines and Keras pipeline steps saved by galaxy-ml 0.11 (issue 16).

Each is fitted, saved with galaxy-ml's own ``dump_model_to_h5`` inside a pipeline and loaded by ours,
which must predict what the fitted object predicts. Hostile edits of these real files (an index
outside the data, a method name that is not a prediction, a sampler's KMeans reused as a step, a
Keras entry our builder would never write ...) must each be refused with one error line before
anything in the file is imported; the same variants through model_prediction in a fresh Python
prove that nothing (scikit-learn, imbalanced-learn, galaxy-ml, TensorFlow) was imported.
"""
import json
import warnings

import h5py
import numpy as np
import pytest

from gxkeras.modelfile.sklearn_loaders import reader as sklearn_io
from gxkeras.modelfile.sklearn_loaders.ensembles import SAMPLERS
from gxkeras.modelfile.sklearn_loaders.value_reader import Owned, SamplerPart
from gxkeras.galaxy.errors import ModelRefused, ToolInputError
from gxkeras.modelfile.h5mlm import check_h5mlm, load_estimator, load_sklearn
from gxkeras.modelfile.sklearn_loaders.ubjson import parse_ubjson
from gxkeras.modelfile.sklearn_loaders.xgboost_parameters import OBJECTIVES
from fresh_python import WORK_IN_TOOL_PROCESS, run_tools
from repo_paths import TEST_DATA
from test_sklearn_models import MODEL, dump, predict_params, problem

SAMPLER_NAMES = sorted(name for _, name in SAMPLERS)


def data(labels="int"):
    rng = np.random.RandomState(3)
    X = rng.rand(60, 4)
    y = (X[:, 0] * 3).astype(int)  # three classes, unbalanced a little
    return X, {"int": y, "text": np.array(["low", "mid", "high"])[y], "target": X[:, 0] * 3 + X[:, 1]}[labels]


def ensembles():
    """One small fitted-ready instance of each admitted ensemble."""
    from sklearn import ensemble
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    return {
        "AdaBoostClassifier": (ensemble.AdaBoostClassifier(n_estimators=4, random_state=0), "int"),
        "AdaBoostRegressor": (ensemble.AdaBoostRegressor(n_estimators=4, random_state=0), "target"),
        "BaggingClassifier": (ensemble.BaggingClassifier(n_estimators=4, max_features=0.5, random_state=0), "text"),
        "BaggingClassifier_svc": (ensemble.BaggingClassifier(SVC(), n_estimators=3, max_features=0.75,
                                                             random_state=0), "int"),
        "BaggingRegressor": (ensemble.BaggingRegressor(n_estimators=4, max_features=0.75, random_state=0), "target"),
        "VotingClassifier_soft": (ensemble.VotingClassifier(
            [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))], voting="soft"), "text"),
        "VotingClassifier_hard": (ensemble.VotingClassifier(
            [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))]), "int"),
        "VotingRegressor": (ensemble.VotingRegressor(
            [("lin", LinearRegression()), ("tree", DecisionTreeRegressor(max_depth=3))], weights=[2, 1]), "target"),
        "StackingClassifier": (ensemble.StackingClassifier(
            [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))], cv=3), "text"),
        "StackingClassifier_passthrough": (ensemble.StackingClassifier(
            [("svc", SVC()), ("tree", DecisionTreeClassifier(max_depth=3))], cv=3, passthrough=True), "int"),
        "StackingRegressor": (ensemble.StackingRegressor(
            [("lin", LinearRegression()), ("tree", DecisionTreeRegressor(max_depth=3))],
            final_estimator=LinearRegression(), cv=3), "target"),
    }


def sampler(name):
    import imblearn.over_sampling
    import imblearn.under_sampling

    module = imblearn.over_sampling if name == "RandomOverSampler" else imblearn.under_sampling
    options = {"ClusterCentroids": {"random_state": 0}, "InstanceHardnessThreshold": {"cv": 3, "random_state": 0},
               "RandomUnderSampler": {"random_state": 0}, "RandomOverSampler": {"random_state": 0}}
    return getattr(module, name)(**options.get(name, {}))


def same_outputs(loaded, model, X):
    for method in ("predict", "predict_proba", "decision_function"):
        if hasattr(model, method):
            np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(model, method)(X))


@pytest.mark.parametrize("case", sorted(ensembles()))
def test_ensembles_round_trip_in_pipelines(tmp_path, case):
    """Every admitted ensemble, alone and after a scaler in a Pipeline: the same predictions as fitted."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model, labels = ensembles()[case]
    X, y = data(labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = make_pipeline(StandardScaler(), model).fit(X, y)
    for fitted in (pipeline, pipeline[-1]):
        loaded = load_sklearn(dump(fitted, tmp_path / "model.h5mlm"), MODEL)
        assert [type(step) for step in getattr(loaded, "steps", [(None, loaded)])] == [
            type(step) for step in getattr(fitted, "steps", [(None, fitted)])]
        same_outputs(loaded, fitted, X if fitted is pipeline else pipeline[0].transform(X))
        assert getattr(loaded[-1] if fitted is pipeline else loaded, "n_jobs", None) is None


@pytest.mark.parametrize("labels", ["int", "text"])
@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_imblearn_pipelines_round_trip(tmp_path, name, labels):
    """imblearn's Pipeline with each admitted sampler: predictions as fitted; the sampler rebuilt unfitted."""
    if (name, labels) == ("InstanceHardnessThreshold", "text"):
        pytest.skip("imbalanced-learn 0.14 cannot fit InstanceHardnessThreshold on text labels (IndexError)")
    from imblearn.pipeline import Pipeline
    from sklearn.ensemble import BaggingClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = data(labels)
    pipeline = Pipeline([("sample", sampler(name)), ("scale", StandardScaler()),
                         ("model", BaggingClassifier(n_estimators=3, max_features=0.75, random_state=0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X, y)
    path = dump(pipeline, tmp_path / "model.h5mlm")
    with h5py.File(path) as handle:
        assert "sampling_strategy_" in handle["-model_config-"][()].decode()  # its fitted state was saved ...
    loaded = load_sklearn(path, MODEL)
    same_outputs(loaded, pipeline, X)
    rebuilt = loaded[0]
    assert type(rebuilt) is type(pipeline[0]) and not hasattr(rebuilt, "sampling_strategy_")  # ... and not kept
    assert repr(rebuilt.get_params()) == repr(pipeline[0].get_params())


@pytest.fixture(scope="module")
def keras_pipeline(tmp_path_factory):
    """A StandardScaler + KerasGRegressor pipeline fitted and saved by galaxy-ml (the regression test model)."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.loadtxt(TEST_DATA / "regression_X.tsv", skiprows=1)[:, :4]
    y = np.loadtxt(TEST_DATA / "regression_y.tsv", skiprows=1)
    keras = load_estimator(str(TEST_DATA / "regression_trained.h5mlm"), MODEL)
    keras.set_params(epochs=1, verbose=0)
    pipeline = Pipeline([("scale", StandardScaler()), ("keras", keras)]).fit(X, y)
    return dump(pipeline, tmp_path_factory.mktemp("keras") / "pipeline.h5mlm"), pipeline, X


def test_keras_estimator_as_a_pipelines_last_step(keras_pipeline):
    path, pipeline, X = keras_pipeline
    with h5py.File(path) as handle:
        assert set(handle) >= {"-keras_models-", "-model_weights-"}
    check_h5mlm(path, MODEL)
    loaded = load_sklearn(path, MODEL)
    assert [type(step).__name__ for _, step in loaded.steps] == ["StandardScaler", "KerasGRegressor"]
    np.testing.assert_allclose(loaded.predict(X), pipeline.predict(X), rtol=1e-5, atol=1e-6)


def test_model_prediction_of_an_imblearn_ensemble_pipeline(tmp_path):
    """The Galaxy test's model (test-data/sklearn_imblearn_bagging.h5mlm) through the tool: as fitted."""
    import model_prediction as mp

    model = TEST_DATA / "sklearn_imblearn_bagging.h5mlm"
    loaded = load_sklearn(str(model), MODEL)
    assert [type(step).__name__ for _, step in loaded.steps] == ["RandomUnderSampler", "StandardScaler",
                                                                 "BaggingClassifier"]
    X = np.loadtxt(TEST_DATA / "sklearn_X.tsv", skiprows=1)
    out = tmp_path / "out.tsv"
    assert mp.run(predict_params(model, "predict_proba"), str(out)) == 40
    np.testing.assert_allclose(np.loadtxt(out, skiprows=1), loaded.predict_proba(X), atol=5e-7)
    truth = np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1)
    assert np.mean(loaded.predict(X) == truth) >= 0.9


# ---- hostile edits of real files -----------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Real galaxy-ml files to edit: bagging (2 of 4 columns per member), stacking, voting, AdaBoost, an
    imblearn pipeline with ClusterCentroids (a KMeans inside) and one with RandomOverSampler on text labels."""
    from imblearn.pipeline import Pipeline

    folder = tmp_path_factory.mktemp("ensembles")
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("BaggingClassifier", "StackingClassifier", "VotingClassifier_soft", "AdaBoostClassifier"):
            model, labels = ensembles()[name]
            found[name] = dump(model.fit(*data(labels)), folder / f"{name}.h5mlm")
        for name in ("ClusterCentroids", "RandomOverSampler"):
            from sklearn.linear_model import LogisticRegression

            pipeline = Pipeline([("sample", sampler(name)), ("model", LogisticRegression())]).fit(*data("text"))
            found[name] = dump(pipeline, folder / f"{name}.h5mlm")
    return found


def top(graph):
    return graph["-object-"]["-reduce-"]["-state-"]


def step(graph, index):
    return top(graph)["steps"][index]["-tuple-"][1]


def rewrite(path, graph, target, change_arrays=None):
    """A copy of galaxy-ml file ``path`` (arrays and Keras entries included) with the object graph ``graph``."""
    with h5py.File(path, "r") as old, h5py.File(target, "w") as new:
        new.attrs.update(old.attrs)
        for name in old:
            if name != "-model_config-":
                old.copy(old[name], new, name)
        new["-model_config-"] = json.dumps(graph).encode()
        if change_arrays:
            change_arrays(new["-model_weights-"])
    return str(target)


def array_of(state, name, value, item=None):
    """A change replacing the array that ``state[name]`` (or its ``item``-th entry) refers to by ``value``."""
    entry = state[name] if item is None else state[name][item]
    index = entry["-np_ndarray-"]

    def change(weights):
        del weights[str(index)]
        weights[str(index)] = value
    return change


def sampler_kmeans_memo(path, graph):
    """The memo index of the sampler's fitted KMeans, as our reader numbers what it reads (galaxy-ml's order)."""
    with h5py.File(path) as handle:
        reader = sklearn_io._Reader(handle["-model_weights-"], MODEL, build=False)
        reader.value(graph["-object-"])
    return next(index for index, item in enumerate(reader.memo) if isinstance(item, SamplerPart)
                and item.found.what.name == "KMeans")


def first_tree_outside(graph):
    """A change making the first AdaBoost member's root point 10**6 nodes away."""
    index = top(graph)["estimators_"][0]["-reduce-"]["-state-"]["tree_"]["-reduce-"]["-state-"]["nodes"]["-np_ndarray-"]

    def change(weights):
        nodes = weights[str(index)][()]
        nodes["left_child"][0] = 10 ** 6
        del weights[str(index)]
        weights[str(index)] = nodes
    return change


def edit(change):
    """A hostile edit: ``change(graph)`` edits the graph in place and may return a change of the arrays."""
    return change


HOSTILE = {
    "bagging_columns_outside": ("BaggingClassifier", edit(lambda g: array_of(
        top(g), "estimators_features_", np.array([0, 7]), 0)),
        "estimators_features_"),
    "bagging_columns_count": ("BaggingClassifier", edit(lambda g: array_of(
        top(g), "estimators_features_", np.array([0, 1, 2]), 1)), "estimators_features_"),
    "bagging_member_features": ("BaggingClassifier", edit(lambda g: top(g)["estimators_"][2]["-reduce-"]["-state-"]
                                                          .update(n_features_in_=4)), "estimators_features_"),
    "stacking_method_fit": ("StackingClassifier", edit(lambda g: top(g).update(stack_method_=["fit", "predict"])),
                            "stack_method_"),
    "stacking_passthrough": ("StackingClassifier", edit(lambda g: top(g).update(passthrough=1)),
                             "passthrough"),
    "voting_rule": ("VotingClassifier_soft", edit(lambda g: top(g).update(voting="os.system")),
                    "voting"),
    "voting_member_features": ("VotingClassifier_soft", edit(lambda g: top(g)["estimators_"][1]["-reduce-"]["-state-"]
                                                             .update(n_features_in_=9)),
                               "member of the VotingClassifier"),
    "bunch_call": ("VotingClassifier_soft", edit(lambda g: top(g).update(named_estimators_={"-reduce-": {
        "--func-": {"-global-": ["os", "system"]}, "-args-": {"-tuple-": ["touch pwned"]}}})),
        "os.system"),
    "bunch_other_class": ("VotingClassifier_soft", edit(lambda g: top(g)["named_estimators_"]["-reduce-"]["-args-"]
                                                        ["-tuple-"].__setitem__(0, {"-global-": ["os", "system"]})),
                          "named_estimators_"),
    "bunch_state": ("VotingClassifier_soft", edit(lambda g: top(g)["named_estimators_"]["-reduce-"].update(
        {"-state-": {"-keys-": ["__class__"], "__class__": 1}})), "named_estimators_"),
    "adaboost_weights": ("AdaBoostClassifier", edit(lambda g: array_of(top(g), "estimator_weights_", np.zeros(1))),
                         "estimator_weights_"),
    "adaboost_member_features": ("AdaBoostClassifier", edit(lambda g: top(g)["estimators_"][0]["-reduce-"]["-state-"]
                                                            .update(n_features_in_=2)), "member of the AdaBoostClassifier"),
    "adaboost_tree_nodes": ("AdaBoostClassifier", edit(first_tree_outside),
                            "decision tree"),
    "kmeans_as_a_step": ("ClusterCentroids", "kmeans_memo", "KMeans"),
    "kmeans_outside_a_sampler": ("ClusterCentroids", edit(lambda g: top(g)["steps"][1]["-tuple-"].__setitem__(
        1, step(g, 0)["-reduce-"]["-state-"]["estimator_"])),
        "KMeans"),
    "sampling_strategy_call": ("RandomOverSampler", edit(lambda g: step(g, 0)["-reduce-"]["-state-"].update(
        sampling_strategy_={"-reduce-": {"--func-": {"-global-": ["os", "system"]},
                                         "-args-": {"-tuple-": ["touch pwned"]}}})),
        "sampling_strategy_"),
    "sampling_strategy_label_call": ("RandomOverSampler", edit(lambda g: step(g, 0)["-reduce-"]["-state-"][
        "sampling_strategy_"]["-reduce-"]["-dictitems-"][0]["-tuple-"][0]["-reduce-"].update(
        {"--func-": {"-global-": ["os", "system"]}})), "class label"),
    "sampling_strategy_label_length": ("RandomOverSampler", edit(lambda g: step(g, 0)["-reduce-"]["-state-"][
        "sampling_strategy_"]["-reduce-"]["-dictitems-"][0]["-tuple-"][0]["-reduce-"]["-args-"]["-tuple-"]
        .__setitem__(1, {"-bytes-": "x"})), "class label"),
    "sampler_class": ("RandomOverSampler", edit(lambda g: step(g, 0)["-reduce-"]["-args-"]["-tuple-"].__setitem__(
        0, {"-global-": ["imblearn.over_sampling._smote.base", "SMOTE"]})),
        "SMOTE"),
}


def hostile_file(tmp_path, files, case):
    source, change, _ = HOSTILE[case]
    with h5py.File(files[source]) as handle:
        graph = json.loads(handle["-model_config-"][()])
    if change == "kmeans_memo":  # the sampler's own fitted KMeans, referred to again as the final step
        change = lambda g: top(g)["steps"][1]["-tuple-"].__setitem__(1, {"-memo-": sampler_kmeans_memo(files[source], g)})  # noqa: E731
    change_arrays = change(graph)
    return rewrite(files[source], graph, tmp_path / "model.h5mlm", change_arrays)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_edits_are_refused_before_anything_is_built(tmp_path, files, case):
    path = hostile_file(tmp_path, files, case)
    with pytest.raises(ModelRefused) as caught:
        check_h5mlm(path, MODEL)
    assert HOSTILE[case][2] in problem(caught.value, path)


def test_untouched_sources_load(files):
    """The hostile edits' sources themselves are accepted: the refusals come from the edits."""
    for path in files.values():
        load_sklearn(path, MODEL)


def keras_edit(change):
    """A change of the Keras pipeline file: ``change(handle)`` on an h5py copy of it."""
    return change


def keras_params(handle, update):
    params = json.loads(handle["-keras_models-/0/params"][()])
    update(params)
    del handle["-keras_models-/0/params"]
    handle["-keras_models-/0/params"] = json.dumps(params).encode()


def graph_of(handle, update):
    graph = json.loads(handle["-model_config-"][()])
    update(graph)
    del handle["-model_config-"]
    handle["-model_config-"] = json.dumps(graph).encode()


KERAS_HOSTILE = {
    "not_last": (lambda h: graph_of(h, lambda g: top(g)["steps"].reverse()),
                 "Keras model"),
    "second_keras": (lambda h: graph_of(h, lambda g: top(g)["steps"].append({"-tuple-": ["again", {"-keras_model-": 0}]})),
                     "Keras model"),
    "attribute": (lambda h: graph_of(h, lambda g: step(g, 0)["-reduce-"]["-state-"].update(copy={"-keras_model-": 0})),
                  "Keras model"),
    "callback_file": (lambda h: keras_params(h, lambda p: p.update(callbacks=[{"callback_selection": {
        "callback_type": "CSVLogger", "filename": "/tmp/pwned"}}])), "CSVLogger"),
    "unknown_param": (lambda h: keras_params(h, lambda p: p.update(loss_weights=[1])),
                      "loss_weights"),
    "batch_classifier": (lambda h: (h["-keras_models-/0/class_name"].__setitem__((), b"KerasGBatchClassifier")),
                         "KerasGBatchClassifier"),
    "extra_entry": (lambda h: h["-keras_models-"].create_group("1"), "Keras entry"),
    "no_keras_group": (lambda h: h.__delitem__("-keras_models-"), "Keras entry"),
    "weights_shape": (lambda h: (h["-keras_models-/0/weights/dense/dense"].__delitem__("bias"),
                                 h["-keras_models-/0/weights/dense/dense"].create_dataset("bias", data=np.zeros(99))),
                      "weight"),
}


KERAS_REFUSED_WHEN_BUILT = {"weights_shape"}


@pytest.mark.parametrize("case", sorted(KERAS_HOSTILE))
def test_hostile_keras_pipelines_are_refused(tmp_path, keras_pipeline, case):
    """The Keras step is checked as a Keras model file is (gxkeras/modelfile/h5mlm.py): no second set of checks."""
    import shutil

    path = tmp_path / "model.h5mlm"
    shutil.copy(keras_pipeline[0], path)
    change, named = KERAS_HOSTILE[case]
    with h5py.File(path, "r+") as handle:
        change(handle)
    load = load_sklearn if case in KERAS_REFUSED_WHEN_BUILT else check_h5mlm  # weights: checked when built
    # ToolInputError: the Keras parameter checks (gxkeras/keras/estimators.py) do not raise ModelRefused yet
    with pytest.raises(ToolInputError) as caught:
        load(str(path), MODEL)
    assert named in problem(caught.value, path)


# ---- XGBoost: the booster's UBJSON bytes parsed and checked by us (gxkeras/modelfile/sklearn_loaders/xgboost.py) -------------

def xgboost_model(objective, pipeline=True):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from xgboost import XGBClassifier, XGBRegressor

    X, y = data()
    classifier = objective.startswith(("binary", "multi"))
    labels = (y > 0).astype(int) if objective.startswith("binary") or objective == "reg:logistic" else y \
        if classifier else X[:, 0] * 3 + 1
    model = (XGBClassifier if classifier else XGBRegressor)(n_estimators=3, max_depth=3, objective=objective)
    return (make_pipeline(StandardScaler(), model) if pipeline else model).fit(X, labels), X


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_xgboost_round_trips(tmp_path, objective):
    """Every admitted objective, in a pipeline (and binary/multi-class alone): exactly the fitted predictions."""
    for pipeline in (True, False) if objective in ("binary:logistic", "multi:softprob") else (True,):
        model, X = xgboost_model(objective, pipeline)
        path = dump(model, tmp_path / "xgb.h5mlm")
        with h5py.File(path) as handle:  # galaxy-ml pickles the booster's serialisation, UBJSON
            assert '["builtins", "bytearray"]' in handle["-model_config-"][()].decode()
        loaded = load_sklearn(path, MODEL)
        same_outputs(loaded, model, X)
        final = loaded[-1] if pipeline else loaded
        assert final.get_booster().attr("scikit_learn") is None  # only the checked model was given to XGBoost


@pytest.mark.filterwarnings("ignore::UserWarning")  # XGBoost 3 deprecates gblinear and dart (still saved)
@pytest.mark.parametrize("booster", ["gblinear", "dart"])
def test_xgboost_linear_and_dart_boosters_round_trip(tmp_path, booster):
    """gblinear: its weights checked by size; dart: XGBoost 3 saves it as a tree booster (dropout is training
    only). Both give exactly the fitted probabilities; a linear booster with a weight missing is refused."""
    from xgboost import XGBClassifier

    X, y = data()
    model = XGBClassifier(n_estimators=3, booster=booster, **({"max_depth": 2} if booster == "dart" else {})).fit(X, y)
    path = dump(model, tmp_path / "xgb.h5mlm")
    same_outputs(load_sklearn(path, MODEL), model, X)
    if booster == "gblinear":
        with h5py.File(path) as handle:
            graph = json.loads(handle["-model_config-"][()])
        booster_edit(lambda d: d["Model"]["learner"]["gradient_booster"]["model"]["weights"].pop())(graph)
        short = rewrite(path, graph, tmp_path / "short.h5mlm")
        with pytest.raises(ModelRefused, match="linear weights"):
            check_h5mlm(short, MODEL)


def test_model_prediction_and_feature_importances_of_an_xgboost_pipeline(tmp_path, capsys):
    """Through both tools: the probabilities the fitted pipeline gives, and the booster's feature importances."""
    import ml_visualization_ex as viz
    import model_prediction as mp
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from xgboost import XGBClassifier

    X = np.loadtxt(TEST_DATA / "sklearn_X.tsv", skiprows=1)
    y = np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1).astype(int)
    model = make_pipeline(StandardScaler(), XGBClassifier(n_estimators=4, max_depth=2, random_state=0)).fit(X, y)
    path = dump(model, tmp_path / "xgb.h5mlm")
    out = tmp_path / "out.tsv"
    assert mp.run(predict_params(path, "predict_proba"), str(out)) == 40
    assert out.read_text().splitlines()[0] == "0\t1"
    np.testing.assert_allclose(np.loadtxt(out, skiprows=1), model.predict_proba(X), atol=5e-7)
    viz.run({"plotting_selection": {
        "plot_type": "feature_importances", "infile_estimator": path, "infile1": str(TEST_DATA / "sklearn_X.tsv"),
        "column_selector_options": {"selected_column_selector_option": "all_columns"}, "threshold": None,
        "title": "", "plot_format": "png"}}, str(tmp_path / "plot.png"))
    assert "4 features of a XGBClassifier; largest signal" in capsys.readouterr().out


def ubjson(value):
    """UBJSON as XGBoost writes it (the test's own writer, to make hostile boosters)."""
    import struct

    if isinstance(value, bool):
        return b"T" if value else b"F"
    if isinstance(value, int):
        return b"L" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"D" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()
        return b"S" + b"L" + struct.pack(">q", len(raw)) + raw
    if isinstance(value, list):
        return b"[" + b"".join(ubjson(item) for item in value) + b"]"
    return b"{" + b"".join(b"L" + struct.pack(">q", len(key.encode())) + key.encode() + ubjson(item)
                           for key, item in value.items()) + b"}"


def handle_args(graph):
    state = top(graph) if "_Booster" in top(graph) else step(graph, 1)["-reduce-"]["-state-"]
    return state["_Booster"]["-reduce-"]["-state-"]["handle"]["-reduce-"]["-args-"]["-tuple-"]


def booster_edit(change):
    """A hostile edit of the booster: ``change(document)`` edits XGBoost's {Config, Model} document."""
    def edit_graph(graph):
        args = handle_args(graph)
        document = parse_ubjson(args[0].encode("latin-1"))
        replaced = change(document)
        args[0] = (replaced if isinstance(replaced, bytes) else ubjson(document)).decode("latin-1")
    return edit_graph


def tree(document, index=0):
    return document["Model"]["learner"]["gradient_booster"]["model"]["trees"][index]


def gbtree(document):
    return document["Model"]["learner"]["gradient_booster"]["model"]


XGB_HOSTILE = {
    "child_outside": (booster_edit(lambda d: tree(d)["left_children"].__setitem__(0, 10 ** 6)),
                      "tree 0"),
    "child_backwards": (booster_edit(lambda d: tree(d)["right_children"].__setitem__(0, 0)),
                        "tree 0"),
    "parent_mismatch": (booster_edit(lambda d: tree(d)["parents"].__setitem__(1, 5)), "node 0"),
    "feature_outside": (booster_edit(lambda d: tree(d)["split_indices"].__setitem__(0, 99)),
                        "feature 99"),
    "short_array": (booster_edit(lambda d: tree(d)["base_weights"].pop()), "base_weights"),
    "tree_info": (booster_edit(lambda d: gbtree(d)["tree_info"].__setitem__(0, 5)),
                  "tree_info"),
    "indptr": (booster_edit(lambda d: gbtree(d)["iteration_indptr"].__setitem__(-1, 99)),
               "iteration_indptr"),
    "num_trees": (booster_edit(lambda d: gbtree(d)["trees"].pop()), "num_trees"),
    "categorical": (booster_edit(lambda d: tree(d)["split_type"].__setitem__(0, 1)), "categorical"),
    "linear_with_trees": (booster_edit(lambda d: d["Model"]["learner"]["gradient_booster"].update(name="gblinear")),
                          "gblinear"),
    "other_booster": (booster_edit(lambda d: d["Model"]["learner"]["gradient_booster"].update(name="dart")),
                      "gbtree"),
    "base_score": (booster_edit(lambda d: d["Model"]["learner"]["learner_model_param"].update(base_score="[1]")),
                   "base_score"),
    "objective": (booster_edit(lambda d: d["Model"]["learner"]["objective"].update(name="reg:gamma")),
                  "objective"),
    "num_feature": (booster_edit(lambda d: d["Model"]["learner"]["learner_model_param"].update(num_feature="2")),
                    "tree_param"),
    "truncated": (booster_edit(lambda d: ubjson(d)[:-40]), "UBJSON"),
    "long_typed_array": (booster_edit(lambda d: b"[$d#L\x7f\xff\xff\xff\xff\xff\xff\xff"),
                         "length"),
    "deep": (booster_edit(lambda d: b"[" * 5000 + b"]" * 5000), "nested"),
    "no_config": (booster_edit(lambda d: d.pop("Config")), "Config"),
    "encoding": (lambda g: handle_args(g).__setitem__(1, "utf-8"), "latin-1"),
    "default_left": (booster_edit(lambda d: tree(d)["default_left"].__setitem__(0, 7)),
                     "default_left"),
    "n_classes": (lambda g: step(g, 1)["-reduce-"]["-state-"].update(n_classes_=5),
                  "n_classes_"),
    "booster_as_step": ("booster_memo", "booster"),
}


def booster_memo(path, graph):
    """The memo index of the pipeline's booster, as our reader numbers what it reads (galaxy-ml's order)."""
    with h5py.File(path) as handle:
        reader = sklearn_io._Reader(handle["-model_weights-"], MODEL, build=False)
        reader.value(graph["-object-"])
    return next(index for index, item in enumerate(reader.memo) if isinstance(item, Owned)) + 1


@pytest.fixture(scope="module")
def xgboost_file(tmp_path_factory):
    model, _ = xgboost_model("multi:softprob")
    return dump(model, tmp_path_factory.mktemp("xgb") / "xgb.h5mlm")


def xgboost_hostile(tmp_path, source, case):
    with h5py.File(source) as handle:
        graph = json.loads(handle["-model_config-"][()])
    change = XGB_HOSTILE[case][0]
    if change == "booster_memo":  # the booster, referred to again as a further step
        change = lambda g: top(g)["steps"].append({"-tuple-": ["again", {"-memo-": booster_memo(source, g)}]})  # noqa: E731
    change(graph)
    return rewrite(source, graph, tmp_path / "model.h5mlm")


@pytest.mark.parametrize("case", sorted(XGB_HOSTILE))
def test_hostile_xgboost_boosters_are_refused(tmp_path, xgboost_file, case):
    path = xgboost_hostile(tmp_path, xgboost_file, case)
    with pytest.raises(ModelRefused) as caught:
        check_h5mlm(path, MODEL)
    assert XGB_HOSTILE[case][1] in problem(caught.value, path)


def test_untouched_xgboost_file_loads(xgboost_file):
    assert [type(step).__name__ for _, step in load_sklearn(xgboost_file, MODEL).steps] == [
        "StandardScaler", "XGBClassifier"]


FRESH_PYTHON = ["bagging_columns_outside", "stacking_method_fit", "kmeans_as_a_step", "sampling_strategy_label_call"]


@pytest.fixture(scope="module")
def fresh_runs(tmp_path_factory, files, keras_pipeline, xgboost_file):
    """Those edits, an XGBoost-like class and a hostile Keras step through model_prediction in one fresh Python."""
    import shutil

    runs, outs, cases = [], [], [*FRESH_PYTHON, "keras_callback_file", "xgb_child_outside"]
    for case in cases:
        folder = tmp_path_factory.mktemp(case)
        if case.startswith("keras_"):
            path = folder / "model.h5mlm"
            shutil.copy(keras_pipeline[0], path)
            with h5py.File(path, "r+") as handle:
                KERAS_HOSTILE[case[len("keras_"):]][0](handle)
        elif case.startswith("xgb_"):
            path = xgboost_hostile(folder, xgboost_file, case[len("xgb_"):])
        else:
            path = hostile_file(folder, files, case)
        inputs, out = folder / "inputs.json", folder / "out"
        inputs.write_text(json.dumps(predict_params(path)))
        runs.append(("model_prediction.py", ["--inputs", inputs, "--outfile", out]))
        outs.append(out)
    results = run_tools(runs, ["sklearn", "imblearn", "galaxy_ml", "tensorflow", "keras", "xgboost"],
                        cwd=tmp_path_factory.mktemp("runs"), env=WORK_IN_TOOL_PROCESS)
    return dict(zip(cases, zip(results, outs, strict=True), strict=True))


@pytest.mark.parametrize("case", [*FRESH_PYTHON, "keras_callback_file", "xgb_child_outside"])
def test_hostile_edits_import_nothing(fresh_runs, case):
    run, out = fresh_runs[case]
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    expected = "CSVLogger" if case.startswith("keras_") else XGB_HOSTILE[case[4:]][1] if case.startswith("xgb_") \
        else HOSTILE[case][2]
    assert run.returncode == 1 and len(errors) == 1 and MODEL in errors[0], run.stderr
    assert expected in errors[0].split(".h5mlm): ", 1)[1]
    assert run.imported == [] and not out.exists()
