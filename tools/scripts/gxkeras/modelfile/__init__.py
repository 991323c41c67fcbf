"""The model-file layer, the trust boundary: an uploaded model file is audited whole before anything in it is
built, and built and called in a contained child process.

Modules (one concern each): hdf5_audit (every HDF5 object inside the file, sizes against the job's memory),
h5mlm (galaxy-ml's format read and written; :class:`ModelFile`, one open per job), keras_weights (weights
checked against the model they go into), sklearn_loaders/ (scikit-learn and XGBoost objects rebuilt, never
unpickled), containment (the parent: the child started, relayed and judged) and lockdown (the child: Landlock,
seccomp, limits), importances and building (the tools' contained work).

Each name below is imported from its module when first used (PEP 562 ``__getattr__``), not with the package:
the contained child imports this package on its way to :mod:`gxkeras.modelfile.lockdown`, and it must lock
itself down while it still has one thread, before numpy (which h5mlm imports) starts OpenBLAS's threads.
"""
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as mypy sees them; ruff holds them equal to __all__
    from gxkeras.modelfile.building import build_and_save, build_estimator, write_built_model
    from gxkeras.modelfile.containment import ContainedFailure, run_contained
    from gxkeras.modelfile.h5mlm import ModelFile, check_h5mlm, load_estimator, load_sklearn, save_estimator
    from gxkeras.modelfile.importances import feature_importances
    from gxkeras.modelfile.keras_weights import keras_weights_name, load_weights_file

# Each public name and its module (test_modelfile_face.py holds this table equal to __all__).
HOMES = {
    "build_and_save": "building", "build_estimator": "building", "write_built_model": "building",
    "ContainedFailure": "containment", "run_contained": "containment",
    "ModelFile": "h5mlm", "check_h5mlm": "h5mlm", "load_estimator": "h5mlm", "load_sklearn": "h5mlm",
    "save_estimator": "h5mlm",
    "feature_importances": "importances",
    "keras_weights_name": "keras_weights", "load_weights_file": "keras_weights",
}
__all__ = [
    "ContainedFailure", "ModelFile", "build_and_save", "build_estimator", "check_h5mlm", "feature_importances",
    "keras_weights_name", "load_estimator", "load_sklearn", "load_weights_file", "run_contained", "save_estimator",
    "write_built_model",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then kept in the package, as an import would)."""
    if name not in HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    found = getattr(import_module(f"{__name__}.{HOMES[name]}"), name)
    globals()[name] = found
    return found
