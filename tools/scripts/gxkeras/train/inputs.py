"""One object per kind of training input ("Select input type"): how X and y are read, what the held-out sets
need before training, and how they are evaluated after it.

Tabular data and a sparse matrix train any KerasGClassifier or KerasGRegressor on a table of samples. A
KerasGBatchClassifier trains on sequences in a fasta file or on a reference genome with intervals and
target features: X holds each sequence's or interval's position (galaxy-ml's batch samples) and the model's
generator reads the job's files, batch by batch. Everything that differs between these kinds is here.
"""
from typing import Any

from gxkeras.data.fasta import FASTA_LABEL, check_one_hot, check_sequence_input, encode, sample_indices, \
    sequence_names, stage_fasta
from gxkeras.data.genomic import FEATURES_LABEL, check_sets_can_be_sampled, encode_intervals, stage_interval_inputs
from gxkeras.data.matrix_market import read_matrix_market
from gxkeras.data.tabular import read_tabular_input
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.keras.estimators import BATCH_CLASSIFIER, model_input_shape, output_layer
from gxkeras.keras.generators import GENOMIC_GENERATOR
from gxkeras.train.class_weights import CLASS_WEIGHT_LABEL, WeightChoice
from gxkeras.train.data import Samples, check_X, check_y, header_offset, read_text_columns, read_y
from gxkeras.train.evaluation import (Evaluation, evaluated_loss, evaluation_table, label_loss, predict,
                                     predict_features)
from gxkeras.train.form import INPUT_TYPE_LABEL, MODEL_LABEL, SPARSE_LABEL, X_LABEL, TrainerForm, section
from gxkeras.train.scoring import Prediction

Sets = dict[str, tuple[Any, Any]]  # {"validation": (X, y)[, "test": (X, y)]}


class TrainingInput:
    """What every kind of input shares: y read with X, sets evaluated as they are, labels predicted."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options  # the form's input_options
        self.features: list[str] | None = None  # the target features' names (genomic intervals only)

    def check_form(self, form: TrainerForm, class_weight: WeightChoice) -> None:
        """Refuse what the form asks that this kind of input cannot do (before anything is read)."""

    def read(self, estimator: Any) -> Samples:
        raise NotImplementedError

    def check_sets(self, estimator: Any, sets: dict[str, Any]) -> None:
        """Refuse, before training, a set (``{name: X}``) the model could not be evaluated on."""

    def evaluation_sets(self, estimator: Any, sets: Sets) -> Sets:
        """The held-out sets as the trained model is evaluated on them."""
        return sets

    def predict(self, estimator: Any, X: Any, y: Any) -> Prediction:
        return predict(estimator, X, y)

    def loss(self, estimator: Any, X: Any, y: Any, n_onehot: int | None) -> float:
        return label_loss(estimator, X, y, n_onehot)

    def evaluate(self, estimator: Any, sets: Sets, names: list[str], n_onehot: int | None) -> Evaluation:
        """The metrics ``names`` and the loss on each evaluated set (the result of :meth:`evaluation_sets`)."""
        predictions = {name: self.predict(estimator, *data) for name, data in sets.items()}
        return evaluation_table(names, predictions, [self.loss(estimator, *data, n_onehot) for data in sets.values()])


class TableInput(TrainingInput):
    """Tabular data, or a sparse matrix (the old tools' MatrixMarket, made dense): one row per sample."""

    def __init__(self, options: dict[str, Any], sparse: bool) -> None:
        super().__init__(options)
        self.sparse = sparse

    def read(self, estimator: Any) -> Samples:
        if self.sparse:
            X, X_label = read_matrix_market(self.options.get("infile1") or "", SPARSE_LABEL), SPARSE_LABEL
        else:
            X, _ = read_tabular_input(self.options, "infile1", "header1", "column_selector_options_1", "col1", X_LABEL)
            X_label = X_LABEL
        y = read_y(self.options, X.shape[0], X_label, "rows")
        X = check_X(X, estimator, header_offset(self.options, "header1"))
        y, n_onehot = check_y(y, estimator, header_offset(self.options, "header2"))
        return Samples(X, y, n_onehot)


class FastaInput(TrainingInput):
    """Sequences in a fasta file, linked into the working folder, with one label per sequence."""

    def read(self, estimator: Any) -> Samples:
        generator = estimator.data_batch_generator
        check_sequence_input(model_input_shape(estimator.config), generator, MODEL_LABEL)
        fasta = stage_fasta(self.options.get("fasta_path"))
        X = sample_indices(len(sequence_names(fasta)))
        generator.fasta_path = fasta
        check_batch_fits(estimator, len(X))
        y, n_onehot = check_y(read_y(self.options, X.shape[0], FASTA_LABEL, "sequences"), estimator,
                              header_offset(self.options, "header2"))
        return Samples(X, y, n_onehot)

    def evaluation_sets(self, estimator: Any, sets: Sets) -> Sets:
        """The encoded sequences; the model file keeps no path."""
        encoded = {name: (encode(estimator.data_generator_, X_set), y_set) for name, (X_set, y_set) in sets.items()}
        estimator.data_generator_.close()
        estimator.data_batch_generator.fasta_path = None
        return encoded


class GenomicInput(TrainingInput):
    """A reference genome with intervals and target features: galaxy-ml's generator looks the targets up in the
    (indexed) target file around each sampled position, for the features of the feature list; y is None."""

    def check_form(self, form: TrainerForm, class_weight: WeightChoice) -> None:
        for holdout in form.holdouts:  # stratifying needs a label per sample, which sampling makes
            if holdout.algos.get("shuffle") == "stratified":
                raise ToolInputError(f"{holdout.label}: stratified splitting needs a class label per sample; the "
                                     "targets of a reference genome and intervals are looked up while sampling: "
                                     "choose simple shuffling, no shuffling or groups")
        if class_weight is not None:
            raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: not for a reference genome and intervals, whose targets are "
                                 "one 0/1 value per feature; remove the entry (class_positive_factor of 'Build Deep "
                                 "learning Batch Training Models' weighs a single feature's positives)")

    def read(self, estimator: Any) -> Samples:
        generator = estimator.data_batch_generator
        check_sequence_input(model_input_shape(estimator.config), generator, MODEL_LABEL)
        staged = stage_interval_inputs(self.options, generator.seq_length, generator.center_bin_to_predict,
                                       self.feature_list())
        units, _ = output_layer(estimator.config)
        if units and units != len(staged["features"]):
            raise ToolInputError(f"{FEATURES_LABEL}: {len(staged['features'])} features, but the model's last layer "
                                 f"has {units} units: it needs one (sigmoid) unit per feature")
        generator.set_params(ref_genome_path=staged["ref_genome_path"], intervals_path=staged["intervals_path"],
                             target_path=staged["target_path"], features=staged["features"])
        print(f"Reference genome and intervals: {staged['n_intervals']} intervals, features "
              f"{', '.join(staged['features'])}")
        X = sample_indices(staged["n_intervals"])
        check_batch_fits(estimator, len(X))
        return Samples(X, None)

    def feature_list(self) -> list[str]:
        """The feature names of the selected columns of the feature list (text), row by row."""
        frame = read_text_columns(self.options.get("infile2"), bool(self.options.get("header2")),
                                  section(self.options, "column_selector_options_2"),
                                  "selected_column_selector_option2", "col2", FEATURES_LABEL,
                                  "list the features to predict, one per line")
        return frame.to_numpy().ravel().tolist()

    def check_sets(self, estimator: Any, sets: dict[str, Any]) -> None:
        check_sets_can_be_sampled(estimator.data_batch_generator, sets)

    def evaluation_sets(self, estimator: Any, sets: Sets) -> Sets:
        """``{name: (sequences, targets)}`` of each set, at each interval's middle (each set has one at least:
        :meth:`check_sets`); the model file keeps no path and no feature list."""
        generator = estimator.data_generator_
        self.features = list(estimator.data_batch_generator.features)
        encoded = {}
        for name, (X_set, _) in sets.items():
            sequences, targets, skipped = encode_intervals(generator, X_set)
            if skipped:
                print(f"{name}: {skipped} of {len(X_set)} intervals left out (blacklisted at their middle)")
            encoded[name] = (sequences, targets)
        generator.close()
        estimator.data_batch_generator.set_params(ref_genome_path=None, intervals_path=None, target_path=None,
                                                  features="infer")
        return encoded

    def predict(self, estimator: Any, X: Any, y: Any) -> Prediction:
        return predict_features(estimator, X, y)

    def loss(self, estimator: Any, X: Any, y: Any, n_onehot: int | None) -> float:
        return evaluated_loss(estimator, X, y)  # the targets are 0/1 per feature, as the model sees them


GENOMIC_INPUT = "refseq_and_interval"
# The inputs of a KerasGBatchClassifier, by what its generator trains on.
BATCH_INPUTS = {"seq_fasta": "sequences in a fasta file", GENOMIC_INPUT: "reference genome and intervals"}


def check_batch_fits(estimator: Any, n_samples: int) -> None:
    """One training batch of one-hot sequences must fit in the job's memory."""
    generator = estimator.data_batch_generator
    check_one_hot(min(estimator.batch_size, n_samples), generator.seq_length, generator.n_bases, MODEL_LABEL,
                  f"one training batch (batch_size {estimator.batch_size:,})")


def input_kind(form: TrainerForm, estimator: Any) -> TrainingInput:
    """The input object of the form's input type, which must be one the model trains on."""
    selected, name = form.input_type, type(estimator).__name__
    batch = name == BATCH_CLASSIFIER
    if batch != (selected in BATCH_INPUTS):
        raise ToolInputError(f"{INPUT_TYPE_LABEL}: {selected}, but the model is a {name}: a {BATCH_CLASSIFIER} ('Build "
                             "Deep learning Batch Training Models') trains on sequences in a fasta file or a reference "
                             "genome and intervals, other models on tabular data or a sparse matrix")
    if not batch:
        return TableInput(form.input_options, sparse=selected == "sparse")
    generator = estimator.data_batch_generator
    if generator is None:
        raise ToolInputError(f"{MODEL_LABEL}: the {BATCH_CLASSIFIER} has no batch data generator; build it with "
                             "'Build Deep learning Batch Training Models' and a generator")
    wanted = GENOMIC_INPUT if type(generator).__name__ == GENOMIC_GENERATOR else "seq_fasta"
    if selected != wanted:
        raise ToolInputError(f"{INPUT_TYPE_LABEL}: {selected}, but the model's generator is a "
                             f"{type(generator).__name__}, which trains on '{BATCH_INPUTS[wanted]}' ({wanted})")
    return GenomicInput(form.input_options) if wanted == GENOMIC_INPUT else FastaInput(form.input_options)
