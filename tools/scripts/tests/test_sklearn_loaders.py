"""Reconstruct, don't trust (issue 25): each admitted scikit-learn class's loader (gxkeras/modelfile/sklearn_loaders/loader.py).

Every admitted class is fitted, and every private attribute scikit-learn gave it must be declared by its
loader (checked, recomputed or dropped): a scikit-learn that adds one fails here until it is declared.
What a loader recomputes must equal what ``fit`` produced, and what it drops must not reach the loaded
object. Files saved by galaxy-ml's ``dump_model_to_h5`` and then edited (fixtures/hostile_models.py) prove
the two halves of the rule: a file whose recomputed attribute was tampered with loads to the same
attribute and predicts, through model_prediction in a fresh Python (the tampered values wrote out of
bounds before), exactly what the untouched file predicts; a file whose checked attribute or work-bounding
parameter is wrong is refused with ModelRefused before anything is called.
"""
import json
import warnings

import numpy as np
import pytest

from fresh_python import run_tools
from gxkeras.modelfile.sklearn_loaders import neighbors as sklearn_neighbors
from gxkeras.galaxy.errors import ModelRefused
from gxkeras.modelfile.h5mlm import check_h5mlm, load_sklearn
from gxkeras.modelfile.sklearn_loaders.classes import CLASSES
from gxkeras.modelfile.sklearn_loaders.ensembles import SAMPLER_PARTS
from gxkeras.modelfile.sklearn_loaders.reader import LOADER_TABLES, LOADERS
from gxkeras.modelfile.sklearn_loaders.loader import ITERATIONS, TOLERANCES
from test_sklearn_models import MODEL, dump, fitted_admitted, predict_params, problem

from fixtures import hostile_models as hostile


def key(model):
    return type(model).__module__, type(model).__name__


def same(ours, theirs):
    """Equal values: arrays of one dtype and shape (floats to 1e-12: a kernel recomputed may differ in the last
    bit), containers item by item, objects of one type attribute by attribute."""
    if isinstance(theirs, np.ndarray):
        return isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype and ours.shape == theirs.shape and (
            np.allclose(ours, theirs, rtol=1e-12, atol=1e-12, equal_nan=True) if theirs.dtype.kind in "fc"
            else np.array_equal(ours, theirs))
    if isinstance(theirs, (list, tuple)):
        return type(ours) is type(theirs) and len(ours) == len(theirs) and all(map(same, ours, theirs))
    if isinstance(theirs, dict):
        return isinstance(ours, dict) and set(ours) == set(theirs) and all(same(ours[k], theirs[k]) for k in theirs)
    if isinstance(theirs, np.random.RandomState):
        return type(ours) is type(theirs) and same(ours.get_state(), theirs.get_state())
    if hasattr(theirs, "__dict__") and not isinstance(theirs, type):
        return type(ours) is type(theirs) and same(vars(ours), vars(theirs))
    if type(theirs).__module__.startswith("sklearn."):  # a compiled object (a loss): what pickle would rebuild it from
        return type(ours) is type(theirs) and same(ours.__reduce__()[1], theirs.__reduce__()[1])
    return type(ours) is type(theirs) and (ours == theirs or ours != ours and theirs != theirs)  # NaN is NaN


# ---- the audit: every private attribute declared, every recomputed value what fit produced -------------

def extra_configurations():
    """Configurations whose private attributes differ from the default ones test_sklearn_models fits."""
    from sklearn.ensemble import RandomTreesEmbedding, StackingClassifier
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, PolynomialFeatures
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    return {
        "one_hot_drop_dense": (OneHotEncoder(drop="first", sparse_output=False, handle_unknown="ignore"), "codes"),
        "one_hot_if_binary": (OneHotEncoder(drop="if_binary"), "codes"),
        "one_hot_given_categories": (OneHotEncoder(categories=[[0, 1, 2, 3]] * 4, handle_unknown="ignore"), "codes"),
        "kbins_dense": (KBinsDiscretizer(n_bins=3, encode="onehot-dense", strategy="uniform"), None),
        "kbins_ordinal": (KBinsDiscretizer(n_bins=3, encode="ordinal", strategy="uniform"), None),
        "trees_embedding_dense": (RandomTreesEmbedding(n_estimators=2, max_depth=3, sparse_output=False,
                                                       random_state=0), None),
        "polynomial_range": (PolynomialFeatures(degree=(2, 3), interaction_only=True), None),
        "knn_mahalanobis": (KNeighborsClassifier(3, algorithm="brute", metric="mahalanobis",
                                                 metric_params={"VI": np.eye(4)}), "classes"),
        "knn_weighted_minkowski": (KNeighborsRegressor(3, algorithm="brute", p=3,
                                                       metric_params={"w": np.arange(1.0, 5.0)}), "target"),
        "knn_two_outputs": (KNeighborsClassifier(3, algorithm="brute"), "two_outputs"),
        "svc_three_classes": (SVC(probability=True, gamma=0.5), "classes"),
        "ridge_three_classes": (RidgeClassifier(), "classes"),
        "stacking_three_classes": (StackingClassifier([("lr", LogisticRegression()), (
            "tree", DecisionTreeClassifier(max_depth=2))], cv=3), "classes"),
    }


def fitted_extra(case):
    model, target = extra_configurations()[case]
    rng = np.random.RandomState(4)
    X = rng.rand(40, 4)
    classes = np.array(["low", "mid", "high"])[(X[:, 0] * 3).astype(int)]
    y = {"classes": classes, "target": X[:, 0] * 3 + X[:, 1], "two_outputs": np.c_[classes, X[:, 1] > 0.5],
         None: None}.get(target)
    if target == "codes":
        X = (X * 4).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y), X


AUDITED = {**{f"{module}.{name}": (module, name) for module, name in sorted(CLASSES)},
           **{case: case for case in extra_configurations()}}


@pytest.mark.parametrize("case", sorted(AUDITED))
def test_private_attributes_are_declared_and_recomputed_as_fit_makes_them(tmp_path, case):
    """Every private attribute of the fitted object is declared by its loader; each one it recomputes (private
    or public) equals what fit produced; what it drops is not on the loaded object."""
    where = AUDITED[case]
    model, _ = fitted_admitted(*where) if isinstance(where, tuple) else fitted_extra(where)
    entry = LOADERS[key(model)]
    state = model.__getstate__()
    private = {name for name in state if name.startswith("_")}
    assert private <= entry.declared, f"{key(model)[1]}'s loader does not declare {sorted(private - entry.declared)}"
    loaded = load_sklearn(dump(model, tmp_path / "model.h5mlm"), MODEL)
    if entry.make is not None:  # a sampler: made from its parameters, nothing fitted kept
        return
    for name in sorted(entry.recomputed & set(state)):
        assert same(getattr(loaded, name), state[name]), f"{key(model)[1]}.{name} is not what fit made"
    for name in sorted(entry.checked & set(state)):
        assert same(getattr(loaded, name), state[name]), f"{key(model)[1]}.{name} is not the file's"
    assert not entry.dropped & set(vars(loaded))


def test_loader_tables_name_admitted_classes_once():
    """Each module's loaders are for admitted classes, and no class has two (the merged table would hide one)."""
    named = [class_key for table in LOADER_TABLES for class_key in table]
    assert set(named) <= CLASSES | SAMPLER_PARTS and len(named) == len(set(named))
    assert set(LOADERS) == CLASSES | SAMPLER_PARTS


def test_work_bounds_name_parameters_of_admitted_classes():
    """The parameters the generic work bounds check are parameters some admitted class has (no stale names)."""
    import importlib

    names = set()
    for module, name in CLASSES:
        klass = getattr(importlib.import_module(module), name)
        names |= set(getattr(klass, "_get_param_names", list)())
    assert set(ITERATIONS) | set(TOLERANCES) <= names


def test_metric_names_are_sklearns():
    """The metrics a neighbour search may name are those of scikit-learn's brute-force search, no more."""
    from sklearn.neighbors import VALID_METRICS

    assert sorted(sklearn_neighbors.METRICS) == sorted(set(VALID_METRICS["brute"]) - {"precomputed"})


# ---- galaxy-ml files to edit ----------------------------------------------------------------------------

def small_problem(folder):
    """``(X, y, table)``: 40 x 4 small whole numbers, 3 classes, and X written to ``folder`` as a table with a
    header, which the edited files are fitted on and predict."""
    rng = np.random.RandomState(5)
    X = rng.randint(0, 3, (40, 4)).astype(float)
    table = folder / "X.tsv"
    np.savetxt(table, X, delimiter="\t", header="\t".join(f"f{i}" for i in range(4)), comments="", fmt="%g")
    return X, (X.sum(axis=1) > 4).astype(int) + (X[:, 0] > 1), table


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Real galaxy-ml files fitted on ``X`` (small whole numbers, 40 x 4, written as a table with a header):
    ``({name: path}, the table's path)``."""
    from sklearn.decomposition import NMF, LatentDirichletAllocation
    from sklearn.ensemble import IsolationForest, RandomTreesEmbedding
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, PolynomialFeatures
    from sklearn.svm import SVC

    folder = tmp_path_factory.mktemp("sources")
    X, y, table = small_problem(folder)
    target = X[:, 0] * 3 + X[:, 1]
    models = {
        "one_hot_dense": make_pipeline(OneHotEncoder(sparse_output=False, handle_unknown="ignore"), LogisticRegression()),
        "one_hot_drop": make_pipeline(OneHotEncoder(drop="first"), LogisticRegression()),
        "kbins_dense": make_pipeline(KBinsDiscretizer(3, encode="onehot-dense", strategy="uniform"), LogisticRegression()),
        "kbins_sparse": make_pipeline(KBinsDiscretizer(3, encode="onehot", strategy="uniform"), LogisticRegression()),
        "trees_embedding": make_pipeline(RandomTreesEmbedding(n_estimators=3, max_depth=3, random_state=0),
                                         LogisticRegression()),
        "svc": SVC(),
        "knn": KNeighborsClassifier(3, algorithm="brute", metric="manhattan"),
        "knn_mahalanobis": KNeighborsClassifier(3, algorithm="brute", metric="mahalanobis",
                                                metric_params={"VI": np.linalg.inv(np.cov(X.T))}),
        "knn_minkowski": KNeighborsClassifier(3, algorithm="brute", p=3, metric_params={"w": np.ones(4)}),
        "iforest": IsolationForest(n_estimators=3, max_features=0.75, random_state=0),
        "polynomial": make_pipeline(PolynomialFeatures(2), LinearRegression()),
        "nmf": make_pipeline(NMF(2, max_iter=500), LinearRegression()),
        "lda": make_pipeline(LatentDirichletAllocation(2, random_state=0), LinearRegression()),
    }
    paths = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, model in models.items():
            labels = target if name in ("polynomial", "nmf", "lda") else None if name == "iforest" else y
            paths[name] = dump(model.fit(X, labels), folder / f"{name}.h5mlm")
    return paths, table


def state_of(name, index=0):
    """The graph edit's target: the state of the ``index``-th object of class ``name``."""
    return lambda graph: hostile.object_states(graph, name)[index]


def set_values(name, **values):
    """An edit setting attributes of the first ``name`` object to plain JSON values."""
    def edit(graph):
        state_of(name)(graph).update(values)
    return edit


def set_array(name, attribute, value, item=None):
    """An edit replacing the array that attribute (or its ``item``-th entry) of the first ``name`` refers to."""
    def edit(graph):
        entry = state_of(name)(graph)[attribute]
        if item is not None:  # an item of a tuple, a list or a dictionary
            entry = entry["-tuple-"][item] if isinstance(entry, dict) and "-tuple-" in entry else entry[item]
        return lambda weights: hostile.replace_array(weights, hostile.array_index(entry), value)
    return edit


def set_object_values(name, attribute, values):
    """An edit replacing the values of an object array attribute (as galaxy-ml writes ``drop_idx_``)."""
    def edit(graph):
        state_of(name)(graph)[attribute]["-np_ndarray_o_type-"]["-values-"] = values
    return edit


def set_text(name, attribute, text, kept):
    """An edit setting a text attribute of the first ``name`` to ``text``, where a parameter ``kept`` refers back
    to the file's text (pickle writes a text once, then -memo-): ``kept`` gets the text it had, and the version
    text (read before both) is left out, so that every later -memo- reference stays in place."""
    def edit(graph):
        state = state_of(name)(graph)
        old = state[attribute]
        assert state[kept] == {"-memo-": state[kept]["-memo-"]} and isinstance(old, str)
        state.update({attribute: text, kept: old})
        state["-keys-"].remove("_sklearn_version")
        del state["_sklearn_version"]
    return edit


def edited(folder, sources, source, edit):
    return hostile.edited_sklearn(folder / "model.h5mlm", sources[source], edit)


# ---- recomputed: a tampered value is never used ----------------------------------------------------------

def step(index, attribute):
    return lambda model: getattr(model[index], attribute)


# (source, edit, what the loaded model gives for the recomputed attribute). Each tampered value made scipy or
# libsvm read or write out of bounds, or changed predictions, when it was taken from the file.
RECOMPUTED = {
    # the same total width, other offsets: the last feature's ones land past each row (scipy writes them unchecked)
    "one_hot_n_features_outs": ("one_hot_dense", set_values("OneHotEncoder", _n_features_outs=[6, 3, 3, 0]),
                                step(0, "_n_features_outs")),
    "one_hot_drop_after_grouping": ("one_hot_drop", set_object_values("OneHotEncoder", "_drop_idx_after_grouping",
                                                                      [7, 7, 7, 7]), step(0, "_drop_idx_after_grouping")),
    "one_hot_drop_idx": ("one_hot_drop", set_object_values("OneHotEncoder", "drop_idx_", [2, 2, 2, 2]),
                         step(0, "drop_idx_")),
    "one_hot_sparse_n_features_outs": ("one_hot_drop", set_values("OneHotEncoder", _n_features_outs=[4, 2, 2, 0]),
                                       step(0, "_n_features_outs")),
    "kbins_encoder_outs": ("kbins_dense", set_values("OneHotEncoder", _n_features_outs=[6, 3, 3, 0]),
                           lambda model: model[0]._encoder._n_features_outs),
    "kbins_sparse_encoder_outs": ("kbins_sparse", set_values("OneHotEncoder", _n_features_outs=[6, 3, 3, 0]),
                                  lambda model: model[0]._encoder._n_features_outs),
    "kbins_encoder_categories": ("kbins_sparse", set_array("OneHotEncoder", "categories_", np.arange(1), 0),
                                 lambda model: model[0]._encoder.categories_),
    "trees_embedding_encoder_outs": ("trees_embedding", set_values("OneHotEncoder", _n_features_outs=[1, 1, 1]),
                                     lambda model: model[0].one_hot_encoder_._n_features_outs),
    "trees_embedding_categories": ("trees_embedding", set_array("OneHotEncoder", "categories_", np.arange(2), 1),
                                   lambda model: model[0].one_hot_encoder_.categories_),
    "svm_dual_coef": ("svc", set_array("SVC", "_dual_coef_", np.zeros((2, 3))), lambda model: model._dual_coef_),
    "svm_intercept": ("svc", set_array("SVC", "_intercept_", np.zeros(1)), lambda model: model._intercept_),
    "svm_probability": ("svc", set_values("SVC", _effective_probability=True),
                        lambda model: model._effective_probability),
    "knn_fit_method": ("knn", set_text("KNeighborsClassifier", "_fit_method", "kd_tree", "algorithm"),
                       lambda model: model._fit_method),
    "knn_effective_metric": ("knn", set_text("KNeighborsClassifier", "effective_metric_", "chebyshev", "metric"),
                             lambda model: model.effective_metric_),
    "knn_effective_params": ("knn_mahalanobis", set_array("KNeighborsClassifier", "effective_metric_params_",
                                                          np.eye(2), "VI"),
                             lambda model: model.effective_metric_params_),
    "iforest_depths": ("iforest", set_array("IsolationForest", "_decision_path_lengths", np.zeros(10 ** 4), 2),
                       lambda model: model._decision_path_lengths),
    "iforest_average_lengths": ("iforest", set_array("IsolationForest", "_average_path_length_per_tree",
                                                     np.zeros(1), 1), lambda model: model._average_path_length_per_tree),
    "iforest_max_features": ("iforest", set_values("IsolationForest", _max_features=4), lambda model: model._max_features),
    "polynomial_width": ("polynomial", set_values("PolynomialFeatures", n_output_features_=10 ** 9, _n_out_full=10 ** 9),
                         step(0, "n_output_features_")),
}


@pytest.mark.parametrize("case", sorted(RECOMPUTED))
def test_recomputed_attributes_never_come_from_the_file(tmp_path, sources, case):
    """The tampered file loads (nothing is called) with the attribute the untouched file gives."""
    paths, _ = sources
    source, edit, attribute = RECOMPUTED[case]
    tampered = load_sklearn(edited(tmp_path, paths, source, edit), MODEL)
    assert same(attribute(tampered), attribute(load_sklearn(paths[source], MODEL)))


@pytest.fixture(scope="module")
def tool_runs(tmp_path_factory, sources):
    """Every RECOMPUTED and TOOL_REFUSED file (and the untouched sources) through model_prediction, one after the
    other in one fresh Python: a tampered value taken from the file could corrupt memory, which must not happen
    in the test process. ``{case: (Run, output text or None)}``."""
    paths, table = sources
    cases = {**{name: paths[name] for name in paths},
             **{case: edited(tmp_path_factory.mktemp(case), paths, source, edit)
                for case, (source, edit, *_) in {**RECOMPUTED, **TOOL_REFUSED}.items()}}
    folder = tmp_path_factory.mktemp("runs")
    runs, outs = [], []
    for case, path in cases.items():
        inputs, out = folder / f"{case}.json", folder / f"{case}.tsv"
        inputs.write_text(json.dumps(predict_params(path, data=table)))
        runs.append(("model_prediction.py", ["--inputs", inputs, "--outfile", out]))
        outs.append(out)
    results = run_tools(runs, [], cwd=folder, env={"GXKERAS_MEMORY_LIMIT_BYTES": str(2 ** 30)})
    return {case: (run, out.read_text() if out.exists() else None)
            for case, run, out in zip(cases, results, outs, strict=True)}


@pytest.mark.parametrize("case", sorted(RECOMPUTED))
def test_tampered_files_predict_as_the_untouched_ones(tool_runs, case):
    run, predicted = tool_runs[case]
    source_run, expected = tool_runs[RECOMPUTED[case][0]]
    assert run.returncode == 0 == source_run.returncode, run.stderr + source_run.stderr
    assert predicted == expected and len(predicted.splitlines()) == 41


# ---- checked: a wrong value or an unbounded parameter is refused ----------------------------------------

# (source, edit, the attribute or parameter the refusal names); refused before anything is called (check_h5mlm
# reads the description only, load_sklearn builds too: both call nothing).
REFUSED = {
    "mahalanobis_vi_small": ("knn_mahalanobis", set_array("KNeighborsClassifier", "metric_params", np.eye(2), "VI"), "VI"),
    "mahalanobis_vi_infinite": ("knn_mahalanobis", set_array("KNeighborsClassifier", "metric_params",
                                                             np.full((4, 4), np.inf), "VI"), "VI"),
    "minkowski_p_below_one": ("knn_minkowski", set_values("KNeighborsClassifier", p=0.5), "p"),
    "minkowski_p_infinite": ("knn_minkowski", set_values("KNeighborsClassifier", p=1e400), "p"),
    "minkowski_weights_short": ("knn_minkowski", set_array("KNeighborsClassifier", "metric_params", np.ones(2), "w"),
                                "w"),
    "metric_param_other": ("knn", set_values("KNeighborsClassifier", metric_params={"-keys-": ["VI"], "VI": 1}),
                           "metric_params"),
    "metric_unknown": ("knn", set_values("KNeighborsClassifier", metric="wminkowski"), "metric"),
    "nmf_iterations": ("nmf", set_values("NMF", max_iter=10 ** 12, tol=-1.0), "max_iter"),
    "nmf_tolerance": ("nmf", set_values("NMF", tol=-1.0), "tol"),
    "lda_iterations": ("lda", set_values("LatentDirichletAllocation", max_doc_update_iter=10 ** 12), "max_doc_update_iter"),
    "lda_tolerance": ("lda", set_values("LatentDirichletAllocation", mean_change_tol=-1.0), "mean_change_tol"),
    "lda_tolerance_nan": ("lda", set_values("LatentDirichletAllocation", mean_change_tol=float("nan")), "mean_change_tol"),
    "numpy_scalar_overflow": ("nmf", set_values("NMF", max_iter=hostile.numpy_scalar("int64", 10 ** 30)), "int64"),
    "numpy_scalar_float16": ("nmf", set_values("NMF", alpha_W=hostile.numpy_scalar("float16", 1e30)), "float16"),
    "whole_number_overflow": ("nmf", set_values("NMF", n_features_in_=10 ** 30), "1000000000000000000000000000000"),
    "features_unbounded": ("svc", set_values("SVC", n_features_in_=10 ** 12), "n_features_in_"),
    "one_hot_infrequent": ("one_hot_dense", set_values("OneHotEncoder", max_categories=2), "max_categories"),
    "one_hot_categories_unsorted": ("one_hot_dense", set_array("OneHotEncoder", "categories_", np.array([2.0, 0.0, 1.0]),
                                                               0), "categories_"),
    "one_hot_categories_repeated": ("one_hot_dense", set_array("OneHotEncoder", "categories_", np.array([0.0, 0.0, 1.0]),
                                                               1), "categories_"),
    "one_hot_categories_missing": ("one_hot_dense", lambda g: state_of("OneHotEncoder")(g)["categories_"].pop() and None,
                                   "categories_"),
    # a category to drop that the feature does not have ("first", a text, moved to a recomputed attribute read
    # before it, so that later -memo- references stay in place)
    "one_hot_drop_category": ("one_hot_drop", set_values("OneHotEncoder", _infrequent_enabled="first",
                                                         drop=[9.0, 9.0, 9.0, 9.0]), "drop"),
    "kbins_bins": ("kbins_dense", set_array("KBinsDiscretizer", "n_bins_", np.full(4, 10 ** 12)), "bin_edges_"),
    "svm_gamma": ("svc", set_values("SVC", _gamma=-1.0), "_gamma"),
    "undeclared_private": ("svc", lambda g: state_of("SVC")(g).update({"-keys-": [*state_of("SVC")(g)["-keys-"],
                                                                                   "_impl"], "_impl": "epsilon_svr"}),
                           "_impl"),
    "parameter_out_of_range": ("knn", set_values("KNeighborsClassifier", weights="os.system"), "weights"),
}
# Those also run through model_prediction in a fresh Python (tool_runs): unrefused, the first reads past VI
# in C, the others never end or ask for gigabytes; the width needs more than the 1 GB the runs are given.
TOOL_REFUSED = {
    **{case: REFUSED[case] for case in ("mahalanobis_vi_small", "nmf_iterations", "lda_iterations")},
    "polynomial_degree": ("polynomial", set_values("PolynomialFeatures", degree=40), "PolynomialFeatures"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_checked_attributes_and_work_bounds_are_refused(tmp_path, sources, case):
    paths, _ = sources
    source, edit, named = REFUSED[case]
    path = edited(tmp_path, paths, source, edit)
    with pytest.raises(ModelRefused) as caught:
        check_h5mlm(path, MODEL)
        load_sklearn(path, MODEL)
    assert named in problem(caught.value, path)


def test_polynomial_width_is_refused_against_the_jobs_memory(tmp_path, sources, monkeypatch):
    """degree 40 on 4 features: 135,751 columns, 4.1 GB for a chunk of rows; refused under 1 GB, not before."""
    paths, _ = sources
    source, edit, named = TOOL_REFUSED["polynomial_degree"]
    path = edited(tmp_path, paths, source, edit)
    check_h5mlm(path, MODEL)  # a valid description: the width is known once scikit-learn has counted it
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(2 ** 30))
    with pytest.raises(ModelRefused) as caught:
        load_sklearn(path, MODEL)
    assert named in problem(caught.value, path)
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(2 ** 40))
    assert load_sklearn(path, MODEL)[0].n_output_features_ == 135751


@pytest.mark.parametrize("case", sorted(TOOL_REFUSED))
def test_refused_files_leave_one_error_line_and_no_output(tool_runs, case):
    run, predicted = tool_runs[case]
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert run.returncode == 1 and len(errors) == 1 and MODEL in errors[0] and predicted is None, run.stderr
    assert TOOL_REFUSED[case][2] in errors[0].split(".h5mlm): ", 1)[1]


def test_untouched_sources_predict(tool_runs, sources):
    paths, _ = sources
    for name in paths:
        run, predicted = tool_runs[name]
        assert run.returncode == 0 and len(predicted.splitlines()) == 41, run.stderr
