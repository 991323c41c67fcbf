#!/usr/bin/env bash
# harness/testdata/make_test_data.sh: regenerate the test-data chain files of keras_model_builder and
# keras_train_and_eval by running the tool scripts themselves (no Galaxy), with inputs JSON files
# shaped as Galaxy writes them.
#
#   IMDB (binary classification, the RNN tutorial's model made small for speed):
#     imdb_model_config.json  <- keras_model_config: (100,) Embedding(10000, 8) LSTM(8) Dense(1, sigmoid)
#     imdb_untrained.h5mlm    <- keras_model_builder: KerasGClassifier, adam, binary_crossentropy, acc, 2 epochs, batch 128, seed 42
#     imdb_trained.h5mlm      <- keras_train_and_eval on imdb_X_train.tsv / imdb_y_train.tsv (train_val)
#     imdb_y_train_onehot.tsv <- imdb_y_train.tsv as 2 one-hot columns (keras_train_and_eval's one-hot test)
#   Regression (KerasGRegressor on 60 rows x 4 numbers, with headers):
#     regression_X.tsv, regression_y.tsv, regression_model_config.json,
#     regression_untrained.h5mlm (keras_train_and_eval's Galaxy test trains it)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)  # harness/testdata/ -> the repository
cd "$ROOT"
PY=${PY:-.venv-tools/bin/python}
TD=test-data
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run() {  # run SCRIPT INPUTS_JSON ARGS...: one tool script, its inputs JSON written to a file
  local script=$1 json=$2; shift 2
  printf '%s\n' "$json" > "$WORK/inputs.json"
  "$PY" "tools/scripts/$script.py" --inputs "$WORK/inputs.json" "$@"
}

# ---- IMDB chain ----
run keras_model_config '{"model_selection": {"model_type": "sequential", "input_shape": "(100,)", "layers": [
  {"__index__": 0, "layer_selection": {"layer_type": "Embedding", "input_dim": 10000, "output_dim": 8, "kwargs": ""}},
  {"__index__": 1, "layer_selection": {"layer_type": "LSTM", "units": 8, "kwargs": ""}},
  {"__index__": 2, "layer_selection": {"layer_type": "Dense", "units": 1, "activation": "sigmoid", "kwargs": ""}}]}}' \
  --outfile $TD/imdb_model_config.json

builder_json() {  # builder_json MODEL_JSON LEARNING_TYPE LOSS METRICS EPOCHS BATCH
  cat <<JSON
{"mode_selection": {"mode_type": "train_model", "infile_json": "$1", "learning_type": "$2",
  "compile_params": {"loss": "$3",
    "optimizer_selection": {"optimizer_type": "Adam", "optimizer_options": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}},
    "metrics": $4},
  "fit_params": {"epochs": $5, "batch_size": $6, "validation_split": 0.1, "verbose": 2, "callbacks": []},
  "random_seed": 42}}
JSON
}
run keras_model_builder "$(builder_json $TD/imdb_model_config.json KerasGClassifier binary_crossentropy '["acc"]' 2 128)" \
  --outfile $TD/imdb_untrained.h5mlm

train_json() {  # train_json MODEL X Y HEADER [X_COLUMN_SELECTOR_JSON]
  local selector=${5:-'{"selected_column_selector_option": "all_columns"}'}
  cat <<JSON
{"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": "$1",
   "hyperparams_swapping": {"param_set": [{"sp_name": null, "sp_value": ""}]},
   "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.2, "random_state": null}},
   "metrics": {"scoring": {"primary_scoring": "default"}}},
 "input_options": {"selected_input": "tabular",
   "infile1": "$2", "header1": $4, "column_selector_options_1": $selector,
   "infile2": "$3", "header2": $4, "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
 "save": ["save_estimator"]}
JSON
}
run keras_train_and_eval "$(train_json $TD/imdb_untrained.h5mlm $TD/imdb_X_train.tsv $TD/imdb_y_train.tsv false)" \
  --outfile_result "$WORK/result.tsv" --outfile_object $TD/imdb_trained.h5mlm --outfile_weights "$WORK/weights.h5"

"$PY" -c "import numpy as np; y = np.loadtxt('$TD/imdb_y_train.tsv', dtype=int)
np.savetxt('$TD/imdb_y_train_onehot.tsv', np.stack([1 - y, y], 1), fmt='%d', delimiter='\t')"

# ---- regression chain ----
"$PY" - <<'PYTHON'
import numpy as np
rng = np.random.default_rng(7)
X = rng.normal(size=(60, 4)).round(4)
y = (X @ np.array([1.5, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=60) + 3).round(4)
ids = np.arange(1, 61).reshape(-1, 1)  # a sample id column, left out by the column selector
np.savetxt("test-data/regression_X.tsv", np.hstack([ids, X]), delimiter="\t", fmt=["%d"] + ["%.4f"] * 4,
           header="sample_id\tx1\tx2\tx3\tx4", comments="")
np.savetxt("test-data/regression_y.tsv", y, fmt="%.4f", header="target", comments="")
PYTHON
run keras_model_config '{"model_selection": {"model_type": "sequential", "input_shape": "(4,)", "layers": [
  {"__index__": 0, "layer_selection": {"layer_type": "Dense", "units": 8, "activation": "relu", "kwargs": ""}},
  {"__index__": 1, "layer_selection": {"layer_type": "Dense", "units": 1, "activation": "linear", "kwargs": ""}}]}}' \
  --outfile $TD/regression_model_config.json
run keras_model_builder "$(builder_json $TD/regression_model_config.json KerasGRegressor mean_squared_error '["mae"]' 5 16)" \
  --outfile $TD/regression_untrained.h5mlm

ls -l $TD/imdb_model_config.json $TD/imdb_*.h5mlm $TD/regression_*

# ---- IMDB with callbacks (keras_train_and_eval's ModelCheckpoint / LearningRateScheduler / class_weight test) ----
# imdb_callbacks_untrained.h5mlm <- keras_model_builder: the IMDB classifier, 3 epochs, ModelCheckpoint of the
#   lowest val_loss and a step decay halving the learning rate (0.01) every epoch
run keras_model_builder '{"mode_selection": {"mode_type": "train_model", "infile_json": "test-data/imdb_model_config.json",
  "learning_type": "KerasGClassifier", "compile_params": {"loss": "binary_crossentropy",
    "optimizer_selection": {"optimizer_type": "Adam", "optimizer_options": {"learning_rate": 0.01}}, "metrics": ["acc"]},
  "fit_params": {"epochs": 3, "batch_size": 128, "validation_split": 0.1, "verbose": 2, "callbacks": [
    {"__index__": 0, "callback_selection": {"callback_type": "ModelCheckpoint", "monitor": "val_loss", "mode": "min",
                                            "save_best_only": true, "save_weights_only": true}},
    {"__index__": 1, "callback_selection": {"callback_type": "LearningRateScheduler", "schedule": "step_decay",
                                            "drop": 0.5, "epochs_drop": 1, "decay_rate": 0.1}}]},
  "random_seed": 42}}' --outfile $TD/imdb_callbacks_untrained.h5mlm

# ---- FASTA chain (keras_batch_models; keras_train_and_eval and model_prediction with seq_fasta) ----
#   fasta_dna_seqs.fasta, fasta_dna_labels.tsv: 40 random DNA sequences of 30-60 bases, label 1 (every
#     second one) carries the motif GATTACA
#   fasta_dna_model_config.json <- keras_model_config: (50, 4) Conv1D(4, 7, relu) GlobalMaxPooling1D Dense(1, sigmoid)
#   fasta_dna_untrained.h5mlm   <- keras_batch_models: FastaDNABatchGenerator seq_length 50, adam 0.01, 2 epochs, batch 8
#   fasta_dna_trained.h5mlm     <- keras_train_and_eval (seq_fasta, train_val)
"$PY" - <<'PYTHON'
import random
random.seed(7)
seqs, labels = [], []
for i in range(40):
    n = random.randint(30, 60)
    s = "".join(random.choice("ACGT") for _ in range(n))
    if i % 2:
        p = random.randint(0, n - 7)
        s = s[:p] + "GATTACA" + s[p + 7:]
    seqs.append(s)
    labels.append(i % 2)
with open("test-data/fasta_dna_seqs.fasta", "w") as f:
    f.writelines(f">seq{i + 1}\n{s}\n" for i, s in enumerate(seqs))
with open("test-data/fasta_dna_labels.tsv", "w") as f:
    f.write("label\n" + "".join(f"{y}\n" for y in labels))
PYTHON
run keras_model_config '{"model_selection": {"model_type": "sequential", "input_shape": "(50, 4)", "layers": [
  {"__index__": 0, "layer_selection": {"layer_type": "Conv1D", "filters": 4, "kernel_size": "7", "activation": "relu", "kwargs": ""}},
  {"__index__": 1, "layer_selection": {"layer_type": "GlobalMaxPooling1D", "kwargs": ""}},
  {"__index__": 2, "layer_selection": {"layer_type": "Dense", "units": 1, "activation": "sigmoid", "kwargs": ""}}]}}' \
  --outfile $TD/fasta_dna_model_config.json
run keras_batch_models '{"mode_selection": {"mode_type": "train_model", "infile_json": "test-data/fasta_dna_model_config.json",
  "learning_type": "KerasGBatchClassifier",
  "generator_selection": {"generator_type": "FastaDNABatchGenerator", "seq_length": 50, "shuffle": true, "seed": 999},
  "compile_params": {"loss": "binary_crossentropy",
    "optimizer_selection": {"optimizer_type": "Adam", "optimizer_options": {"learning_rate": 0.01}}, "metrics": ["acc"]},
  "fit_params": {"epochs": 2, "batch_size": 8, "validation_split": 0.1, "verbose": 2, "callbacks": []},
  "class_positive_factor": 1, "prediction_steps": null, "random_seed": 42}, "get_params": false}' \
  --outfile $TD/fasta_dna_untrained.h5mlm
(cd "$WORK" && "$ROOT/$PY" "$ROOT/tools/scripts/keras_train_and_eval.py" --inputs /dev/stdin --outfile_result result.tsv \
  --outfile_object "$ROOT/$TD/fasta_dna_trained.h5mlm" <<JSON
{"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": "$ROOT/$TD/fasta_dna_untrained.h5mlm",
   "hyperparams_swapping": {"param_set": []},
   "test_split": {"split_algos": {"shuffle": "stratified", "test_size": 0.2, "random_state": 0}},
   "metrics": {"scoring": {"primary_scoring": "default"}}},
 "input_options": {"selected_input": "seq_fasta", "fasta_path": "$ROOT/$TD/fasta_dna_seqs.fasta",
   "infile2": "$ROOT/$TD/fasta_dna_labels.tsv", "header2": true,
   "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
 "save": ["save_estimator"]}
JSON
)
ls -l $TD/fasta_dna_*

# ---- Genomic-interval chain (keras_batch_models GenomicIntervalBatchGenerator; keras_train_and_eval with
#      refseq_and_interval; model_prediction with variant_effect) ----
#   genomic_ref.fasta: a synthetic genome, chr1 (3,000 bases) and chr2 (2,000), random bases (seed 11)
#   genomic_targets.bed: peaks of featA (60 bases, GATTACA planted in the middle) and featB (CCGGAACC);
#     genomic_intervals.bed: 40-base intervals, half centred on a featA peak; genomic_features.tsv: featA, featB
#   genomic_variants.vcf: 6 SNVs and indels on the genome (model_prediction's variant_effect)
#   genomic_model_config.json <- keras_model_config: (100, 4) Conv1D(8, 7, relu) GlobalMaxPooling1D Dense(2, sigmoid)
#   genomic_untrained.h5mlm   <- keras_batch_models: GenomicIntervalBatchGenerator seq_length 100, center bin 20
#   genomic_trained.h5mlm     <- keras_train_and_eval (refseq_and_interval, train_val)
"$PY" - <<'PYTHON'
import random
random.seed(11)
genome = {"chr1": [random.choice("ACGT") for _ in range(3000)], "chr2": [random.choice("ACGT") for _ in range(2000)]}
targets, intervals = [], []
centres = [("chr1", c) for c in range(150, 2900, 140)] + [("chr2", c) for c in range(150, 1900, 140)]
for number, (chrom, centre) in enumerate(centres):
    if number % 2 == 0:  # featA peak with its motif; the interval is centred on it
        genome[chrom][centre - 3:centre + 4] = "GATTACA"
        targets.append((chrom, centre - 30, centre + 30, "featA"))
    if number % 3 == 0:
        genome[chrom][centre + 8:centre + 16] = "CCGGAACC"
        targets.append((chrom, centre - 20, centre + 40, "featB"))
    intervals.append((chrom, centre - 20, centre + 20))
with open("test-data/genomic_ref.fasta", "w") as f:
    for chrom, bases in genome.items():
        text = "".join(bases)
        f.write(f">{chrom}\n" + "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60)))
random.shuffle(targets)  # unsorted, as a BED dataset may be: the job sorts it before indexing
with open("test-data/genomic_targets.bed", "w") as f:
    f.writelines(f"{c}\t{s}\t{e}\t{n}\n" for c, s, e, n in targets)
with open("test-data/genomic_intervals.bed", "w") as f:
    f.writelines(f"{c}\t{s}\t{e}\n" for c, s, e in intervals)
with open("test-data/genomic_features.tsv", "w") as f:
    f.write("featA\nfeatB\n")
variants = [("chr1", 430, "v1", None, "A"), ("chr1", 711, "v2", None, "G"), ("chr1", 1300, "v3", None, "TT"),
            ("chr2", 290, "v4", None, "C"), ("chr2", 1000, "v5", "del", ""), ("chr2", 1500, "v6", None, "*")]
with open("test-data/genomic_variants.vcf", "w") as f:
    f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    for chrom, pos, name, kind, alt in variants:
        ref = "".join(genome[chrom][pos - 1:pos + (1 if kind == "del" else 0)])
        if kind == "del":
            alt = ref[0]
        elif alt == "*":  # two alternative alleles, neither the reference base
            alt = ",".join(base for base in "ACGT" if base != ref)[:3]
        f.write(f"{chrom}\t{pos}\t{name}\t{ref}\t{alt}\t.\t.\t.\n")
PYTHON
run keras_model_config '{"model_selection": {"model_type": "sequential", "input_shape": "(100, 4)", "layers": [
  {"__index__": 0, "layer_selection": {"layer_type": "Conv1D", "filters": 8, "kernel_size": "7", "activation": "relu", "kwargs": ""}},
  {"__index__": 1, "layer_selection": {"layer_type": "GlobalMaxPooling1D", "kwargs": ""}},
  {"__index__": 2, "layer_selection": {"layer_type": "Dense", "units": 2, "activation": "sigmoid", "kwargs": ""}}]}}' \
  --outfile $TD/genomic_model_config.json
run keras_batch_models '{"mode_selection": {"mode_type": "train_model", "infile_json": "test-data/genomic_model_config.json",
  "learning_type": "KerasGBatchClassifier",
  "generator_selection": {"generator_type": "GenomicIntervalBatchGenerator", "seq_length": 100, "shuffle": true, "seed": 999,
    "blacklist_regions": "hg38", "center_bin_to_predict": 20, "feature_thresholds": 0.5, "random_state": 7},
  "compile_params": {"loss": "binary_crossentropy",
    "optimizer_selection": {"optimizer_type": "Adam", "optimizer_options": {"learning_rate": 0.01}}, "metrics": ["acc"]},
  "fit_params": {"epochs": 3, "batch_size": 8, "validation_split": 0.1, "verbose": 2, "callbacks": []},
  "class_positive_factor": 1, "prediction_steps": null, "random_seed": 42}, "get_params": false}' \
  --outfile $TD/genomic_untrained.h5mlm
(cd "$WORK" && "$ROOT/$PY" "$ROOT/tools/scripts/keras_train_and_eval.py" --inputs /dev/stdin --outfile_result result.tsv \
  --outfile_object "$ROOT/$TD/genomic_trained.h5mlm" <<JSON
{"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": "$ROOT/$TD/genomic_untrained.h5mlm",
   "hyperparams_swapping": {"param_set": []},
   "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.25, "random_state": 0}},
   "metrics": {"scoring": {"primary_scoring": "default"}}},
 "input_options": {"selected_input": "refseq_and_interval", "ref_genome_file": "$ROOT/$TD/genomic_ref.fasta",
   "interval_file": "$ROOT/$TD/genomic_intervals.bed", "target_file": "$ROOT/$TD/genomic_targets.bed",
   "infile2": "$ROOT/$TD/genomic_features.tsv", "header2": false,
   "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
 "save": ["save_estimator"]}
JSON
)
ls -l $TD/genomic_*
