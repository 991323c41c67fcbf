"""GenomicIntervalBatchGenerator end to end: keras_batch_models builds it (old field names), keras_train_and_eval
trains it on a reference genome, intervals and a target BED (input type refseq_and_interval; the target is
sorted, bgzipped and tabix-indexed in the job's working directory by gxkeras.data.genomic), model_prediction
predicts variants of a VCF with it (variant_effect); bad inputs give one line naming the dataset.

test-data (harness/testdata/make_test_data.sh): genomic_ref.fasta (chr1 3,000 + chr2 2,000 bases), 33 intervals of
40 bases, an unsorted target BED of featA / featB peaks, genomic_features.tsv, genomic_variants.vcf.
"""
import gzip
import json
import random
import shutil

import numpy as np
import pytest

import keras_batch_models as kbm
import keras_train_and_eval as kte
import model_prediction as mp
from gxkeras.data import genomic
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.modelfile.h5mlm import check_h5mlm, load_estimator
from gxkeras.train.scoring import Prediction, compute
from stored_params import rewrite_params, stored_params
from repo_paths import TEST_DATA

MODEL_JSON = str(TEST_DATA / "genomic_model_config.json")  # (100, 4) Conv1D GlobalMaxPooling1D Dense(2, sigmoid)
GENOME = TEST_DATA / "genomic_ref.fasta"
INTERVALS = TEST_DATA / "genomic_intervals.bed"
TARGETS = TEST_DATA / "genomic_targets.bed"
FEATURES = TEST_DATA / "genomic_features.tsv"
VCF = TEST_DATA / "genomic_variants.vcf"
UNTRAINED = TEST_DATA / "genomic_untrained.h5mlm"
TRAINED = TEST_DATA / "genomic_trained.h5mlm"
SPEC = {"generator_type": "GenomicIntervalBatchGenerator", "seq_length": 100, "shuffle": True, "seed": 999,
        "blacklist_regions": "hg38", "center_bin_to_predict": 20, "feature_thresholds": 0.5, "random_state": 7}
OUTPUTS = ("outfile_result", "outfile_object", "outfile_weights", "outfile_history", "outfile_y_true", "outfile_y_preds")


def build_form(**generator):
    selection = {"generator_type": "GenomicIntervalBatchGenerator", **{k: v for k, v in SPEC.items()
                                                                       if k != "generator_type"}, **generator}
    return {"mode_selection": {
        "mode_type": "train_model", "infile_json": MODEL_JSON, "learning_type": "KerasGBatchClassifier",
        "generator_selection": selection,
        "compile_params": {"loss": "binary_crossentropy", "metrics": ["acc"],
                           "optimizer_selection": {"optimizer_type": "Adam", "optimizer_options": {"learning_rate": 0.01}}},
        "fit_params": {"epochs": 3, "batch_size": 8, "validation_split": 0.1, "verbose": 0, "callbacks": []},
        "class_positive_factor": 1, "prediction_steps": None, "random_seed": 42}}


def datasets(tmp_path, **replace):
    """The job's datasets as Galaxy stages them (files named dataset_N.dat, never written to)."""
    paths = {}
    for number, (name, source) in enumerate({"ref_genome_file": GENOME, "interval_file": INTERVALS,
                                             "target_file": TARGETS, "infile2": FEATURES}.items()):
        path = tmp_path / f"dataset_{number}.dat"
        if name in replace:
            path.write_text(replace[name])
        else:
            shutil.copy(source, path)
        paths[name] = str(path)
    return paths


def train_params(model, inputs, scheme="train_val", shuffle="simple", save=("save_estimator", "save_prediction")):
    return {"experiment_schemes": {
                "selected_exp_scheme": scheme, "infile_estimator": str(model),
                "hyperparams_swapping": {"param_set": []},
                "test_split": {"split_algos": {"shuffle": shuffle, "test_size": 0.25, "random_state": 0}},
                "val_split": {"split_algos": {"shuffle": shuffle, "test_size": 0.3, "random_state": 0}},
                "metrics": {"scoring": {"primary_scoring": "accuracy", "secondary_scoring": ["roc_auc", "f1"]}}},
            "input_options": {"selected_input": "refseq_and_interval", **inputs, "header2": False,
                              "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
            "save": list(save)}


def outputs(tmp_path):
    return {name: str(tmp_path / f"{name}.out") for name in OUTPUTS}


def variant_params(model, genome, vcf, **more):
    return {"infile_estimator": str(model), "method": "predict_proba",
            "input_options": {"selected_input": "variant_effect", "ref_genome_file": str(genome),
                              "blacklist_regions": "none", "vcf_file": str(vcf), "seq_length": 100,
                              "output_reference": False, **more}}


# ---- bgzip + tabix ------------------------------------------------------------------------------

def test_tabix_index_answers_every_query_as_a_scan_does(tmp_path):
    """The index written in Python is read by selene's tabix (pytabix): each query returns exactly the
    overlapping lines, on long and short features across many 16 kb windows and bins."""
    import tabix

    rng = random.Random(3)
    rows = []
    for number in range(3000):
        chrom = rng.choice(["chr1", "chr2", "chrX"])
        start = rng.randrange(0, 3_000_000)
        rows.append((number, [chrom, str(start), str(start + rng.choice([1, 50, 900, 40_000, 300_000])), f"f{number % 4}"]))
    path = genomic.bgzip_and_index(rows, str(tmp_path / "t.bed.gz"))
    lines = gzip.open(path, "rt").read().splitlines()
    keys = [(line.split("\t")[0], int(line.split("\t")[1])) for line in lines]
    assert len(lines) == 3000 and keys == sorted(keys)  # sorted, and a valid gzip (BGZF) file
    handle = tabix.open(path)
    for _ in range(200):
        chrom, start = rng.choice(["chr1", "chr2", "chrX"]), rng.randrange(0, 3_100_000)
        end = start + rng.choice([1, 100, 20_000, 500_000])
        found = sorted(tuple(row[:4]) for row in handle.query(chrom, start, end))
        expected = sorted(tuple(cells) for _, cells in rows
                          if cells[0] == chrom and int(cells[1]) < end and int(cells[2]) > start)
        assert found == expected


# ---- keras_batch_models --------------------------------------------------------------------------

def test_build_stores_the_old_fields_and_no_path(tmp_path, write_inputs, run_script):
    out = tmp_path / "model.h5mlm"
    result = run_script("keras_batch_models.py", "--inputs", write_inputs(build_form()), "--outfile", out)
    assert result.returncode == 0, result.stderr
    assert ("generator GenomicIntervalBatchGenerator (seq_length 100, shuffle True, seed 999, blacklist_regions hg38, "
            "center_bin_to_predict 20, feature_thresholds 0.5, random_state 7)") in result.stdout
    assert stored_params(out)["data_batch_generator"] == SPEC
    generator = load_estimator(str(out), "model").data_batch_generator
    assert type(generator).__name__ == "GenomicIntervalBatchGenerator"
    assert generator.ref_genome_path is generator.target_path is generator.intervals_path is None
    assert generator.features == "infer" and generator.center_bin_to_predict == 20


def test_empty_fields_take_galaxy_ml_defaults():
    spec = kbm.generator_params({"generator_type": "GenomicIntervalBatchGenerator", "seq_length": None,
                                 "shuffle": False, "seed": None, "blacklist_regions": "hg19",
                                 "center_bin_to_predict": None, "feature_thresholds": None, "random_state": None})
    assert spec == {"generator_type": "GenomicIntervalBatchGenerator", "seq_length": 1000, "shuffle": False,
                    "seed": None, "blacklist_regions": "hg19", "center_bin_to_predict": 200,
                    "feature_thresholds": None, "random_state": None}
    assert kbm.generator_params({**spec, "feature_thresholds": 1})["feature_thresholds"] == 1.0


@pytest.mark.parametrize("change, message", [
    (dict(center_bin_to_predict=120), r"center_bin_to_predict \(120\) must be at most seq_length \(100\)"),
    (dict(center_bin_to_predict=25), r"seq_length - center_bin_to_predict even"),
    (dict(feature_thresholds=1.5), "feature_thresholds must be empty or a number from 0 to 1"),
    (dict(blacklist_regions="/data/my_blacklist.bed.gz"), "blacklist_regions must be one of hg38, hg19"),
    (dict(seq_length=50, center_bin_to_predict=20), r"the model's input shape is \(100, 4\), but its "
                                                    r"GenomicIntervalBatchGenerator \(seq_length 50\) encodes"),
])
def test_form_errors_are_one_line(change, message):
    with pytest.raises(ToolInputError, match="^Select a batch data generator: .*" + message):
        kbm.build_estimator(build_form(**change))


@pytest.mark.parametrize("change, message", [
    (lambda g: g.update(ref_genome_path="/etc/passwd"), "has a field 'ref_genome_path'.*a stored file path is refused"),
    (lambda g: g.update(intervals_path="/etc/hosts"), "has a field 'intervals_path'"),
    (lambda g: g.update(target_path="/x.bed.gz"), "has a field 'target_path'"),
    (lambda g: g.update(features=["featA"]), "has a field 'features'"),
    (lambda g: g.update(blacklist_regions="/home/user/list.bed.gz"), "blacklist_regions must be one of hg38, hg19"),
    (lambda g: g.update(blacklist_regions=None), "blacklist_regions must be one of"),
    (lambda g: g.update(feature_thresholds={"default": 0.5}), "feature_thresholds must be empty or a number"),
    (lambda g: g.update(random_state="0"), "random_state must be empty or an integer >= 0"),
    (lambda g: g.update(center_bin_to_predict=10 ** 7), "center_bin_to_predict must be an integer from 1"),
    (lambda g: g.update(center_bin_to_predict=101), r"center_bin_to_predict \(101\) must be at most seq_length"),
    (lambda g: g.update(generator_type="GenomicVariantBatchGenerator"), "is a 'GenomicVariantBatchGenerator'; only"),
])
def test_hostile_model_files_are_refused_before_loading(tmp_path, change, message):
    model = tmp_path / "model.h5mlm"
    shutil.copy(UNTRAINED, model)
    check_h5mlm(str(model), "model")
    rewrite_params(model, lambda params: change(params["data_batch_generator"]))
    with pytest.raises(ToolInputError, match=message):
        check_h5mlm(str(model), "model")


def test_a_fasta_field_set_cannot_become_a_genomic_generator_that_cannot_sample(tmp_path):
    """A FASTA model whose type is edited to the genomic generator keeps seq_length 50: galaxy-ml's default
    center bin (200) does not fit, which is refused before loading (galaxy-ml would fail only when training)."""
    model = tmp_path / "model.h5mlm"
    shutil.copy(TEST_DATA / "fasta_dna_untrained.h5mlm", model)
    rewrite_params(model, lambda p: p["data_batch_generator"].update(generator_type="GenomicIntervalBatchGenerator"))
    with pytest.raises(ToolInputError, match=r"center_bin_to_predict \(200\) must be at most seq_length \(50\)"):
        check_h5mlm(str(model), "model")


# ---- training and prediction ---------------------------------------------------------------------

def test_train_on_genome_and_intervals_then_predict_variants(tmp_path, monkeypatch):
    """3 epochs on 24 of the 33 intervals; the unsorted target BED is indexed in the working directory (never
    beside the dataset); the trained model keeps neither a path nor the feature list; it predicts the VCF."""
    monkeypatch.chdir(tmp_path)
    inputs = datasets(tmp_path)
    first = TARGETS.read_text().splitlines()
    assert first != sorted(first, key=lambda line: (line.split("\t")[0], int(line.split("\t")[1])))  # unsorted
    out = outputs(tmp_path)
    kte.train_and_evaluate(train_params(UNTRAINED, inputs), out)
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("dataset_")) == [
        f"dataset_{n}.dat" for n in range(4)]  # no .fai, .gz or .tbi beside the datasets
    staged = next(tmp_path.glob("fasta_*"))
    assert sorted(path.name for path in staged.iterdir()) == ["genome.fasta", "genome.fasta.fai", "intervals.bed",
                                                              "targets.bed.gz", "targets.bed.gz.tbi"]
    result = [line.split("\t") for line in open(out["outfile_result"]).read().splitlines()]
    assert result[0] == ["metric", "validation"] and [row[0] for row in result[1:]] == ["accuracy", "roc_auc", "f1",
                                                                                         "loss"]
    assert all(0 <= float(row[1]) <= 1 for row in result[1:4]) and float(result[4][1]) > 0
    true = [line.split("\t") for line in open(out["outfile_y_true"]).read().splitlines()]
    preds = [line.split("\t") for line in open(out["outfile_y_preds"]).read().splitlines()]
    assert true[0] == ["featA", "featB"] and len(true) == 1 + 9  # 25 % of 33 intervals
    assert preds[0] == ["featA", "featB", "probability_featA", "probability_featB"] and len(preds) == 10
    # the targets are the genome's: each validation interval's middle is (or is not) covered by a featA peak
    assert {row[0] for row in true[1:]} == {"0", "1"}
    params = stored_params(out["outfile_object"])
    assert params["data_batch_generator"] == SPEC and "classes_" not in params
    trained = load_estimator(out["outfile_object"], "trained")
    assert trained.data_batch_generator.target_path is None and list(trained.classes_) == [0, 1]

    predicted = tmp_path / "variants.tsv"
    monkeypatch.chdir(tmp_path)
    assert mp.run(variant_params(out["outfile_object"], inputs["ref_genome_file"], VCF), str(predicted)) == 7
    rows = [line.split("\t") for line in predicted.read_text().splitlines()]
    assert rows[0] == ["chrom", "pos", "name", "ref", "alt", "strand", "0", "1"]
    assert [row[:5] for row in rows[1:]] == [["chr1", "430", "v1", "T", "A"], ["chr1", "711", "v2", "T", "G"],
                                             ["chr1", "1300", "v3", "C", "TT"], ["chr2", "290", "v4", "A", "C"],
                                             ["chr2", "1000", "v5", "TC", "T"], ["chr2", "1500", "v6", "T", "A"],
                                             ["chr2", "1500", "v6", "T", "C"]]
    assert all(0 <= float(value) <= 1 for row in rows[1:] for value in row[6:])


def test_reference_sequences_differ_from_variant_sequences(tmp_path, monkeypatch):
    """output_reference encodes the genome's own bases: a substitution's prediction changes with it."""
    monkeypatch.chdir(tmp_path)
    variant, reference = tmp_path / "variant.tsv", tmp_path / "reference.tsv"
    mp.run(variant_params(TRAINED, GENOME, VCF), str(variant))
    mp.run(variant_params(TRAINED, GENOME, VCF, output_reference=True), str(reference))
    alt = np.array([[float(v) for v in line.split("\t")[6:]] for line in variant.read_text().splitlines()[1:]])
    ref = np.array([[float(v) for v in line.split("\t")[6:]] for line in reference.read_text().splitlines()[1:]])
    assert alt.shape == ref.shape == (7, 2) and not np.allclose(alt, ref)
    assert np.allclose(ref[5], ref[6])  # both alleles of v6 have the same reference sequence


@pytest.mark.parametrize("replace, message", [
    (dict(interval_file="chr1\t100\t140\nchr3\t100\t140\n"),
     "^Dataset containing sequence intervals for training: line 2: 'chr3' is not a sequence of the reference genome"),
    (dict(interval_file="chr1\t2990\t3010\n"),
     "^Dataset containing sequence intervals for training: line 1: end 3010 is outside chr1 \\(length 3000\\)"),
    (dict(interval_file="track name=x\nchr2\t10\t40\n"),
     r"^Dataset containing sequence intervals for training: line 2: the 100 bases \(seq_length\) around the middle "
     r"of chr2:10-40 reach outside chr2"),
    (dict(interval_file="chr1\t140\t100\n"), "^Dataset containing sequence intervals for training: line 1: start 140 "
                                             "and end 100; expected 0 <= start < end"),
    (dict(target_file="chr1\t100\t160\n"), "^Dataset containing positions and features for target values: line 1 has "
                                           "3 tab-separated columns; expected at least 4"),
    (dict(target_file="chr1\t1e2\t160\tfeatA\n"), "^Dataset containing positions and features for target values: "
                                                  "line 1: start: '1e2' is not a whole number from 0 to 2,147,483,647"),
    (dict(interval_file="chr1\t100\t1\u00b2\n"), "^Dataset containing sequence intervals for training: line 1: end: "
                                                 "'1\u00b2' is not a whole number"),  # '\u00b2'.isdigit() is true
    (dict(interval_file="chr1\t\u0661\u0660\u0660\t140\n"), "^Dataset containing sequence intervals for training: "
                                                       "line 1: start: '\u0661\u0660\u0660' is not a whole number"),
    (dict(target_file="chrM\t100\t160\tfeatA\n"), "^Dataset containing positions and features for target values: "
                                                  "line 1: 'chrM' is not a sequence of the reference genome"),
    (dict(infile2="featA\nfeatC\n"), "^Dataset containing the feature list for prediction: 'featC' is not a feature "
                                     "of Dataset containing positions and features for target values"),
    (dict(infile2="featA\n"), "^Dataset containing the feature list for prediction: 1 features, but the model's last "
                              "layer has 2 units"),
    (dict(ref_genome_file="ACGT\n"), "^Dataset containing reference genomic sequence: "),
])
def test_bad_inputs_are_one_line_naming_the_dataset(tmp_path, monkeypatch, replace, message):
    monkeypatch.chdir(tmp_path)
    out = outputs(tmp_path)
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(train_params(UNTRAINED, datasets(tmp_path, **replace)), out)


def test_intervals_that_cannot_be_encoded_are_refused_before_training(tmp_path, monkeypatch):
    """galaxy-ml would draw other intervals without end (a job running until its time limit); ours stops
    with one line before training when no interval of a set is encodable: here every interval lies on
    chrM, which the hg19 blacklist covers whole."""
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "hg19.h5mlm"
    shutil.copy(UNTRAINED, model)
    rewrite_params(model, lambda params: params["data_batch_generator"].update(blacklist_regions="hg19"))
    chr_m = "".join(random.Random(0).choice("ACGT") for _ in range(2000))
    on_chr_m = "".join(f"chrM\t{start}\t{start + 40}\n" for start in range(100, 1800, 100))
    monkeypatch.setattr(kte, "train", lambda *args, **kwargs: pytest.fail("trained on unencodable intervals"))
    inputs = datasets(tmp_path, ref_genome_file=GENOME.read_text() + f">chrM\n{chr_m}\n", interval_file=on_chr_m)
    with pytest.raises(ToolInputError, match=r"^Dataset containing sequence intervals for training: none of the \d+ "
                                             r"intervals of the train set can be encoded at its middle"):
        kte.train_and_evaluate(train_params(model, inputs), outputs(tmp_path))


def test_compressed_target_is_refused(tmp_path, monkeypatch):
    """A bgzipped BED given as a dataset (not as Galaxy would decompress an upload) is named, not misread."""
    monkeypatch.chdir(tmp_path)
    inputs = datasets(tmp_path)
    genomic.bgzip_and_index(genomic.read_bed(str(TARGETS), "t", 4), inputs["target_file"])
    with pytest.raises(ToolInputError, match="^Dataset containing positions and features for target values: not a "
                                             "text file"):
        kte.train_and_evaluate(train_params(UNTRAINED, inputs), outputs(tmp_path))


def test_job_errors_through_the_command_line(tmp_path, monkeypatch, write_inputs, run_script):
    """stderr is the one Error line; no output is left behind."""
    monkeypatch.chdir(tmp_path)
    params = train_params(UNTRAINED, datasets(tmp_path, interval_file="chr9\t1\t50\n"))
    out = outputs(tmp_path)
    result = run_script("keras_train_and_eval.py", "--inputs", write_inputs(params), "--outfile_result",
                        out["outfile_result"], "--outfile_object", out["outfile_object"])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Error: Dataset containing sequence intervals for training: line 1: "
                                                  "'chr9' is not a sequence of the reference genome (chr1, chr2)"]
    assert not any((tmp_path / f"{name}.out").exists() for name in OUTPUTS)


@pytest.mark.parametrize("model, selected, message", [
    (UNTRAINED, "seq_fasta", r"^Select input type: seq_fasta, but the model's generator is a "
                             r"GenomicIntervalBatchGenerator, which trains on 'reference genome and intervals'"),
    (TEST_DATA / "fasta_dna_untrained.h5mlm", "refseq_and_interval",
     r"^Select input type: refseq_and_interval, but the model's generator is a FastaDNABatchGenerator, which trains "
     r"on 'sequences in a fasta file'"),
    (TEST_DATA / "imdb_untrained.h5mlm", "refseq_and_interval", "^Select input type: refseq_and_interval, but the "
                                                                "model is a KerasGClassifier"),
])
def test_input_type_must_match_the_generator(tmp_path, monkeypatch, model, selected, message):
    monkeypatch.chdir(tmp_path)
    params = train_params(model, datasets(tmp_path))
    params["input_options"].update(selected_input=selected, fasta_path=str(TEST_DATA / "fasta_dna_seqs.fasta"))
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(params, outputs(tmp_path))


def test_stratified_holdout_and_class_weights_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ToolInputError, match="^Validation holdout: stratified splitting needs a class label per "
                                             "sample"):
        kte.train_and_evaluate(train_params(UNTRAINED, datasets(tmp_path), shuffle="stratified"), outputs(tmp_path))
    params = train_params(UNTRAINED, datasets(tmp_path))
    params["class_weights"] = [{"class_weight_selection": {"class_weight_type": "balanced"}}]
    with pytest.raises(ToolInputError, match="^Class weights: not for a reference genome and intervals"):
        kte.train_and_evaluate(params, outputs(tmp_path))


@pytest.mark.parametrize("vcf, more, message", [
    (None, dict(seq_length=200), r"^Encoding sequence length: 200: each variant is encoded as \(200, 4\), but the "
                                 r"model's input shape is \(100, 4\)"),
    ("#CHROM\tPOS\tID\tREF\tALT\nchr1\tx\tv\tA\tC\n", {}, "^Dataset containing sequence variations: line 2: POS: 'x' "
                                                         "is not a whole number from 1 to 2,147,483,647"),
    ("#CHROM\tPOS\tID\tREF\tALT\nchr1\t\u00b2\tv\tA\tC\n", {}, "^Dataset containing sequence variations: line 2: "
                                                              "POS: '\u00b2' is not a whole number"),
    ("#CHROM\tPOS\tID\tREF\tALT\nchr1\t4294967297\tv\tA\tC\n", {}, "^Dataset containing sequence variations: "
                                                                  "line 2: POS: '4294967297' is not a whole number"),
    ("#CHROM\tPOS\tID\tREF\tALT\nchr1\t5\tv\tA\t<DEL>\n", {}, "^Dataset containing sequence variations: line 2: REF "
                                                             "'A' and ALT '<DEL>' must be bases"),
    ("#CHROM\tPOS\tID\tREF\tALT\n7\t500\tv\tA\tC\nchr1\t5\tw\tA\tC\n", {},
     "^Dataset containing sequence variations: none of its 2 variants lies on the reference genome with 100 bases"),
    (None, dict(blacklist_regions="/etc/blacklist.bed.gz"), "^blacklist regions: unknown '/etc/blacklist"),
])
def test_variant_errors_are_one_line(tmp_path, monkeypatch, vcf, more, message):
    monkeypatch.chdir(tmp_path)
    path = VCF
    if vcf is not None:
        path = tmp_path / "variants.dat"
        path.write_text(vcf)
    out = tmp_path / "out.tsv"
    with pytest.raises(ToolInputError, match=message):
        mp.run(variant_params(TRAINED, GENOME, path, **more), str(out))
    assert not out.exists()


def test_variant_effect_refuses_a_table_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ToolInputError, match=r"^Encoding sequence length: 100: each variant is encoded as \(100, 4\), "
                                             r"but the model's input shape is \(100,\)"):
        mp.run(variant_params(TEST_DATA / "imdb_trained.h5mlm", GENOME, VCF), str(tmp_path / "out.tsv"))


# ---- multi-label scores --------------------------------------------------------------------------

def test_multilabel_scores_are_scikit_learns():
    from sklearn import metrics

    y = np.array([[1, 0], [1, 1], [0, 0], [0, 1], [1, 0]])
    proba = np.array([[0.9, 0.2], [0.6, 0.4], [0.3, 0.1], [0.2, 0.8], [0.4, 0.3]])
    p = Prediction(y=y, labels=(proba > 0.5).astype(int), proba=proba, classes=np.arange(2))
    assert compute("accuracy", p) == pytest.approx(0.6)  # rows 1, 3 and 4 have every feature right
    assert compute("f1", p) == pytest.approx(metrics.f1_score(y, p.labels, average="macro"))
    assert compute("f1_samples", p) == pytest.approx(metrics.f1_score(y, p.labels, average="samples"))
    assert compute("roc_auc", p) == pytest.approx(np.mean([metrics.roc_auc_score(y[:, j], proba[:, j])
                                                           for j in range(2)]))
    assert compute("neg_log_loss", p) == pytest.approx(-metrics.log_loss(y.ravel(), proba.ravel()))
    constant = Prediction(y=np.zeros((3, 2), int), labels=np.zeros((3, 2), int), proba=np.full((3, 2), 0.2),
                          classes=np.arange(2))
    assert np.isnan(compute("roc_auc", constant)) and compute("accuracy", constant) == 1.0


def test_one_feature_trains_as_binary_with_a_test_holdout(tmp_path, monkeypatch, write_text):
    """One feature, a model ending in one sigmoid unit: binary scores (roc_auc of class 1), y_true a column of
    0/1, predictions with both class probabilities; train_val_test holds out the test intervals first."""
    monkeypatch.chdir(tmp_path)
    config = json.loads(open(MODEL_JSON).read())
    config["config"]["layers"][-1]["config"]["units"] = 1
    form = build_form()
    form["mode_selection"]["infile_json"] = write_text(json.dumps(config), "one_unit.json")
    model = tmp_path / "one_unit.h5mlm"
    from gxkeras.modelfile.h5mlm import save_estimator

    save_estimator(kbm.build_estimator(form), str(model))
    out = outputs(tmp_path)
    kte.train_and_evaluate(train_params(model, datasets(tmp_path, infile2="featA\n"), scheme="train_val_test"), out)
    result = [line.split("\t") for line in open(out["outfile_result"]).read().splitlines()]
    assert result[0] == ["metric", "validation", "test"] and len(result) == 5
    true = open(out["outfile_y_true"]).read().splitlines()
    assert true[0] == "y_true" and len(true) == 1 + 9 and set(true[1:]) <= {"0", "1"}  # 25 % of 33 for the test
    assert open(out["outfile_y_preds"]).read().splitlines()[0] == "y_preds\tprobability_0\tprobability_1"
    with pytest.raises(ToolInputError, match="^Test holdout: stratified splitting needs a class label"):
        kte.train_and_evaluate(train_params(model, datasets(tmp_path, infile2="featA\n"), scheme="train_val_test",
                             shuffle="stratified"), out)


# ---- lines read within their bound, one-hot tables checked against the job's memory ----------------

def test_a_vcf_line_longer_than_the_bound_is_refused_while_reading(tmp_path, monkeypatch):
    from gxkeras.data import lines

    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 100)
    vcf = tmp_path / "variants.dat"
    vcf.write_text("#CHROM\tPOS\tID\tREF\tALT\tINFO\nchr1\t5\tv\tA\tC\t" + "x" * 200 + "\n")
    with pytest.raises(ToolInputError, match=r"^Dataset containing sequence variations: line 2 is longer than 100 "
                                             r"bytes"):
        genomic.stage_vcf(str(vcf), str(tmp_path))


def test_bed_lines_are_held_to_a_bgzf_block_while_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(genomic, "BED_LINE_BYTES", 50)
    bed = tmp_path / "targets.dat"
    bed.write_text("chr1\t1\t10\tfeatA\nchr1\t1\t10\t" + "f" * 60 + "\n")
    with pytest.raises(ToolInputError, match=r"^t: line 2 is longer than 50 bytes"):
        genomic.read_bed(str(bed), "t", 4)


def test_targets_beyond_what_a_tabix_index_bins_are_refused(tmp_path, monkeypatch):
    """A .tbi bins positions below 2^29; beyond, reg2bin's bins overlap those of the level below (a wrong index,
    silently). The bound is made small here: the test genome's chr1 has 3,000 bases."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(genomic, "TBI_MAX_POSITION", 1000)
    inputs = datasets(tmp_path, target_file="chr1\t100\t160\tfeatA\nchr1\t900\t1200\tfeatB\n")
    with pytest.raises(ToolInputError, match=r"^Dataset containing positions and features for target values: line 2: "
                                             r"end 1,200 is beyond 1,000, the largest position a tabix index holds"):
        kte.train_and_evaluate(train_params(UNTRAINED, inputs), outputs(tmp_path))


def test_a_fasta_line_too_long_for_pyfaidx_to_index_in_the_jobs_memory(tmp_path, monkeypatch):
    """pyfaidx reads each line whole (an unwrapped chromosome is one line): the file is scanned in blocks first.
    Blocks of 64 bytes and a budget of 1,200 bytes (a bound of 200 bytes a line) stand for 1 MiB and gigabytes."""
    from gxkeras.data import fasta
    from gxkeras.data import lines
    from gxkeras.galaxy import memory

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lines, "SCAN_BLOCK_BYTES", 64)
    monkeypatch.setenv(memory.LIMIT_VARIABLE, "1200")
    genome = tmp_path / "genome.dat"
    genome.write_text(">chr1\n" + "ACGT" * 40 + "\n>chr2\n" + "ACGT" * 60 + "\n")  # lines of 160 and 240 bases
    staged = fasta.stage_fasta(str(genome), "Genome")
    with pytest.raises(ToolInputError, match=r"^Genome: line 4 is longer than 200 bytes, which pyfaidx reads whole while "
                                             r"indexing"):
        fasta.sequence_lengths(staged, "Genome")
    genome.write_text(">chr1\n" + "ACGT" * 40 + "\n>chr2\n" + "ACGT" * 50 + "\n")  # 200 bases: within the bound
    assert fasta.sequence_lengths(fasta.stage_fasta(str(genome), "Genome"), "Genome") == {"chr1": 160, "chr2": 200}


@pytest.mark.parametrize("text, longest", [("a" * 10 + "\n" + "b" * 300 + "\nc\n", 2), ("a" * 300, 1),
                                           ("\n" * 70 + "b" * 201, 71), ("a" * 63 + "\n" + "b" * 199 + "\n", None)])
def test_the_block_scan_finds_the_line_that_is_too_long(tmp_path, monkeypatch, text, longest):
    from gxkeras.data import lines

    monkeypatch.setattr(lines, "SCAN_BLOCK_BYTES", 64)
    path = tmp_path / "f.txt"
    path.write_text(text)
    if longest is None:
        lines.check_line_lengths(str(path), "F", 200, "why")
        return
    with pytest.raises(ToolInputError, match=rf"^F: line {longest} is longer than 200 bytes, why$"):
        lines.check_line_lengths(str(path), "F", 200, "why")


class Unencodable:
    """A generator whose tables are too large to encode: it must never be asked to."""
    seq_length, n_bases = 100_000, 20

    def apply_transform(self, *args, **kwargs):
        pytest.fail("encoded before its size was checked")

    sample = set_processing_attrs = apply_transform


def test_one_hot_tables_are_checked_before_they_are_encoded(monkeypatch):
    """10^4 sequences of the form's largest seq_length (100,000 x 20 float32) are 80 GB."""
    from gxkeras.data import fasta
    from gxkeras.galaxy import memory

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(8 * 1024 ** 3))
    indices = np.arange(10_000)[:, None]
    with pytest.raises(ToolInputError, match=r"^Dataset containing fasta genomic/protein sequences: encoding, 10,000 "
                                             r"sequences of 100,000 x 20 one-hot values, needs 74\.5 GB"):
        fasta.encode(Unencodable(), indices)
    with pytest.raises(ToolInputError, match=r"^Dataset containing sequence intervals for training: encoding its "
                                             r"intervals, 10,000 sequences of 100,000 x 4 one-hot values, needs 14\.9 GB"):
        genomic.encode_intervals(Unencodable(), indices)
    # predicting: a chunk of at most 256 MB, whatever the chunk of rows asked
    assert fasta.one_hot_chunk_rows(4096, 100_000, 20) == 33 and fasta.one_hot_chunk_rows(4096, 1000, 4) == 4096
