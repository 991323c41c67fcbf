"""Regenerate the model files of the model_prediction and ml_visualization_ex tests.

    .venv-tools/bin/python harness/testdata/make_prediction_test_data.py           # both kinds
    .venv-tools/bin/python harness/testdata/make_prediction_test_data.py sklearn   # scikit-learn only (no Keras)

From test-data/imdb_trained.h5mlm:

imdb_trained.weights.h5
    the trained model's own weights, as keras_train_and_eval's weights output writes them
    (Keras 3 ``.weights.h5`` layout).
imdb_all_positive.weights.h5
    the same weights with the output unit's bias raised by 100, so that every review is predicted
    1: a test that gets all 1s proves the weights file, not the model's own weights, was used.

scikit-learn models saved with galaxy-ml 0.11's own ``dump_model_to_h5`` (as its tools save them),
fitted on sklearn_X.tsv (40 rows, 4 named features) and sklearn_y.tsv, whose class is 1 when
``2 * signal - 0.5 * weak`` is above 0.5 (``noise`` and ``constant`` play no part):
sklearn_forest.h5mlm
    RandomForestClassifier(n_estimators=3, max_depth=3): feature_importances_, predict_proba.
sklearn_pipeline.h5mlm
    Pipeline(StandardScaler, LogisticRegression(C=10)): a pipeline's final step's coef_.
sklearn_imblearn_bagging.h5mlm
    imbalanced-learn's Pipeline(RandomUnderSampler, StandardScaler, BaggingClassifier(3 trees of depth 3,
    3 of the 4 features each)): a sampler (skipped at prediction) and an ensemble of column subsets.
sklearn_X.mtx
    sklearn_X.tsv as a MatrixMarket coordinate file (the old tools' "sparse matrix" input), its
    non-zero entries only:
    .venv-tools/bin/python harness/testdata/make_prediction_test_data.py mtx
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # harness/testdata/ -> the repository
sys.path.insert(0, str(ROOT / "tools" / "scripts"))

from gxkeras.keras.environment import import_keras  # noqa: E402
from gxkeras.modelfile import load_estimator  # noqa: E402

TEST_DATA = ROOT / "test-data"


def save_weights(model, path):
    """Keras 3 writes this format only to a ``*.weights.h5`` name."""
    folder = tempfile.mkdtemp()
    try:
        temporary = os.path.join(folder, "model.weights.h5")
        model.save_weights(temporary)
        shutil.move(temporary, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


SKLEARN_FEATURES = ["signal", "noise", "weak", "constant"]


def sklearn_data():
    """``(X, y)`` of the scikit-learn tests, written as sklearn_X.tsv and sklearn_y.tsv (headers)."""
    import numpy as np

    random = np.random.RandomState(7)
    X = np.round(random.rand(40, 4), 3)
    X[:, 3] = 1.0
    y = (2 * X[:, 0] - 0.5 * X[:, 2] > 0.5).astype(int)
    with open(TEST_DATA / "sklearn_X.tsv", "w") as handle:
        handle.write("\t".join(SKLEARN_FEATURES) + "\n")
        handle.writelines("\t".join(f"{value:g}" for value in row) + "\n" for row in X)
    with open(TEST_DATA / "sklearn_y.tsv", "w") as handle:
        handle.write("class\n" + "".join(f"{value}\n" for value in y))
    return X, y


def without_html_view(source, target):
    """A copy of an h5mlm without galaxy-ml's ``-http_repr-`` (60 kB of HTML that loading never reads)."""
    import h5py

    with h5py.File(source, "r") as old, h5py.File(target, "w") as new:
        new.attrs.update({key: value for key, value in old.attrs.items() if key != "-http_repr-"})
        for name in old:
            old.copy(old[name], new, name)


def sklearn_models():
    """Fit the two small scikit-learn models and save them with galaxy-ml's own h5mlm writer."""
    import warnings

    from galaxy_ml.model_persist import dump_model_to_h5
    from imblearn.pipeline import Pipeline as ImblearnPipeline
    from imblearn.under_sampling import RandomUnderSampler
    from sklearn.ensemble import BaggingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    X, y = sklearn_data()
    models = {
        "sklearn_forest.h5mlm": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
        "sklearn_pipeline.h5mlm": Pipeline([("scaler", StandardScaler()), ("model", LogisticRegression(C=10))]),
        "sklearn_imblearn_bagging.h5mlm": ImblearnPipeline([
            ("sampler", RandomUnderSampler(random_state=0)), ("scaler", StandardScaler()),
            ("model", BaggingClassifier(DecisionTreeClassifier(max_depth=3), n_estimators=3, max_features=0.75,
                                        random_state=0))]),
    }
    for name, model in models.items():
        model.fit(X, y)
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dump_model_to_h5(model, os.path.join(folder, name))
            without_html_view(os.path.join(folder, name), TEST_DATA / name)
    print("wrote", ", ".join(["sklearn_X.tsv", "sklearn_y.tsv", *models]), "in", TEST_DATA)


def sklearn_matrix_market():
    """sklearn_X.tsv (without its header) as a MatrixMarket coordinate file of its non-zero values."""
    import numpy as np
    from scipy.io import mmwrite
    from scipy.sparse import coo_matrix

    X = np.loadtxt(TEST_DATA / "sklearn_X.tsv", skiprows=1)
    mmwrite(TEST_DATA / "sklearn_X.mtx", coo_matrix(X), comment="sklearn_X.tsv: 40 samples x 4 features",
            precision=6)
    print("wrote sklearn_X.mtx in", TEST_DATA)


def main():
    if sys.argv[1:] == ["mtx"]:
        return sklearn_matrix_market()
    sklearn_models()
    sklearn_matrix_market()
    if sys.argv[1:] == ["sklearn"]:
        return
    keras = import_keras()
    estimator = load_estimator(str(TEST_DATA / "imdb_trained.h5mlm"), "imdb_trained.h5mlm")
    model = estimator.model_
    save_weights(model, TEST_DATA / "imdb_trained.weights.h5")
    shifted = keras.models.model_from_json(model.to_json())
    weights = model.get_weights()
    weights[-1] = weights[-1] + 100.0  # bias of the last Dense unit
    shifted.set_weights(weights)
    save_weights(shifted, TEST_DATA / "imdb_all_positive.weights.h5")
    print("wrote imdb_trained.weights.h5 and imdb_all_positive.weights.h5 in", TEST_DATA)


if __name__ == "__main__":
    main()
