"""keras_model_builder: form parameters -> an untrained galaxy-ml estimator, and clear errors."""
import json

import pytest

import keras_model_builder as kmb
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.modelfile.h5mlm import load_estimator
from gtn_states import saved_state
from repo_paths import SCRIPTS, TEST_DATA

SCRIPT = SCRIPTS / "keras_model_builder.py"


def dense_model_json(n_features=5, units=1, activation="sigmoid"):
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(units, activation=activation)])
    return model.to_json()


def optimizer(name, **options):
    """The "Select an optimizer" conditional as Galaxy writes it: the options in optimizer_options."""
    return {"optimizer_type": name, "optimizer_options": options}


def params(model_path, learning_type="KerasGClassifier", loss="binary_crossentropy", metrics=("acc",),
           optimizer=None, callbacks=(), seed=42, epochs=2, batch_size=128, verbose=2, **fit):
    return {"mode_selection": {
        "__current_case__": 0, "mode_type": "train_model", "infile_json": str(model_path),
        "learning_type": learning_type,
        "compile_params": {
            "loss": loss,
            "optimizer_selection": optimizer or {
                "__current_case__": 4, "optimizer_type": "Adam",
                "optimizer_options": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                                      "amsgrad": False}},
            "metrics": list(metrics) if metrics is not None else None,
        },
        "fit_params": {"epochs": epochs, "batch_size": batch_size, "steps_per_epoch": None, "validation_split": 0.1,
                       "validation_steps": None, "verbose": verbose, "callbacks": list(callbacks), **fit},
        "random_seed": seed,
    }}


def test_tutorial_settings_give_the_right_estimator():
    estimator = kmb.build_estimator(params(TEST_DATA / "imdb_model_config.json"))
    assert type(estimator).__name__ == "KerasGClassifier"
    assert estimator.model_type == "sequential"
    assert (estimator.optimizer, estimator.loss, estimator.metrics) == ("adam", "binary_crossentropy", ["acc"])
    assert (estimator.epochs, estimator.batch_size, estimator.seed, estimator.verbose) == (2, 128, 42, 2)
    assert (estimator.learning_rate, estimator.beta_1, estimator.beta_2, estimator.amsgrad) == (0.001, 0.9, 0.999, False)
    assert [layer["class_name"] for layer in estimator.config["layers"]] == ["InputLayer", "Embedding", "LSTM", "Dense"]
    assert estimator.callbacks is None


def test_regressor_sgd_and_callbacks(write_text):
    model = write_text(dense_model_json(units=1, activation="linear"), "model.json")
    callbacks = [
        {"__index__": 0, "callback_selection": {"__current_case__": 1, "callback_type": "EarlyStopping",
                                                "monitor": "val_loss", "mode": "auto", "min_delta": 0.0, "patience": 2,
                                                "baseline": None, "restore_best_weights": True}},
        {"__index__": 1, "callback_selection": {"callback_type": "None"}},
        {"__index__": 2, "callback_selection": {"callback_type": "TerminateOnNaN"}},
    ]
    estimator = kmb.build_estimator(params(
        model, learning_type="KerasGRegressor", loss="mean_squared_error", metrics=["mae"], callbacks=callbacks,
        seed=None, optimizer=optimizer("SGD", learning_rate=0.05, momentum=0.9, nesterov="booltrue")))
    assert type(estimator).__name__ == "KerasGRegressor"
    assert (estimator.optimizer, estimator.learning_rate, estimator.momentum, estimator.nesterov) == ("sgd", 0.05, 0.9, True)
    assert estimator.beta_1 is None and estimator.seed is None
    assert estimator.callbacks == [
        {"callback_selection": {"callback_type": "EarlyStopping", "monitor": "val_loss", "mode": "auto",
                                "min_delta": 0.0, "patience": 2, "restore_best_weights": True}},
        {"callback_selection": {"callback_type": "TerminateOnNaN"}},
    ]
    assert [type(cb).__name__ for cb in estimator._callbacks] == ["EarlyStopping", "TerminateOnNaN"]


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl", "Adam"])
def test_every_optimizer_compiles(write_text, name):
    import numpy as np

    model = write_text(dense_model_json(n_features=3), "model.json")
    estimator = kmb.build_estimator(params(model, optimizer=optimizer(name, learning_rate=0.01),
                                           metrics=["acc", "AUC", "Precision"], epochs=1, batch_size=8, verbose="0"))
    assert type(estimator._optimizer).__name__ == name
    assert estimator._optimizer.learning_rate.numpy() == pytest.approx(0.01)
    X = np.random.default_rng(0).normal(size=(16, 3))
    estimator.fit(X, np.array([0, 1] * 8))


def model_with(write_text, mutate):
    model = json.loads(dense_model_json())
    mutate(model)
    return write_text(json.dumps(model), "model.json")


def add_lambda(model):
    model["config"]["layers"].insert(1, {"module": "keras.layers", "class_name": "Lambda",
                                         "config": {"name": "evil", "function": "os.system"}})


def foreign_module(model):
    model["config"]["layers"][1]["module"] = "os"


def keras2_style(model):
    del model["module"]


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"hello": "world"}', "not a Keras model configuration"),
    ('{"class_name": "Dense", "config": {}}', "'Dense' is not a Keras model"),
    (add_lambda, "keras.layers.Lambda is not offered by the tool forms"),
    (foreign_module, r"os\.\w+ is not offered by the tool forms"),
    (keras2_style, "not a Keras 3 model configuration"),
])
def test_bad_model_json(write_text, content, message):
    path = model_with(write_text, content) if callable(content) else write_text(content, "model.json")
    with pytest.raises(ToolInputError, match=f"^Select the dataset containing model configuration: .*{message}"):
        kmb.build_estimator(params(path))


@pytest.mark.parametrize("changes, message", [
    ({"learning_type": "KerasGRegressor", "loss": "binary_crossentropy"}, "binary_crossentropy is a classification loss"),
    ({"learning_type": "KerasGRegressor", "loss": "mean_squared_error", "metrics": ["acc"]}, "acc measure classification"),
    ({"loss": "mse"}, "unknown loss 'mse'"),
    ({"metrics": ["logcosh"]}, "unknown metric logcosh"),
    ({"metrics": ["acc", "cosine_proximity"]}, "cosine_proximity .Keras 2: minus the cosine similarity. does not exist in Keras 3"),
    ({"optimizer": optimizer("adam")}, "unknown optimizer 'adam'"),
    ({"optimizer": optimizer("Adam", learning_rate=0.0)}, "learning_rate must be a number > 0"),
    ({"optimizer": optimizer("Adam", beta_1=1.0)}, r"beta_1 must be a number in \(0, 1\)"),
    ({"steps_per_epoch": 10}, "steps_per_epoch 10 is not supported on tables in Keras 3; leave it empty"),
    ({"validation_steps": 2}, "validation_steps 2 is not supported on tables in Keras 3; leave it empty"),
    ({"epochs": 0}, "epochs must be an integer from 1 to 100,000, got '0'"),
    ({"callbacks": [{"callback_selection": {"callback_type": "TensorBoard"}}]}, "unknown callback 'TensorBoard'"),
    ({"callbacks": [{"callback_selection": {"callback_type": "LearningRateScheduler", "schedule": "step_decay",
                                            "drop": 0.0}}]}, r"drop must be a number in \(0, 1\]"),
    ({"callbacks": [{"callback_selection": {"callback_type": "LearningRateScheduler", "schedule": "cosine",
                                            "drop": 0.5}}]}, "schedule must be one of step_decay, exponential_decay"),
    ({"callbacks": [{"callback_selection": {"callback_type": "LearningRateScheduler", "schedule": "step_decay",
                                            "epochs_drop": 0}}]}, "epochs_drop must be an integer >= 1"),
])
def test_bad_choices(changes, message):
    arguments = {"learning_type": "KerasGClassifier", "loss": "binary_crossentropy", "metrics": ["acc"], **changes}
    with pytest.raises(ToolInputError, match=message):
        kmb.build_estimator(params(TEST_DATA / "imdb_model_config.json", **arguments))


def test_script_writes_h5mlm_or_one_error_line(tmp_path, write_inputs, write_text, run_script):
    outfile = tmp_path / "model.h5mlm"
    ok = run_script(SCRIPT.name, "--inputs", write_inputs(params(TEST_DATA / "imdb_model_config.json")),
                    "--outfile", outfile)
    assert ok.returncode == 0, ok.stderr
    estimator = load_estimator(str(outfile), "model")
    assert (type(estimator).__name__, estimator.seed, estimator.metrics) == ("KerasGClassifier", 42, ["acc"])

    bad = run_script(SCRIPT.name, "--inputs", write_inputs(params(write_text('{"hello": 1}', "bad.json"))),
                     "--outfile", outfile)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].startswith(
        "Error: Select the dataset containing model configuration: not a Keras model configuration")
    assert "Traceback" not in bad.stderr
    assert not outfile.exists()


@pytest.mark.parametrize("tutorial, model, expected", [
    ("FNN", lambda: dense_model_json(units=1, activation="linear"),
     ("KerasGRegressor", "mean_squared_error", ["mse"], 150, 50)),
    ("RNN", lambda: (TEST_DATA / "imdb_model_config.json").read_text(),
     ("KerasGClassifier", "binary_crossentropy", ["acc"], 2, 128)),
    ("CNN", lambda: dense_model_json(units=10, activation="softmax"),
     ("KerasGClassifier", "categorical_crossentropy", ["categorical_accuracy"], 10, 500)),
])
def test_gtn_workflow_states_keep_their_meaning(write_text, tutorial, model, expected):
    """The builder steps of the GTN workflows, as saved: Adam with its optimizer_options, Keras 2 loss names,
    empty steps_per_epoch/validation_steps, verbose 1, a "None" callback."""
    state = saved_state(tutorial, "keras_model_builder")
    state["mode_selection"]["infile_json"] = write_text(model(), "model.json")
    estimator = kmb.build_estimator(state)
    assert (type(estimator).__name__, estimator.loss, estimator.metrics, estimator.epochs,
            estimator.batch_size) == expected
    assert (estimator.optimizer, estimator.learning_rate, estimator.beta_1, estimator.beta_2, estimator.epsilon,
            estimator.amsgrad) == ("adam", 0.001, 0.9, 0.999, 1e-07, False)
    assert (estimator.validation_split, estimator.verbose, estimator.callbacks, estimator.seed) == (0.1, 1, None, None)
    assert (estimator.steps_per_epoch, estimator.validation_steps) == (None, None)


@pytest.mark.parametrize("loss, keras_loss", [
    ("logcosh", "log_cosh"), ("kullback_leibler_divergence", "kl_divergence"),
    ("cosine_proximity", "cosine_similarity"), ("mean_absolute_percentage_error", "mean_absolute_percentage_error"),
])
def test_keras2_loss_names_run_the_same_function(write_text, loss, keras_loss):
    import numpy as np
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    learning_type = "KerasGClassifier" if loss == "kullback_leibler_divergence" else "KerasGRegressor"
    model = write_text(dense_model_json(units=2, activation="softmax"), "model.json")
    estimator = kmb.build_estimator(params(model, learning_type=learning_type, loss=loss, metrics=["none"]))
    assert (estimator.loss, estimator.metrics) == (keras_loss, [])
    same = np.array([[0.6, 0.8]])
    # Keras 2's cosine_proximity loss was minus the cosine similarity: -1 for equal directions
    if loss == "cosine_proximity":
        assert float(keras.losses.get(estimator.loss)(same, same)[0]) == pytest.approx(-1.0)


def test_csvlogger_writes_log_csv_in_the_working_directory(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    callbacks = [{"callback_selection": {"callback_type": "CSVLogger"}}]
    estimator = kmb.build_estimator(params(TEST_DATA / "regression_model_config.json", learning_type="KerasGRegressor",
                                           loss="mean_squared_error", metrics=["mae"], callbacks=callbacks,
                                           epochs=2, batch_size=8, verbose=0))
    assert estimator.callbacks == [{"callback_selection": {"callback_type": "CSVLogger"}}]
    from gxkeras.keras.callbacks import build_callbacks

    n_features = estimator.config["layers"][0]["config"]["batch_shape"][-1]
    X = np.random.default_rng(0).normal(size=(32, n_features))
    estimator.fit(X, X[:, 0], callbacks=build_callbacks(estimator.callbacks, "callbacks"))
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0].split("\t")[:2] == ["epoch", "loss"] and len(lines) == 3


def test_checkpoint_and_scheduler_are_stored_from_the_form():
    """As Galaxy writes the repeat: every field of the case, which the model file keeps (no file name)."""
    callbacks = [
        {"__index__": 0, "callback_selection": {"__current_case__": 4, "callback_type": "ModelCheckpoint",
                                                "monitor": "val_loss", "mode": "min", "save_best_only": True,
                                                "save_weights_only": "booltrue"}},
        {"__index__": 1, "callback_selection": {"__current_case__": 5, "callback_type": "LearningRateScheduler",
                                                "schedule": "exponential_decay", "drop": 0.5, "epochs_drop": 10,
                                                "decay_rate": 0.2}},
    ]
    estimator = kmb.build_estimator(params(TEST_DATA / "regression_model_config.json", learning_type="KerasGRegressor",
                                           loss="mean_squared_error", metrics=["mae"], callbacks=callbacks))
    assert estimator.callbacks == [
        {"callback_selection": {"callback_type": "ModelCheckpoint", "monitor": "val_loss", "mode": "min",
                                "save_best_only": True, "save_weights_only": True}},
        {"callback_selection": {"callback_type": "LearningRateScheduler", "schedule": "exponential_decay",
                                "drop": 0.5, "epochs_drop": 10, "decay_rate": 0.2}},
    ]
    from gxkeras.keras.callbacks import CHECKPOINT, build_callbacks

    checkpoint, scheduler = build_callbacks(estimator.callbacks, "callbacks")
    assert checkpoint.filepath == CHECKPOINT[True] == "checkpoint.weights.h5"  # fixed, in the working directory
    assert (checkpoint.monitor, checkpoint.save_best_only, checkpoint.save_weights_only) == ("val_loss", True, True)
    assert [round(scheduler.schedule(epoch, 0.01), 8) for epoch in range(3)] == [0.01, 0.00818731, 0.00670320]


def test_step_decay_uses_the_optimizers_rate():
    from gxkeras.keras.callbacks import Decay

    decay = Decay("step_decay", drop=0.5, epochs_drop=2)
    # lr0 is the rate at epoch 0; later calls get the already lowered rate, which must not compound
    rates = [decay(0, 0.1)] + [decay(epoch, 0.001) for epoch in range(1, 6)]
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


# ---- prefitted mode (the Galaxy-ML tools' "Load a pretrained model for prediction") ------------------

def prefitted(model_json, weights):
    return {"mode_selection": {"__current_case__": 1, "mode_type": "prefitted", "infile_json": str(model_json),
                               "infile_weights": str(weights) if weights else None}}


def test_prefitted_model_predicts_the_networks_outputs(tmp_path):
    import numpy as np

    import model_prediction as mp

    inputs, outfile = tmp_path / "inputs.json", tmp_path / "model.h5mlm"
    inputs.write_text(json.dumps(prefitted(TEST_DATA / "imdb_model_config.json", TEST_DATA / "imdb_trained.weights.h5")))
    kmb.main(["--inputs", str(inputs), "--outfile", str(outfile)])
    assert type(load_estimator(str(outfile), "model")).__name__ == "KerasGRegressor"

    def predicted(**given):
        out = tmp_path / "out.tsv"
        mp.run({**given, "input_options": {"selected_input": "tabular", "header1": False,
                                           "infile1": str(TEST_DATA / "imdb_X_test.tsv")}}, str(out))
        return np.loadtxt(out, skiprows=1)

    outputs = predicted(infile_estimator=str(outfile), method="predict")
    # the same weights given to Model Prediction beside the untrained classifier: its P(class 1)
    proba = predicted(infile_estimator=str(TEST_DATA / "imdb_untrained.h5mlm"), method="predict_proba",
                      weights=[{"infile_weights": str(TEST_DATA / "imdb_trained.weights.h5")}])
    np.testing.assert_allclose(outputs, proba[:, 1], atol=2e-6)
    assert outputs.min() >= 0 and outputs.max() <= 1 and outputs.std() > 0


@pytest.mark.parametrize("weights, message", [
    (None, "Select the dataset containing the model's weights: no dataset given"),
    (TEST_DATA / "imdb_X_test.tsv", r"Select the dataset containing the model's weights \(.*\): not an HDF5 file"),
    (TEST_DATA / "imdb_trained.weights.h5",  # the IMDB weights for the regression architecture
     r"Select the dataset containing the model's weights \(.*\): dataset layers/embedding/vars/0 has shape "
     r"\(10000, 8\), which no weight of the model has: the weights do not fit the model"),
])
def test_prefitted_mode_refuses_weights_that_do_not_fit(weights, message):
    model_json = TEST_DATA / ("imdb_model_config.json" if weights != TEST_DATA / "imdb_trained.weights.h5"
                              else "regression_model_config.json")
    with pytest.raises(ToolInputError, match=message):
        kmb.build_estimator(prefitted(model_json, weights))
