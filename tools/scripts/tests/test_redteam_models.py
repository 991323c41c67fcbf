"""Files saved by galaxy-ml's ``dump_model_to_h5``, edited by someone who has read the loaders (issue 25, red team).

Each case here got past check_h5mlm and load_sklearn before its fix and then asked for gigabytes, ran for
minutes, ended in a traceback or wrote a table whose rows and columns were not the model's. The fixes are in
the loaders (gxkeras/sklearn_*.py) and in model_prediction; the cases follow test_sklearn_loaders' pattern: a
recomputed attribute loads as the untouched file's, a checked one is refused with ModelRefused naming it, and
the tool runs (in a fresh Python, under a 1 GB budget) end in one Error line and no output.
"""
import json
import warnings

import numpy as np
import pytest

from fresh_python import run_tools
from gxkeras.galaxy.errors import ModelRefused
from gxkeras.modelfile.h5mlm import check_h5mlm, load_sklearn
from test_sklearn_loaders import edited, hostile, set_values, small_problem, state_of
from test_sklearn_models import MODEL, dump, predict_params, problem

BUDGET = 2 ** 30  # the jobs' memory in these tests (GXKERAS_MEMORY_LIMIT_BYTES)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Real galaxy-ml files fitted on 40 x 4 small whole numbers (written as a table with a header):
    ``({name: path}, the table's path)``."""
    from sklearn.decomposition import NMF, LatentDirichletAllocation
    from sklearn.ensemble import BaggingClassifier, RandomForestClassifier, VotingClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    X, y, table = small_problem(tmp_path_factory.mktemp("sources"))
    folder = table.parent
    models = {
        "tree": DecisionTreeClassifier(max_depth=3, random_state=0),
        "forest": RandomForestClassifier(3, max_depth=3, random_state=0),
        "bagging": BaggingClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=3, random_state=0),
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()),
        "text_labels": LogisticRegression(),
        "voting": VotingClassifier([("tree", DecisionTreeClassifier(max_depth=2)), ("linear", LogisticRegression())]),
        "nmf": make_pipeline(NMF(60, init="random", max_iter=50, random_state=0), LinearRegression()),
        "lda": make_pipeline(LatentDirichletAllocation(200, max_iter=2, random_state=0), LinearRegression()),
    }
    labels = {"text_labels": np.array(["a", "b", "c"])[y], "nmf": X[:, 0], "lda": X[:, 0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: dump(model.fit(X, labels.get(name, y)), folder / f"{name}.h5mlm")
                for name, model in models.items()}, table


def fitted_state(graph, *attributes):
    """The first object state holding all ``attributes`` (a fitted member: its class may be a -memo-)."""
    found, stack = [], [graph]
    while stack and not found:
        item = stack.pop()
        if isinstance(item, dict):
            if "-keys-" in item and all(name in item for name in attributes):
                found.append(item)
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found[0]


def wide_tree(classes):
    """A tree classifier of ``classes`` labels, consistent throughout (its Tree's n_classes, values per node and
    classes_): 8 bytes a class and node in the file, 8 x 4096 bytes a class in each chunk of predicted rows."""
    def edit(graph):
        state = state_of("DecisionTreeClassifier")(graph)
        tree = state["tree_"]["-reduce-"]
        counts, values = tree["-args-"]["-tuple-"][1], tree["-state-"]["values"]
        state["n_classes_"] = classes

        def change(weights):
            nodes = len(weights[str(values["-np_ndarray-"])])
            hostile.replace_array(weights, counts["-np_ndarray-"], np.array([classes]))
            hostile.replace_array(weights, values["-np_ndarray-"], np.full((nodes, 1, classes), 1.0 / classes))
            hostile.replace_array(weights, state["classes_"]["-np_ndarray-"], np.arange(classes))
        return change
    return edit


def added_values(name, **values):
    """An edit setting attributes (new ones added to its -keys-) of the first ``name`` object."""
    def edit(graph):
        state = state_of(name)(graph)
        state["-keys-"] = sorted(set(state["-keys-"]) | set(values))
        state.update(values)
    return edit


def text_labels(labels, length=20, items=None):
    """An edit giving the text-labelled LogisticRegression the ``classes_`` ``labels`` (``items`` of them,
    repeated), saved as numpy texts of ``length`` characters (galaxy-ml's object array of a U dtype)."""
    def edit(graph):
        entry = state_of("LogisticRegression")(graph)["classes_"]["-np_ndarray_o_type-"]
        dtype = entry["-dtype-"]["-reduce-"]
        dtype["-args-"]["-tuple-"][0] = f"U{length}"
        dtype["-state-"]["-tuple-"][5] = 4 * length  # its item size
        entry["-values-"] = labels if items is None else labels * (items // len(labels))
    return edit


def member_array(attributes, attribute, value):
    """An edit replacing ``attribute`` of the first fitted object holding ``attributes``."""
    def edit(graph):
        entry = fitted_state(graph, *attributes)[attribute]
        return lambda weights: hostile.replace_array(weights, hostile.array_index(entry), value)
    return edit


def tree_structure(max_depth=None, nodes=None):
    """An edit of the DecisionTreeClassifier's Tree: its stored ``max_depth``, or ``nodes(nodes)`` changing a
    copy of its node array."""
    def edit(graph):
        state = state_of("DecisionTreeClassifier")(graph)["tree_"]["-reduce-"]["-state-"]
        if max_depth is not None:
            state["max_depth"] = max_depth
        if nodes is None:
            return None
        index = state["nodes"]["-np_ndarray-"]

        def change(weights):
            array = weights[str(index)][()].copy()
            nodes(array)
            hostile.replace_array(weights, index, array)
        return change
    return edit


def share_a_child(nodes):
    """The root's right child becomes its left child's right child: a node with two parents, one with none."""
    nodes["right_child"][0] = nodes["right_child"][nodes["left_child"][0]]


# ---- recomputed: a tampered value is never used ----------------------------------------------------------

# (source, edit, the loaded model's recomputed attribute): each tampered value sized an allocation before.
RECOMPUTED = {
    # np.zeros((rows, n_classes_)) in predict_proba: 30 GB for 40 rows
    "forest_n_classes": ("forest", set_values("RandomForestClassifier", n_classes_=10 ** 8), lambda m: m.n_classes_),
    "bagging_n_classes": ("bagging", set_values("BaggingClassifier", n_classes_=10 ** 8), lambda m: m.n_classes_),
    "tree_n_classes": ("tree", set_values("DecisionTreeClassifier", n_classes_=10 ** 8), lambda m: m.n_classes_),
    # decision_path's C buffer holds max_depth + 1 entries a row: a smaller one was written past its end
    "tree_max_depth": ("tree", tree_structure(max_depth=0), lambda m: m.tree_.max_depth),
}


@pytest.mark.parametrize("case", sorted(RECOMPUTED))
def test_recomputed_attributes_never_come_from_the_file(tmp_path, sources, case):
    paths, _ = sources
    source, edit, attribute = RECOMPUTED[case]
    tampered = load_sklearn(edited(tmp_path, paths, source, edit), MODEL)
    untouched = attribute(load_sklearn(paths[source], MODEL))
    assert type(attribute(tampered)) is type(untouched) and attribute(tampered) == untouched


# ---- checked: refused with ModelRefused naming what is wrong ---------------------------------------------

# (source, edit, what the refusal names)
REFUSED = {
    # classes_ longer than the labels its tree predicts (or the other way round)
    "tree_classes_longer": ("tree", member_array(["tree_"], "classes_", np.arange(5)), "classes_"),
    "tree_outputs": ("tree", set_values("DecisionTreeClassifier", n_outputs_=3), "n_outputs_"),
    # not a tree: walking it level by level (to recompute max_depth) could visit a node once per path to it
    "tree_shared_child": ("tree", tree_structure(nodes=share_a_child), "not a tree"),
    "forest_member_classes": ("forest", member_array(["tree_"], "classes_", np.arange(1)), "classes_"),
    # 3,000 one-letter texts as numpy texts of 999,999 characters: 11 GB from 15 kB of description
    "object_array_size": ("text_labels", text_labels(["a"], 999_999, 3000), "arrays hold more than 11.2 GB"),
    # JSON's "\ud800": a text no output can write (a UnicodeEncodeError traceback when writing the labels)
    "lone_surrogate": ("text_labels", text_labels(["a", "b\ud800", "c"]), "surrogate"),
    # hard voting counts votes with np.bincount up to the largest code a member predicts: 7.5 GB a row
    "voting_member_codes": ("voting", member_array(["tree_"], "classes_", np.array([0, 1, 10 ** 9])), "classes_"),
    # a tolerance of 0 runs every iteration, for each row: both ran past 90 s on 40 rows
    "nmf_row_work": ("nmf", set_values("NMF", max_iter=10 ** 6, tol=0.0), "operations a row"),
    "lda_row_work": ("lda", set_values("LatentDirichletAllocation", max_doc_update_iter=10 ** 6, mean_change_tol=0.0),
                     "operations a row"),
    # polars is not installed: an ImportError traceback when the pipeline predicted
    "output_container": ("pipeline", added_values("StandardScaler", _sklearn_output_config={
        "-keys-": ["transform"], "transform": "polars"}), "_sklearn_output_config"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_checked_attributes_are_refused(tmp_path, sources, case, monkeypatch):
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(BUDGET))
    paths, _ = sources
    source, edit, named = REFUSED[case]
    path = edited(tmp_path, paths, source, edit)
    with pytest.raises(ModelRefused) as caught:
        check_h5mlm(path, MODEL)
        load_sklearn(path, MODEL)
    assert named in problem(caught.value, path)


def test_classifier_width_is_refused_against_the_jobs_memory(tmp_path, sources, monkeypatch):
    """20,000 labels: 655 MB of probabilities for a chunk of rows, from a 1 MB file; refused under 1 GB, not
    under 1 TB (a classifier's width is its number of labels, as a transformer's is its columns)."""
    paths, _ = sources
    path = edited(tmp_path, paths, "tree", wide_tree(20_000))
    check_h5mlm(path, MODEL)
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(BUDGET))
    with pytest.raises(ModelRefused) as caught:
        load_sklearn(path, MODEL)
    assert "20,000 columns" in problem(caught.value, path)
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(2 ** 40))
    assert load_sklearn(path, MODEL).n_classes_ == 20_000


def test_neighbour_regressor_width_is_refused_against_the_jobs_memory(tmp_path, monkeypatch):
    """A k-NN regressor of 3 samples of 20,000 targets (480 kB) predicts 655 MB for a chunk of rows."""
    from sklearn.neighbors import KNeighborsRegressor

    rng = np.random.RandomState(0)
    path = dump(KNeighborsRegressor(1, algorithm="brute").fit(rng.rand(3, 4), rng.rand(3, 20_000)),
                tmp_path / "knn.h5mlm")
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(BUDGET))
    with pytest.raises(ModelRefused) as caught:
        load_sklearn(path, MODEL)
    assert "20,000 columns" in problem(caught.value, path)
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(2 ** 40))
    assert load_sklearn(path, MODEL)._y.shape == (3, 20_000)


# ---- through the tool, in a fresh Python -----------------------------------------------------------------

# (source, edit, method): refused with one Error line naming the model input and what the refusal names.
TOOL_REFUSED = {
    "tree_classes_width": ("tree", wide_tree(20_000), "predict_proba", "20,000 columns"),
    **{case: (*REFUSED[case][:2], "predict", REFUSED[case][2])
       for case in ("lone_surrogate", "output_container", "nmf_row_work", "voting_member_codes")},
    # labels with a tab or a line break wrote other rows and columns than the model predicts (exit 0)
    "label_line_break": ("text_labels", text_labels(["a", "b\nINJECTED", "c"]), "predict_proba", "class label"),
    "label_tab": ("text_labels", text_labels(["a", "b", "c\t9"]), "predict", "class label"),
}


@pytest.fixture(scope="module")
def tool_runs(tmp_path_factory, sources):
    """The RECOMPUTED and TOOL_REFUSED files (and the untouched sources) through model_prediction, one after the
    other in one fresh Python under a 1 GB budget: ``{case: (Run, output text or None)}``."""
    paths, table = sources
    cases = {**{name: (path, "predict" if name in ("nmf", "lda", "voting") else "predict_proba") for name, path in paths.items()},
             **{case: (edited(tmp_path_factory.mktemp(case), paths, source, edit), "predict_proba")
                for case, (source, edit, _) in RECOMPUTED.items()},
             **{case: (edited(tmp_path_factory.mktemp(case), paths, source, edit), method)
                for case, (source, edit, method, _) in TOOL_REFUSED.items()}}
    folder = tmp_path_factory.mktemp("runs")
    runs, outs = [], []
    for case, (path, method) in cases.items():
        inputs, out = folder / f"{case}.json", folder / f"{case}.tsv"
        inputs.write_text(json.dumps(predict_params(path, method, data=table)))
        runs.append(("model_prediction.py", ["--inputs", inputs, "--outfile", out]))
        outs.append(out)
    results = run_tools(runs, [], cwd=folder, env={"GXKERAS_MEMORY_LIMIT_BYTES": str(BUDGET)})
    return {case: (run, out.read_text() if out.exists() else None)
            for case, run, out in zip(cases, results, outs, strict=True)}


@pytest.mark.parametrize("case", sorted(RECOMPUTED))
def test_tampered_files_predict_as_the_untouched_ones(tool_runs, case):
    run, predicted = tool_runs[case]
    source_run, expected = tool_runs[RECOMPUTED[case][0]]
    assert run.returncode == 0 == source_run.returncode, run.stderr + source_run.stderr
    assert predicted == expected and len(predicted.splitlines()) == 41


@pytest.mark.parametrize("case", sorted(TOOL_REFUSED))
def test_refused_files_leave_one_error_line_and_no_output(tool_runs, case):
    run, predicted = tool_runs[case]
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert run.returncode == 1 and len(errors) == 1 and MODEL in errors[0] and predicted is None, run.stderr
    said = errors[0].split(MODEL, 1)[1]
    said = said.split(".h5mlm): ", 1)[1] if said.startswith(" (") else said  # the path, if named, may hold any word
    assert "Traceback" not in run.stderr and TOOL_REFUSED[case][3] in said


def test_untouched_sources_predict(tool_runs, sources):
    """The sources of the edits are accepted as galaxy-ml wrote them (each refusal comes from its edit)."""
    for name in sources[0]:
        run, predicted = tool_runs[name]
        assert run.returncode == 0 and len(predicted.splitlines()) == 41, run.stderr
