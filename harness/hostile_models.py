"""Crafted hostile model files: one per attack class a model file could carry (see docs/admin.md).

Used by the pytest suite (tools/scripts/tests/test_model_security.py, with canaries in tmp_path) and,
run as a script, to write the small files of the tools' ``expect_failure`` Galaxy tests:

    .venv-tools/bin/python harness/hostile_models.py test-data

Each file starts from the parameters of a real model our tools wrote (test-data's
regression_untrained.h5mlm or imdb_untrained.h5mlm) and changes one thing. The files are written
with h5py alone (nothing here runs Keras or galaxy-ml) and are a few kB each.
"""
import json
import sys
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "test-data"
URL = "https://github.com/goeckslab/Galaxy-ML"
GRAPH = {"-object-": {"-keras_model-": 0}}


def model_params(source="regression_untrained.h5mlm"):
    """``(class_name, params)`` of a real h5mlm in test-data."""
    with h5py.File(TEST_DATA / source, "r") as handle:
        entry = handle["-keras_models-/0"]
        return entry["class_name"][()].decode(), json.loads(entry["params"][()])


def write_h5mlm(path, class_name, params, graph=GRAPH, attributes=None, params_text=None):
    """An h5mlm as galaxy-ml writes it (minus the HTML representation), from the given parts."""
    with h5py.File(path, "w") as handle:
        handle.attrs.update({"-URL-": URL, "-repr-": f"{class_name}(...)", "-python-": "3.12"})
        handle["-model_config-"] = json.dumps(graph).encode()
        handle["-model_hyperparameters-"] = b"[]"
        entry = handle.create_group("-keras_models-/0")
        entry["class_name"] = class_name.encode()
        entry["params"] = (params_text or json.dumps(params)).encode()
        for name, value in (attributes or {}).items():
            entry[f"attributes/{name}"] = value
    return str(path)


def reduce_call(module, name, *args):
    """A galaxy-ml object graph that calls ``module.name(*args)`` while it is loaded."""
    return {"-object-": {"-reduce-": {"--func-": {"-global-": [module, name]}, "-args-": {"-tuple-": list(args)}}}}


def lookup_layer(vocabulary):
    """A StringLookup in the legacy form (no ``module``) that reads ``vocabulary`` as a file."""
    return {"class_name": "StringLookup", "config": {"name": "lookup", "vocabulary": vocabulary, "output_mode": "int"}}


def lookup_model(path, vocabulary):
    class_name, params = model_params()
    params["config"]["layers"].insert(1, lookup_layer(vocabulary))
    return write_h5mlm(path, class_name, params)


def lookup_json(path, vocabulary):
    model = json.loads((TEST_DATA / "regression_model_config.json").read_text())
    model["config"]["layers"].insert(1, lookup_layer(vocabulary))
    Path(path).write_text(json.dumps(model))
    return str(path)


def callback_model(path, callback_type, target):
    """A model whose stored callbacks write ``target`` (CSVLogger filename, ModelCheckpoint filepath)."""
    class_name, params = model_params()
    option = {"CSVLogger": "filename", "ModelCheckpoint": "filepath", "TensorBoard": "log_dir"}[callback_type]
    params["callbacks"] = [{"callback_selection": {"callback_type": callback_type, option: str(target)}}]
    return write_h5mlm(path, class_name, params)


def graph_model(path, graph):
    class_name, params = model_params()
    return write_h5mlm(path, class_name, params, graph=graph)


def attributes_model(path, attributes):
    class_name, params = model_params("imdb_untrained.h5mlm")
    return write_h5mlm(path, class_name, params, attributes=attributes)


def flatten_model(path):
    """Embedding -> Flatten -> Dense of 10**12 weights (4 TB), whose build_config claims 8 inputs."""
    class_name, params = model_params()
    layers = params["config"]["layers"]
    layers[0]["config"]["batch_shape"] = [None, 100000]
    embedding = {"module": "keras.layers", "class_name": "Embedding", "registered_name": None,
                 "config": {"name": "embedding", "input_dim": 10000, "output_dim": 100},
                 "build_config": {"input_shape": [None, 100000]}}
    flatten = {"module": "keras.layers", "class_name": "Flatten", "registered_name": None,
               "config": {"name": "flatten"}, "build_config": {"input_shape": [None, 100000, 100]}}
    layers[1]["config"]["units"] = 100000
    layers[1]["build_config"] = {"input_shape": [None, 8]}
    params["config"]["layers"] = [layers[0], embedding, flatten, layers[1]]
    params["config"].pop("build_input_shape", None)
    return write_h5mlm(path, class_name, params)


def deep_model(path, levels=5000):
    """Parameters nested ``levels`` deep: Python's json (and Keras after it) would recurse that deep."""
    class_name, params = model_params()
    text = json.dumps(params)[:-1] + ', "metrics": ' + "[" * levels + "]" * levels + "}"
    return write_h5mlm(path, class_name, params, params_text=text)


def deep_json(path, levels=5000):
    Path(path).write_text('{"class_name": "Sequential", "config": ' + "[" * levels + "]" * levels + "}")
    return str(path)


def huge_weights(path, size=10 ** 9):
    """A Keras 3 weights file whose one compressed dataset unpacks to ``size`` float32 (4 GB)."""
    with h5py.File(path, "w") as handle:
        handle.create_dataset("layers/dense/vars/0", shape=(size,), dtype="float32", chunks=(2 ** 20,),
                              compression="gzip", fillvalue=1.0)
    return str(path)


def external_weights(path, secret):
    """A Keras 3 weights file whose dataset keeps its values in ``secret`` (HDF5 external storage)."""
    size = max(1, Path(secret).stat().st_size) if Path(secret).exists() else 64
    with h5py.File(path, "w") as handle:
        handle.create_dataset("layers/dense/vars/0", shape=(size,), dtype="uint8", external=[(str(secret), 0, size)])
    return str(path)


def external_link_model(path, target):
    """An h5mlm whose Keras entry is an HDF5 external link to another file."""
    class_name, params = model_params()
    write_h5mlm(path, class_name, params)
    with h5py.File(path, "r+") as handle:
        del handle["-keras_models-/0"]
        handle["-keras_models-/0"] = h5py.ExternalLink(str(target), "/")
    return str(path)


# ---- scikit-learn models as galaxy-ml describes them (gxkeras/modelfile/sklearn_loaders/reader.py) ---------------------

def sklearn_graph(source="sklearn_pipeline.h5mlm"):
    """The object graph (JSON) of a real galaxy-ml-saved scikit-learn model (a name in test-data, or a path)."""
    with h5py.File(TEST_DATA / source, "r") as handle:
        return json.loads(handle["-model_config-"][()])


def write_sklearn(path, graph, source="sklearn_pipeline.h5mlm", change_arrays=None):
    """A copy of a real scikit-learn h5mlm with the object graph ``graph`` (and arrays changed in place)."""
    with h5py.File(TEST_DATA / source, "r") as old, h5py.File(path, "w") as new:
        new.attrs.update(old.attrs)
        old.copy(old["-model_weights-"], new, "-model_weights-")
        new["-model_config-"] = json.dumps(graph).encode()
        if change_arrays:
            change_arrays(new["-model_weights-"])
    return str(path)


def pickled(module, name, state):
    """An instance of ``module.name`` with ``state``, as galaxy-ml writes any pickled object."""
    return {"-reduce-": {"--func-": {"-global-": ["copyreg", "_reconstructor"]},
                         "-args-": {"-tuple-": [{"-global-": [module, name]}, {"-global-": ["builtins", "object"]},
                                                None]},
                         "-state-": {"-keys-": sorted(state), **state}}}


def call(module, name, *args):
    """A galaxy-ml ``-reduce-`` entry calling ``module.name(*args)``."""
    return {"-reduce-": {"--func-": {"-global-": [module, name]}, "-args-": {"-tuple-": list(args)}}}


def replace_array(weights, index, value):
    """Dataset ``index`` of ``-model_weights-`` replaced by ``value`` (any shape or dtype)."""
    del weights[str(index)]
    weights[str(index)] = value


def final_step_state(graph):
    """The state dict of the pipeline's final step (LogisticRegression) in a graph of sklearn_pipeline.h5mlm."""
    return graph["-object-"]["-reduce-"]["-state-"]["steps"][-1]["-tuple-"][1]["-reduce-"]["-state-"]


def sklearn_attack(path, case, target):
    """A scikit-learn h5mlm carrying one attack; ``target`` is the canary file a payload would write."""
    graph = sklearn_graph()
    state = final_step_state(graph)
    if case == "os.system":  # the whole model is a call
        graph = {"-object-": call("os", "system", f"touch {target}")}
    elif case == "subprocess.Popen":  # a pipeline step "of class" Popen
        graph["-object-"]["-reduce-"]["-state-"]["steps"][0]["-tuple-"][1] = pickled(
            "subprocess", "Popen", {"args": ["touch", str(target)]})
    elif case == "builtins.eval":  # an attribute of the final step computed by eval
        state["C"] = call("builtins", "eval", f"open({str(target)!r}, 'w')")
    elif case == "canarymod":  # a module that writes the canary when imported
        state["C"] = {"-global-": ["canarymod", "payload"]}
    elif case == "sklearn_function":  # scikit-learn, but a function that writes a file
        state["C"] = call("sklearn.tree._export", "export_graphviz", None, str(target))
    elif case == "sklearn_class":  # scikit-learn, but a class outside the allow-list
        graph["-object-"]["-reduce-"]["-state-"]["steps"][0]["-tuple-"][1] = pickled(
            "sklearn.neural_network._multilayer_perceptron", "MLPClassifier", {"activation": "relu"})
    elif case == "object_array":  # classes_ as an object array whose item is a call
        state["classes_"] = {"-np_ndarray_o_type-": {
            "-dtype-": {"-reduce-": {"--func-": {"-global-": ["numpy", "dtype"]},
                                     "-args-": {"-tuple-": ["O8", False, True]},
                                     "-state-": {"-tuple-": [3, "|", None, None, None, -1, -1, 63]}}},
            "-values-": [0, call("os", "system", f"touch {target}")]}}
    elif case == "numpy_scalar":  # a numpy scalar "of type" os.system
        state["C"] = {"-np_datatype-": {"-datatype-": {"-global-": ["os", "system"]}, "-value-": f"touch {target}"}}
    elif case == "callable_attribute":  # an attribute hiding the method predict
        state["-keys-"] = sorted([*state["-keys-"], "predict"])
        state["predict"] = {"-global-": ["numpy", "float64"]}
    else:
        raise ValueError(case)
    return write_sklearn(path, graph)


def sklearn_tree_outside(path):
    """The forest of test-data with its first tree's root pointing a million nodes past its end."""
    def change(weights):
        for name in weights:
            if weights[name].dtype.names and "left_child" in weights[name].dtype.names:
                nodes = weights[name][()]
                nodes["left_child"][0] = 10 ** 6
                weights[name][...] = nodes
                return
    return write_sklearn(path, sklearn_graph("sklearn_forest.h5mlm"), "sklearn_forest.h5mlm", change)


def oversized_sklearn(path, compressed=False, sizes=(600_000_000,)):
    """The pipeline of test-data with its datasets -model_weights-/0, 1 ... replaced by float32 datasets declaring
    ``sizes`` values (2.4 GB by default) in a few kB: compressed, or chunked and never written (HDF5 reads the
    chunks that are not in the file as the fill value)."""
    def change(weights):
        for index, size in enumerate(sizes):
            del weights[str(index)]
            weights.create_dataset(str(index), shape=(size,), dtype="float32", chunks=(2 ** 20,), fillvalue=1.0,
                                   compression="gzip" if compressed else None)
    return write_sklearn(path, sklearn_graph(), change_arrays=change)


# ---- galaxy-ml files edited to test "reconstruct, don't trust" (gxkeras/modelfile/sklearn_loaders/loader.py) ---------

def object_states(graph, name):
    """The state (a dict, edited in place) of every object of class ``name`` in a galaxy-ml object graph,
    in the order galaxy-ml wrote them; only objects whose class is named there (the first of a class;
    later ones refer back to it with -memo-, which this does not follow)."""
    found, stack = [], [graph]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            reduce = item.get("-reduce-")
            args = reduce.get("-args-", {}).get("-tuple-") if isinstance(reduce, dict) else None
            if isinstance(args, list) and len(args) == 3 and isinstance(args[0], dict) \
                    and args[0].get("-global-", [None, None])[1] == name and isinstance(reduce.get("-state-"), dict):
                found.append(reduce["-state-"])
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def edited_sklearn(path, source, edit):
    """A copy of the galaxy-ml file ``source`` whose graph ``edit(graph)`` changed in place; what ``edit``
    returns, if anything, then changes the arrays (``-model_weights-``, an h5py group)."""
    graph = sklearn_graph(source)
    change_arrays = edit(graph)
    return write_sklearn(path, graph, source, change_arrays)


def array_index(entry):
    """The -model_weights- dataset name an array entry ({"-np_ndarray-": index}) refers to."""
    return entry["-np_ndarray-"]


def numpy_scalar(kind, value):
    """A numpy scalar of type ``numpy.kind`` as galaxy-ml writes one (``value`` as JSON has it)."""
    return {"-np_datatype-": {"-datatype-": {"-global-": ["numpy", kind]}, "-value-": value}}


def main(folder):
    """The Galaxy tests' files (the paths they name are refused before anything is opened)."""
    folder = Path(folder)
    lookup_model(folder / "hostile_lookup.h5mlm", "/etc/passwd")
    lookup_json(folder / "hostile_lookup.json", "/etc/passwd")
    graph_model(folder / "hostile_graph.h5mlm", reduce_call("sklearn.tree._export", "export_graphviz", None,
                                                            "/tmp/hostile_graphviz.dot"))  # noqa: S108 (the canary: a path outside the job)
    attributes_model(folder / "hostile_attributes.h5mlm", {"classes_": np.array([0]), "predict_proba": np.arange(3)})
    callback_model(folder / "hostile_callback.h5mlm", "CSVLogger", "/tmp/hostile_callback.csv")  # noqa: S108
    flatten_model(folder / "hostile_flatten.h5mlm")
    deep_model(folder / "hostile_deep.h5mlm")
    deep_json(folder / "hostile_deep.json")
    huge_weights(folder / "hostile_huge.weights.h5")
    external_weights(folder / "hostile_external.weights.h5", "/etc/passwd")
    sklearn_attack(folder / "hostile_sklearn.h5mlm", "subprocess.Popen", "/tmp/hostile_sklearn")  # noqa: S108


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else TEST_DATA)
