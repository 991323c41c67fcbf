#!/usr/bin/env bash
# research/raw_text_full_run.sh [DATA_DIR] [WORK_DIR]: the raw-text workflow's chain (workflows/imdb_text_rnn.ga)
# on the full raw IMDB text, running the tool scripts as Galaxy runs them (inputs JSON -> script), without
# Galaxy. ../shared/data/imdb has raw text only for the 25,000 training reviews, so the first 20,000 are the
# training text and the last 5,000 the test text (2,469 positive). Settings are the tutorial's: IMDB encoding
# (A-Z lower-casing, num_words 10000, skip_top 50, maxlen 500), Embedding(10000, 32) -> LSTM(100) ->
# Dense(1, sigmoid), Adam, 2 epochs, batch 128, "Train and Validate" with a 20 % holdout, seed 42.
# A long CPU run (tens of minutes on 2 shared cores): run it niced, in the background. Result: WORK_DIR/metrics.tsv.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$ROOT/../shared/data/imdb}
WORK=${2:-$ROOT/results/raw_text_full}
PY=${PY:-$ROOT/.venv-tools/bin/python}
mkdir -p "$WORK"
cd "$WORK"
run() {  # run SCRIPT INPUTS_JSON ARGS...
  local script=$1; printf '%s\n' "$2" > "$script.inputs.json"; shift 2
  echo "[$(date +%T)] $script"
  "$PY" "$ROOT/tools/scripts/$script.py" --inputs "$script.inputs.json" "$@"
}
zcat "$DATA/reviews_train.tsv.gz" > reviews.tsv
head -n 20000 reviews.tsv > train.tsv
tail -n 5000 reviews.tsv > test.tsv
encode='"header": false, "text_selector": "by_index_number", "text_col": "2", "label_selector": "by_index_number",
  "label_col": "1", "lower": "ascii", "num_words": 10000, "skip_top": 50, "maxlen": 500'
mkdir -p train test
run keras_text_to_sequences "{\"mode\": \"fit\", \"infile\": \"train.tsv\", $encode}" --outdir train
run keras_text_to_sequences "{\"mode\": \"apply\", \"infile\": \"test.tsv\", \"infile_vocabulary\": \"train/vocabulary.tsv\", $encode}" --outdir test
run keras_model_config '{"model_selection": {"model_type": "sequential", "input_shape": "(500,)", "layers": [
  {"__index__": 0, "layer_selection": {"layer_type": "Embedding", "input_dim": 10000, "output_dim": 32, "kwargs": ""}},
  {"__index__": 1, "layer_selection": {"layer_type": "LSTM", "units": 100, "kwargs": ""}},
  {"__index__": 2, "layer_selection": {"layer_type": "Dense", "units": 1, "activation": "sigmoid", "kwargs": ""}}]}}' \
  --outfile model_config.json
run keras_model_builder '{"mode_selection": {"mode_type": "train_model", "infile_json": "model_config.json", "learning_type": "KerasGClassifier",
  "compile_params": {"loss": "binary_crossentropy",
    "optimizer_selection": {"optimizer_type": "Adam", "optimizer_options": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}},
    "metrics": ["acc"]},
  "fit_params": {"epochs": 2, "batch_size": 128, "validation_split": 0.1, "verbose": 2, "callbacks": []},
  "random_seed": 42}}' --outfile untrained.h5mlm
all='{"selected_column_selector_option": "all_columns"}'
run keras_train_and_eval "{\"experiment_schemes\": {\"selected_exp_scheme\": \"train_val\", \"infile_estimator\": \"untrained.h5mlm\",
   \"test_split\": {\"split_algos\": {\"shuffle\": \"simple\", \"test_size\": 0.2, \"random_state\": null}},
   \"metrics\": {\"scoring\": {\"primary_scoring\": \"default\"}}},
 \"input_options\": {\"selected_input\": \"tabular\", \"infile1\": \"train/X.tsv\", \"header1\": false, \"column_selector_options_1\": $all,
   \"infile2\": \"train/y.tsv\", \"header2\": false, \"column_selector_options_2\": {\"selected_column_selector_option2\": \"all_columns\"}},
 \"save\": [\"save_estimator\"]}" \
  --outfile_result training_metrics.tsv --outfile_object trained.h5mlm --outfile_weights trained.weights.h5
run model_prediction "{\"infile_estimator\": \"trained.h5mlm\", \"method\": \"predict\",
  \"input_options\": {\"selected_input\": \"tabular\", \"infile1\": \"test/X.tsv\", \"header1\": false, \"column_selector_options_1\": $all}}" \
  --outfile predictions.tsv
run ml_visualization_ex "{\"plotting_selection\": {\"plot_type\": \"classification_confusion_matrix\",
  \"infile_true\": \"test/y.tsv\", \"header_true\": false, \"column_selector_options_true\": $all,
  \"infile_predicted\": \"predictions.tsv\", \"header_predicted\": true, \"plot_format\": \"png\",
  \"title\": \"Raw-text IMDB: confusion matrix of the 5,000 held-out reviews\", \"plot_color\": \"Blues\"}}" \
  --output confusion_matrix.png --output_metrics metrics.tsv
echo "[$(date +%T)] done"
cat metrics.tsv
