"""mlsurgery evaluate and predict --data on the command line: tables for people, JSON for machines, one-line
errors with exit 2 and nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SHARED_MODELS

MODEL = SHARED_MODELS / "mnist_cnn.mlmodel"  # input 'input.1' [1, 28, 28], output '17': ten scores


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.pad(np.kron(digits.images[:60] / 16.0, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    np.savez(path, **{"input.1": images[:, None].astype(np.float32), "17": digits.target[:60]})
    return path


def test_table_shows_accuracy_per_class_scores_and_the_confusion_matrix(run_cli, digits):
    result = run_cli("evaluate", MODEL, digits)
    assert result.exit_code == 0, result.stderr
    assert "60 examples" in result.stdout and "accuracy" in result.stdout and "top-5" in result.stdout
    assert "precision" in result.stdout and "confusion matrix" in result.stdout


def test_json_lists_the_metrics_and_counts_every_example_once(run_cli, digits):
    result = run_cli("evaluate", MODEL, digits, "--format", "json", "--top-k", "3")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    [output] = report["outputs"]
    assert report["examples"] == 60 and output["output"] == "17" and output["task"] == "classification"
    metrics = output["metrics"]
    assert set(metrics) == {"examples", "accuracy", "top_k", "classes", "per_class", "macro_f1", "confusion_matrix"}
    assert np.array(metrics["confusion_matrix"]).sum() == 60
    assert set(metrics["top_k"]) == {"3"}
    assert [row["support"] for row in metrics["per_class"]] == np.bincount(
        np.load(digits)["17"], minlength=10).tolist()


def test_data_without_true_values_is_one_line_naming_what_to_add(run_cli, tmp_path):
    path = tmp_path / "no_labels.npz"
    np.savez(path, **{"input.1": np.zeros((3, 1, 28, 28), np.float32)})
    result = run_cli("evaluate", MODEL, path)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(path) in result.stderr and "(17)" in result.stderr


def test_an_unreadable_data_file_is_one_line(run_cli, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip archive")
    result = run_cli("evaluate", MODEL, broken)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and str(broken) in result.stderr


def test_predict_data_writes_csv_and_refuses_other_suffixes(run_cli, digits, tmp_path):
    result = run_cli("predict", MODEL, "--data", digits, "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert len(lines) == 61 and lines[0].startswith("example,17[0]")
    refused = run_cli("predict", MODEL, "--data", digits, "-o", tmp_path / "p.txt")
    assert refused.exit_code == 2 and ".csv or .jsonl" in refused.stderr and not (tmp_path / "p.txt").exists()
    alone = run_cli("predict", MODEL, "--data", digits)
    assert alone.exit_code == 2 and "-o" in alone.stderr


@pytest.mark.parametrize("command", [["evaluate", str(MODEL), "data.npz"],
                                     ["tune", str(MODEL), "data.npz", "--validation", "data.npz"],
                                     ["predict", str(MODEL), "--data", "data.npz", "-o", "p.csv"]])
def test_without_torch_each_command_exits_2_saying_what_to_install(command, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run([sys.executable, "-c", "import sys\nsys.modules['torch'] = None\n"
                           f"from mlsurgery.cli import main\nsys.exit(main({command!r}))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "pip install 'mlsurgery[train]'" in done.stderr
