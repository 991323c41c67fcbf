"""Saving and loading estimators in galaxy-ml's ``h5mlm`` format (HDF5; never pickle).

``h5mlm`` is what Galaxy's core ``h5mlm`` datatype recognises (it sniffs the file's ``-URL-``
attribute), so models made here can be handed to any galaxy-ml tool.

Keras models: loading accepts exactly what :func:`save_estimator` writes for the estimators our
tools build, and nothing else, all checked before anything is imported, built or called:

- the object graph (``-model_config-``) is exactly ``{"-object-": {"-keras_model-": 0}}``: one
  KerasGClassifier/KerasGRegressor. galaxy-ml's generic loader, which rebuilds any graph of
  objects its allow-list admits and calls functions while doing so (sklearn's ``export_graphviz``
  writes a file, imblearn's ``LazyLoader`` imports a module), is never used;
- the estimator's parameters pass the builder form's checks (:func:`check_stored_params`), its
  Keras config the forms' allow-list, and its size the job's memory;
- ``attributes`` holds only a classifier's ``classes_``, of the shape the model's output allows;
- every HDF5 object is a plain dataset or group inside the file (no external or soft links, no
  external or virtual storage that would read another file: :mod:`gxkeras.modelfile.hdf5_audit`), texts are
  scalar strings of bounded size, and weight datasets have the shapes of the model's own weights (read only
  then: :mod:`gxkeras.modelfile.keras_weights`).

The estimator is then made from the checked parameters, its Keras model built in safe mode.

scikit-learn estimators and pipelines that galaxy-ml saved (an object graph of one pickled object)
are checked and built by :mod:`gxkeras.modelfile.sklearn_loaders.reader` under its own allow-list (:func:`load_sklearn`).
"""
import warnings
from typing import Any

import h5py
import numpy as np

from gxkeras.galaxy.errors import ModelRefused, ToolInputError
from gxkeras.galaxy.memory import format_bytes
from gxkeras.galaxy.safe_json import loads
from gxkeras.keras.estimators import (
    BATCH_CLASSIFIER, MAX_MODEL_JSON_BYTES, build_model, is_classifier, make_estimator, output_layer,
)
from gxkeras.modelfile.hdf5_audit import open_hdf5
from gxkeras.modelfile.keras_weights import load_legacy_weights, set_model
from gxkeras.modelfile.sklearn_loaders import is_sklearn_graph, read_sklearn
from gxkeras.keras.generators import generator_spec
from gxkeras.keras.stored_params import check_stored_params

GALAXY_ML_URL = "https://github.com/goeckslab/Galaxy-ML"
GRAPH = {"-object-": {"-keras_model-": 0}}  # what dump_model_to_h5 writes for a Keras estimator
TOP_LEVEL = {"-model_config-", "-keras_models-", "-model_hyperparameters-"}
ENTRY = {"class_name", "params", "weights", "attributes"}
MAX_TEXT_BYTES = MAX_MODEL_JSON_BYTES  # an h5mlm's JSON texts: the model config is the largest


def save_estimator(estimator: Any, path: str) -> None:
    """Write ``estimator`` (e.g. a ``KerasGClassifier``) to ``path`` as h5mlm."""
    from galaxy_ml.model_persist import dump_model_to_h5

    # galaxy-ml warns with an exception object when an unfitted KerasGClassifier has no
    # ``classes_`` yet; with any message-regex warning filter installed (TensorFlow adds some)
    # that warning itself raises TypeError. The warning is expected for untrained models.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dump_model_to_h5(estimator, path)
    if type(estimator).__name__ == BATCH_CLASSIFIER and estimator.data_batch_generator is not None:
        store_generator(path, estimator.data_batch_generator)


def store_generator(path: str, generator: Any) -> None:
    """Add a batch classifier's generator (type and fields, no file path) to its saved parameters.

    galaxy-ml leaves ``data_batch_generator`` out of an h5mlm (its generators hold open files); its
    own loader passes every stored parameter to the class, so it reads the description back as the
    parameter's value, and ours rebuilds the generator from it (:func:`gxkeras.keras.estimators.make_generator`).
    """
    import json

    with h5py.File(path, "r+") as handle:
        entry = handle["-keras_models-/0"]
        params = json.loads(entry["params"][()])
        params["data_batch_generator"] = generator_spec(generator)
        del entry["params"]
        entry["params"] = json.dumps(params).encode("utf8")


def _text(group: h5py.Group, name: str, what: str) -> str:
    """The scalar string dataset ``name`` of ``group`` (size checked before it is read)."""
    dataset = group.get(name)
    if not isinstance(dataset, h5py.Dataset) or dataset.shape != () or dataset.dtype.kind not in "OS":
        raise ModelRefused(f"{what}: {name} is missing or not a text")
    if dataset.dtype.kind == "S" and dataset.dtype.itemsize > MAX_TEXT_BYTES:
        raise ModelRefused(f"{what}: {name} is larger than {format_bytes(MAX_TEXT_BYTES)}")
    value = dataset[()]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > MAX_TEXT_BYTES:
        raise ModelRefused(f"{what}: {name} is not a text of at most {format_bytes(MAX_TEXT_BYTES)}")
    return value


def _graph(handle: h5py.File, what: str) -> Any:
    """The galaxy-ml object graph (``-model_config-``) of an h5mlm file, parsed but not interpreted."""
    url = handle.attrs.get("-URL-")
    if isinstance(url, bytes):
        url = url.decode("utf-8", "replace")
    if url != GALAXY_ML_URL or not isinstance(handle.get("-model_config-"), h5py.Dataset):
        raise ModelRefused(f"{what}: an HDF5 file but not a galaxy-ml h5mlm model")
    return loads(_text(handle, "-model_config-", what), f"{what}: the model's object graph (-model_config-)",
                 "a galaxy-ml h5mlm model")


def _describe(handle: h5py.File, what: str, graph: Any) -> tuple[str, dict[str, Any], str, h5py.Group]:
    """``(learning_type, params, kind, entry group)`` of a checked Keras h5mlm file (nothing built yet)."""
    if is_sklearn_graph(graph):
        read_sklearn(handle, graph, what, build=False)  # a hostile graph is refused for what it names
        raise ModelRefused(f"{what}: a scikit-learn estimator or pipeline, expected a Keras model as 'Create deep "
                             "learning model' writes it")
    unexpected = sorted(set(handle) - TOP_LEVEL)
    if unexpected:
        raise ModelRefused(f"{what}: holds {unexpected[0][:60]!r}, which a Keras model made by these tools never "
                             "has; the file is refused unread")
    if graph != GRAPH:
        raise ModelRefused(f"{what}: the model's object graph is neither a single Keras estimator as 'Create deep "
                             "learning model' writes it nor a scikit-learn estimator or pipeline (other Python objects "
                             "are not accepted); the file is refused unread")
    return _keras_entry(handle, what)


def _keras_entry(handle: h5py.File, what: str) -> tuple[str, dict[str, Any], str, h5py.Group]:
    """``(learning_type, params, kind, entry group)`` of the file's one Keras entry, checked (nothing built)."""
    group = handle.get("-keras_models-")
    entry = group.get("0") if isinstance(group, h5py.Group) and len(group) == 1 else None
    if not isinstance(entry, h5py.Group):
        raise ModelRefused(f"{what}: the model's Keras entry is missing or not the only one")
    unexpected = sorted(set(entry) - ENTRY)
    if unexpected:
        raise ModelRefused(f"{what}: the model's Keras entry holds {unexpected[0][:60]!r}, which these tools "
                             "never write")
    learning_type = _text(entry, "class_name", what)
    params = loads(_text(entry, "params", what), f"{what}: the model's Keras parameters")
    try:
        kind = check_stored_params(learning_type, params, what)  # the builder form's checks, as a model refusal
    except ToolInputError as error:
        raise ModelRefused(str(error)) from None
    return learning_type, params, kind, entry


def check_h5mlm(path: str, label: str) -> None:
    """Refuse, before anything in it is loaded, a file that is not an h5mlm model our tools wrote.

    Not HDF5; HDF5 without galaxy-ml's ``-URL-`` and ``-model_config-``; links or storage outside
    the file; any object graph but one Keras estimator; parameters, Keras objects or options the
    forms do not offer; more weights than the job's memory.
    """
    what = f"{label} ({path})"
    with open_hdf5(path, what, "an h5mlm model") as handle:
        graph = _graph(handle, what)
        if is_sklearn_graph(graph):
            read_sklearn(handle, graph, what, build=False, keras=_pipeline_keras(handle, what))
        else:
            _describe(handle, what, graph)


def is_sklearn_file(path: str, label: str) -> bool:
    """Whether an h5mlm file (checked by :func:`check_h5mlm` first) holds a scikit-learn object."""
    with open_hdf5(path, f"{label} ({path})", "an h5mlm model") as handle:
        return is_sklearn_graph(_graph(handle, f"{label} ({path})"))


def load_sklearn(path: str, label: str) -> Any:
    """The scikit-learn estimator or pipeline in an h5mlm file: checked whole, then built (never unpickled)."""
    what = f"{label} ({path})"
    with open_hdf5(path, what, "an h5mlm model") as handle:
        graph = _graph(handle, what)
        if not is_sklearn_graph(graph):
            raise ModelRefused(f"{what}: holds a Keras model, expected a scikit-learn estimator or pipeline")
        read_sklearn(handle, graph, what, build=False, keras=_pipeline_keras(handle, what))
        return read_sklearn(handle, graph, what, build=True, keras=_pipeline_keras(handle, what))


def _pipeline_keras(handle: h5py.File, what: str) -> Any:
    """How :mod:`gxkeras.modelfile.sklearn_loaders.reader` reads a Keras estimator that is a pipeline's last step: the same checks
    and the same construction as a Keras model file of its own (a KerasGBatchClassifier, which predicts
    from a FASTA generator, is not accepted there)."""
    def read(index: int, build: bool) -> Any:
        learning_type, params, kind, entry = _keras_entry(handle, what)
        if learning_type == BATCH_CLASSIFIER:
            raise ModelRefused(f"{what}: a {BATCH_CLASSIFIER} is not accepted inside a pipeline; the file is "
                                 "refused unread")
        if not build:
            return learning_type
        from gxkeras.keras.environment import import_keras

        import_keras()
        return _make_estimator(what, learning_type, params, kind, entry)
    return read


def load_estimator(path: str, label: str) -> Any:
    """The estimator in an h5mlm file, made from its checked parameters (never galaxy-ml's loader)."""
    what = f"{label} ({path})"
    with open_hdf5(path, what, "an h5mlm model") as handle:
        return _make_estimator(what, *_describe(handle, what, _graph(handle, what)))


class ModelFile:
    """An h5mlm model file opened once, for a tool that audits, builds and calls one model per job.

    Opening it reads the object graph once and audits the whole file, as :func:`check_h5mlm` does, before
    anything is built; :attr:`sklearn` then says which kind of model it holds (so that a tool can refuse
    what does not fit it, such as Keras weights for a scikit-learn model), and :meth:`build` makes the
    estimator from the same open file, as :func:`load_sklearn` or :func:`load_estimator` would.
    """

    def __init__(self, path: str, label: str) -> None:
        self.what = f"{label} ({path})"
        self.handle = open_hdf5(path, self.what, "an h5mlm model")
        try:
            self.graph = _graph(self.handle, self.what)
            self.sklearn = is_sklearn_graph(self.graph)
            if self.sklearn:
                read_sklearn(self.handle, self.graph, self.what, build=False, keras=_pipeline_keras(self.handle, self.what))
            else:
                self.keras_entry = _describe(self.handle, self.what, self.graph)
        except BaseException:
            self.handle.close()
            raise

    def build(self) -> Any:
        """The estimator or pipeline, made from the audited file (never unpickled, never galaxy-ml's loader)."""
        if self.sklearn:
            return read_sklearn(self.handle, self.graph, self.what, build=True, keras=_pipeline_keras(self.handle, self.what))
        return _make_estimator(self.what, *self.keras_entry)

    def __enter__(self) -> "ModelFile":
        return self

    def __exit__(self, *_: object) -> None:
        self.handle.close()


def _make_estimator(what: str, learning_type: str, params: dict[str, Any], kind: str, entry: h5py.Group) -> Any:
    """The estimator of a checked Keras entry: made from its parameters, weights loaded after their shapes."""
    options = {key: value for key, value in params.items() if key not in ("config", "model_type")}
    estimator = make_estimator(learning_type, params["config"], kind, **options)
    weights = entry.get("weights")
    if weights is not None:
        if not isinstance(weights, h5py.Group):
            raise ModelRefused(f"{what}: the model's weights are not an HDF5 group")
        model = build_model(params["config"], kind, what)
        load_legacy_weights(weights, model, what)
        set_model(estimator, model)
    attributes = entry.get("attributes")
    if attributes is not None:
        set_attributes(estimator, attributes, what)
    return estimator


def set_attributes(estimator: Any, attributes: object, what: str) -> None:
    """A classifier's ``classes_``: 2 or more sorted, distinct, finite numbers its output can give."""
    if not isinstance(attributes, h5py.Group) or set(attributes) - {"classes_"}:
        extra = sorted(set(attributes) - {"classes_"}) if isinstance(attributes, h5py.Group) else ["?"]
        raise ModelRefused(f"{what}: the model sets the attribute {extra[0][:60]!r}; only a classifier's "
                             "classes_ is accepted")
    if "classes_" not in attributes:
        return
    if not is_classifier(estimator):
        raise ModelRefused(f"{what}: a regression model has no classes_")
    dataset = attributes["classes_"]
    units, _ = output_layer(estimator.config)
    most = max(2, units) if isinstance(units, int) and units > 0 else 2
    if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind not in "fiu" or len(dataset.shape) != 1 \
            or not 2 <= dataset.shape[0] <= most or (units == 1 and dataset.shape[0] != 2):
        raise ModelRefused(f"{what}: classes_ must be 2 to {most} class labels (the model's output), got "
                             f"{getattr(dataset, 'shape', '?')} of {getattr(dataset, 'dtype', '?')}")
    classes = dataset[()]
    if not np.all(np.isfinite(classes)) or np.any(np.diff(classes) <= 0):
        raise ModelRefused(f"{what}: classes_ must be distinct finite numbers in increasing order")
    estimator.classes_ = classes
