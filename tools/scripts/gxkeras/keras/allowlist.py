"""What a Keras model JSON may contain: exactly the objects our forms offer, with plain values.

A model JSON (the config tool's output, the builder's input, the config inside an h5mlm) is data
from a user's history. Keras turns every ``{"module": ..., "class_name": ...}`` in it into an
object, and some Keras layers read files or URLs named by an argument (``StringLookup``'s
``vocabulary``, ``TextVectorization``), run code (``Lambda``) or import modules (a legacy config
without ``module``). So, before Keras sees it, the whole tree is checked against an allow-list
derived from the forms (:mod:`gxkeras.galaxy.forms`), nothing imported or built:

- every object is a (module, class) pair our forms can produce: the layer types of
  "Create a deep learning model architecture", the initializers, regularizers and constraints its
  extra keyword arguments may name, and the few objects Keras writes around them (the model,
  ``InputLayer``, ``DTypePolicy``, the functional graph's ``__keras_tensor__``, the ``RNN`` that runs a
  cell the form offers);
- every other value is a number, true/false, null, a list, a dict with plain keys, or a short
  string that names no file, URL or module (no ``/``, ``\\``, ``:``, no leading ``.``/``~``, not
  ``a.b``); activations, initializers, regularizers and constraints given by name are the forms'.

Keras then builds the model with its safe mode on (:func:`safe_mode`), a second line of defence.
"""
import contextlib
import functools
import math
import re
from collections.abc import Iterator
from typing import Any, NoReturn

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ModelRefused, ToolInputError
from gxkeras.keras.layer_shapes import RNN_CELLS

# Objects Keras itself writes around the layers a form offers.
MODEL_CLASSES = {("keras", "Sequential"): "sequential", ("keras.src.models.functional", "Functional"): "functional",
                 ("keras", "Functional"): "functional", ("keras", "Model"): "functional"}
STRUCTURE = {("keras.layers", "InputLayer"), ("keras", "DTypePolicy")}
MARKERS = {"__keras_tensor__"}  # a functional layer's input: {"shape", "dtype", "keras_history"}
OBJECT_KEYS = {"module", "class_name", "config", "registered_name", "build_config", "name", "inbound_nodes",
               "compile_config"}
# Keys whose string values name a Keras object by name, and the allow-list that applies.
NAMED_BY_SUFFIX = {"_initializer": "initializers", "_regularizer": "regularizers", "_constraint": "constraints"}
NAMED_KEYS = {"activation": "activations", "recurrent_activation": "activations"}
MAX_STRING = 256
# Layers a model may have, wrapped (Bidirectional, TimeDistributed, an RNN's cell) and nested models' included.
# Real architectures fit: ResNet-50 has 177 layers, Inception-v3 313, ResNet-101 347, DenseNet-121 429. Keras
# cannot build much more: its Sequential.from_config re-traces the model at every layer it adds (quadratic:
# 500 Dense layers take 55 s on a 2-core host) and a functional chain of ~1,000 layers exhausts Python's
# recursion inside Keras (950 built, 1,000 ended in a RecursionError after 16 s).
MAX_LAYERS = 512
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_LIKE = re.compile(r"[/\\:]|^[.~]|^[\w-]+(\.[\w-]+)+$")


@functools.lru_cache(maxsize=None)
def allowed() -> dict[str, set[Any]]:
    """``{"objects": {(module, class)}, "activations": names, ...}``, read from the forms."""
    layer_types = set(forms.options("keras_model_config", "layer_type")) - {"Input"}
    layer_types |= set(forms.options("keras_model_config", "rnn_type"))  # Bidirectional's layer
    layer_types |= set(forms.options("keras_model_config", "inner_layer_type"))  # TimeDistributed's layer
    names = {
        "activations": set(forms.options("keras_model_config", "activation")),
        "initializers": set(forms.token_list("keras_model_config", "@KERAS_INITIALIZERS@")),
        "regularizers": set(forms.token_list("keras_model_config", "@KERAS_REGULARIZERS@")),
        "constraints": set(forms.token_list("keras_model_config", "@KERAS_CONSTRAINTS@")),
    }
    objects = {("keras.layers", name) for name in layer_types} | STRUCTURE | set(MODEL_CLASSES)
    if layer_types & set(RNN_CELLS):  # the form's cells run inside the RNN layer (keras_model_config)
        objects.add(("keras.layers", "RNN"))
    for kind in ("initializers", "regularizers", "constraints"):
        objects |= {(f"keras.{kind}", name) for name in names[kind]}
    return {"objects": objects, **names}


def _same_name(a: str, b: str) -> bool:
    """``he_normal`` names ``HeNormal`` (Keras accepts both spellings)."""
    return a.replace("_", "").lower() == b.replace("_", "").lower()


def _named_kind(key: str) -> str | None:
    if key in NAMED_KEYS:
        return NAMED_KEYS[key]
    return next((kind for suffix, kind in NAMED_BY_SUFFIX.items() if key.endswith(suffix)), None)


class _Checker:
    def __init__(self, label: str) -> None:
        self.label = label
        self.lists = allowed()

    def fail(self, where: str, problem: str) -> NoReturn:
        raise ModelRefused(f"{self.label}: {where}: {problem}")

    def value(self, value: object, where: str, key: str | None = None) -> None:
        if isinstance(value, dict):
            if "class_name" in value:
                self.object(value, where)
            else:
                self.mapping(value, where)
        elif isinstance(value, list):
            for item in value:
                self.value(item, where, key)
        elif isinstance(value, str):
            self.string(value, where, key)
        elif isinstance(value, float):
            if not math.isfinite(value):
                self.fail(where, f"{key or 'a value'} is {value}, expected a finite number")
        elif not (value is None or isinstance(value, (bool, int))):
            self.fail(where, f"unexpected value {value!r}")

    def mapping(self, value: dict[str, Any], where: str) -> None:
        for key, item in value.items():
            if not _KEY.match(key):
                self.fail(where, f"{key[:40]!r} is not an argument name")
            self.value(item, where, key)

    def string(self, value: str, where: str, key: str | None) -> None:
        kind = _named_kind(key) if key else None
        if kind:
            if not any(_same_name(value, name) for name in self.lists[kind]):
                self.fail(where, f"{key} {value[:60]!r} is not offered by the form; expected one of "
                                 f"{', '.join(sorted(self.lists[kind]))}")
            return
        if len(value) > MAX_STRING or not value.isprintable() or _PATH_LIKE.search(value):
            self.fail(where, f"{key or 'a value'} {value[:60]!r} looks like a file, URL or module path; "
                             "model arguments may only be plain names")

    def object(self, item: dict[str, Any], where: str) -> None:
        class_name, module = item.get("class_name"), item.get("module")
        name = item.get("config", {}).get("name") if isinstance(item.get("config"), dict) else None
        inner = f"{class_name} {name!r}" if isinstance(name, str) and isinstance(class_name, str) else where
        if not isinstance(class_name, str):
            self.fail(where, f"class_name {str(class_name)[:60]!r} is not a Keras class name")
        if class_name in MARKERS and module is None:
            extra = set(item) - {"class_name", "config"}
        else:
            if module is None:
                self.fail(inner, f"{class_name[:60]!r} has no module: a Keras 2 (legacy) object, which is not "
                                 "accepted; rebuild the model with 'Create a deep learning model architecture'")
            if (module, class_name) not in self.lists["objects"]:
                self.fail(inner, f"{module!s:.60}.{class_name:.60} is not offered by the tool forms and is not accepted")
            registered = item.get("registered_name")
            if registered is not None and registered != class_name:
                self.fail(inner, f"custom object {str(registered)[:60]!r} is not accepted")
            extra = set(item) - OBJECT_KEYS
        if extra:
            self.fail(inner, f"unexpected key {sorted(extra)[0][:40]!r} in a Keras object")
        if item.get("compile_config") not in (None, {}):  # Keras writes {} for the uncompiled models ours are
            self.fail(inner, "holds compile settings; the loss and optimizer are chosen in 'Create deep learning model'")
        for key, value in item.items():
            if key not in ("class_name", "module", "registered_name"):
                self.value(value, inner, key)


def check_model_config(model: object, label: str) -> None:
    """Refuse, without importing or building anything, a model JSON with anything our forms don't offer.

    ``model`` is a whole model JSON (``{"module", "class_name": "Sequential", "config"}``) or just
    its ``config`` (as galaxy-ml estimators store it); ``label`` names the input in messages. The
    layers are counted first (:data:`MAX_LAYERS`).
    """
    if not isinstance(model, dict):
        raise ModelRefused(f"{label}: the model configuration is not a JSON object")
    check_layer_count(count_layers(model), label)
    _Checker(label).value(model, "model")


def _is_layer(item: dict[str, Any]) -> bool:
    return item.get("module") == "keras.layers" or (item.get("module"), item.get("class_name")) in MODEL_CLASSES


def count_layers(model: object) -> int:
    """The layers of a model config, wrapped layers, RNN cells and nested models included (the model itself
    not), counted without recursion: one pass over a stack of the values still to visit."""
    count, stack = 0, [model]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value is not model and "class_name" in value and _is_layer(value):
                count += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def check_layer_count(count: int, label: str, error: type[ToolInputError] = ModelRefused) -> None:
    """Refuse a model of more than :data:`MAX_LAYERS` layers, saying by how many."""
    if count > MAX_LAYERS:
        raise error(f"{label}: the model has {count:,} layers (wrapped and nested ones included), {count - MAX_LAYERS:,} "
                    f"more than the {MAX_LAYERS} a model may have")


def model_type(model: dict[str, Any], label: str) -> str:
    """``"sequential"`` or ``"functional"`` for a whole Keras 3 model JSON; refuse anything else."""
    class_name = model.get("class_name")
    if class_name not in {name for _, name in MODEL_CLASSES}:
        raise ModelRefused(f"{label}: a {str(class_name)[:60]!r} is not a Keras model: expected Sequential or "
                             "Functional")
    if "module" not in model or not isinstance(model["config"].get("layers"), list):
        raise ModelRefused(f"{label}: not a Keras 3 model configuration (Keras 2 JSON is not supported; "
                             "rebuild the architecture with 'Create a deep learning model architecture')")
    kind = MODEL_CLASSES.get((model["module"], class_name))
    if kind is None:
        raise ModelRefused(f"{label}: the model class {str(model['module'])[:60]}.{class_name} is not Keras' own")
    return kind


@contextlib.contextmanager
def safe_mode() -> Iterator[None]:
    """Keras deserialization with safe mode forced on (no lambdas, no unsafe objects) in the block."""
    from keras.src.saving.serialization_lib import SafeModeScope

    with SafeModeScope(True):
        yield
