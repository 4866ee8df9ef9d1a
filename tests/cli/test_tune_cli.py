"""mlsurgery tune on a model that does not learn at its default learning rate: it finds one that does, the
written defaults pass the validator and make plain `train` learn digits it has never seen; the same seed gives
the same trials."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import FIXTURES

from mlsurgery.evaluation import evaluate_file
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from sklearn.datasets import load_digits

    from mlsurgery.cli import main

    folder = tmp_path_factory.mktemp("tune")
    slow = folder / "slow.mlmodel"
    # SGD at 1e-6, inside its allowed range [1e-6, 1]: two epochs at that rate leave the network at chance.
    assert main(["make-updatable", str(FIXTURES / "mnist_mlp.mlmodel"), "--layers", "dense_3", "--optimizer", "sgd",
                 "--lr", "1e-6", "--lr-range", "1e-6,1", "--batch", "32", "--batch-values", "16,32", "--epochs", "2",
                 "--epochs-values", "1,2", "--seed", "1", "-o", str(slow)]) == 0
    digits = load_digits()
    images = np.pad(np.kron(digits.images / 16.0, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))[:, None]
    order = np.random.default_rng(0).permutation(len(images))
    images, labels = images[order].astype(np.float32), digits.target[order]
    for name, part in (("train", slice(0, 600)), ("validation", slice(600, 900)), ("test", slice(900, 1300))):
        np.savez(folder / f"{name}.npz", image=images[part], classLabel=labels[part])
    return folder, slow


def test_tune_finds_a_learning_rate_that_learns_and_writes_it_as_the_default(run_cli, setup):
    folder, slow = setup
    tuned = folder / "tuned.mlmodel"
    result = run_cli("tune", slow, folder / "train.npz", "--validation", folder / "validation.npz", "--trials", "3",
                     "--write-defaults", "-o", tuned, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["search"] == {"learning_rates": [1e-06, 0.001, 1.0], "mini_batch_sizes": [16, 32],
                                "epochs": [1, 2]}
    assert len(report["trials"]) == 12
    default = next(trial for trial in report["trials"] if trial["default"])
    best = report["best"]
    assert default["validation_accuracy"] < 0.2  # the model's own defaults do not learn
    assert best["validation_accuracy"] > 0.75 and best["learning_rate"] > 1e-6
    ranked = [trial["validation_loss"] for trial in report["trials"]]
    assert ranked == sorted(ranked)

    written = load_spec(tuned)
    assert validate_spec(written).valid
    sgd, original = written.neuralNetworkClassifier.updateParams, load_spec(slow).neuralNetworkClassifier.updateParams
    assert sgd.optimizer.sgdOptimizer.learningRate.defaultValue == best["learning_rate"]
    assert sgd.optimizer.sgdOptimizer.miniBatchSize.defaultValue == best["mini_batch_size"]
    assert sgd.epochs.defaultValue == best["epochs"]
    assert sgd.optimizer.sgdOptimizer.learningRate.range == original.optimizer.sgdOptimizer.learningRate.range
    assert list(sgd.optimizer.sgdOptimizer.miniBatchSize.set.values) == [16, 32]
    assert list(sgd.epochs.set.values) == [1, 2]

    # An app's MLUpdateTask uses the defaults with no code: plain train, no --set, then examples never seen.
    for model, name in ((tuned, "after"), (slow, "before")):
        assert run_cli("train", model, folder / "train.npz", "-o", folder / f"{name}.mlmodel").exit_code == 0
    after = evaluate_file(folder / "after.mlmodel", folder / "test.npz").classification().accuracy
    before = evaluate_file(folder / "before.mlmodel", folder / "test.npz").classification().accuracy
    assert before < 0.2 and after > 0.75
    print(f"tune: learningRate {best['learning_rate']:g}, miniBatchSize {best['mini_batch_size']}, "
          f"epochs {best['epochs']}; held-out accuracy {before:.3f} → {after:.3f}")


def test_the_same_seed_gives_the_same_trials_and_the_table_marks_the_defaults(run_cli, setup):
    folder, slow = setup
    runs = [run_cli("tune", slow, folder / "validation.npz", "--validation", folder / "test.npz", "--trials", "1",
                    "--seed", "7", "--format", "json") for _ in range(2)]
    assert runs[0].exit_code == 0 and runs[0].stdout == runs[1].stdout
    assert json.loads(runs[0].stdout)["parameters"]["seed"] == 7
    table = run_cli("tune", slow, folder / "validation.npz", "--validation", folder / "test.npz", "--trials", "1")
    assert table.exit_code == 0 and "the model's defaults" in table.stdout and "best: learningRate" in table.stdout


def test_write_defaults_needs_an_output_and_the_input_is_never_overwritten(run_cli, setup):
    folder, slow = setup
    result = run_cli("tune", slow, folder / "train.npz", "--validation", folder / "validation.npz",
                     "--write-defaults")
    assert result.exit_code == 2 and "-o" in result.stderr
    before = slow.read_bytes()
    same = run_cli("tune", slow, folder / "train.npz", "--validation", folder / "validation.npz",
                   "--write-defaults", "-o", slow)
    assert same.exit_code == 2 and slow.read_bytes() == before
