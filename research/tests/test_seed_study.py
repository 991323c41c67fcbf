"""research/seed_study.py --report: the tables docs/results.md quotes."""
import json

import seed_study


def run(variant, seed, accuracy):
    return {"variant": variant, "seed": seed, "train_rows": 20000, "tn": 1, "fp": 2, "fn": 3, "tp": 4,
            "accuracy": accuracy, "train_s": 1.0, "history": {"val_acc": [0.5, 0.75]}}


def test_report_summarises_each_variant_and_lists_every_run(tmp_path):
    path = tmp_path / "study.jsonl"
    runs = [run("base", 2, 0.80), run("base", 1, 0.87), run("base", 3, 0.70), run("epochs3", 0, 0.88)]
    path.write_text("".join(json.dumps(item) + "\n" for item in runs))
    lines = seed_study.report(path).splitlines()
    assert "| base | 3 | 0.7000 / 0.8000 / 0.8700 | 1 |" in lines
    assert "| epochs3 | 1 | 0.8800 / 0.8800 / 0.8800 | 1 |" in lines
    run_rows = [line for line in lines if line.startswith("| base | ") and line.count("|") == 9]
    assert [row.split("|")[2].strip() for row in run_rows] == ["1", "2", "3"]  # by seed
    assert "| base | 1 | 1 | 2 | 3 | 4 | 0.8700 | 0.500, 0.750 |" in lines


def test_report_keeps_runs_with_the_sparse_fix_apart(tmp_path):
    path = tmp_path / "study.jsonl"
    runs = [run("base", 0, 0.75), {**run("base", 0, 0.87), "sparse_fix": True},
            {**run("base", 1, 0.70), "sparse_fix": False}]
    path.write_text("".join(json.dumps(item) + "\n" for item in runs))
    lines = seed_study.report(path).splitlines()
    assert "| base | 2 | 0.7000 / 0.7250 / 0.7500 | 0 |" in lines  # older records have no sparse_fix key
    assert "| base, fixed | 1 | 0.8700 / 0.8700 / 0.8700 | 1 |" in lines
    assert "| base, fixed | 0 | 1 | 2 | 3 | 4 | 0.8700 | 0.500, 0.750 |" in lines


def test_report_keeps_reshuffled_runs_apart(tmp_path):
    path = tmp_path / "study.jsonl"
    runs = [{**run("base", 0, 0.80), "sparse_fix": True}, {**run("base", 0, 0.86), "sparse_fix": True,
                                                           "epoch_reshuffle": True}]
    path.write_text("".join(json.dumps(item) + "\n" for item in runs))
    lines = seed_study.report(path).splitlines()
    assert "| base, fixed | 1 | 0.8000 / 0.8000 / 0.8000 | 0 |" in lines
    assert "| base, fixed, reshuffled | 1 | 0.8600 / 0.8600 / 0.8600 | 1 |" in lines
