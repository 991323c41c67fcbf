"""The parameters a Keras model file (h5mlm) stores, read and edited by the tests (hostile edits)."""
import json

import h5py


def stored_params(path):
    with h5py.File(path) as handle:
        return json.loads(handle["-keras_models-/0/params"][()])


def rewrite_params(path, change):
    """The model file with its stored parameters changed by ``change(params)`` (a hostile edit)."""
    params = stored_params(path)
    change(params)
    with h5py.File(path, "r+") as handle:
        del handle["-keras_models-/0/params"]
        handle["-keras_models-/0/params"] = json.dumps(params).encode()
