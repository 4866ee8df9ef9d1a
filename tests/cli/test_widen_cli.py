"""`mlsurgery widen` writes the widened model, prints what changed, and fails in one line."""

import pytest

from conftest import FIXTURES
from mlsurgery.cli.widen import widen_command
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec
from mlsurgery.ops.inits import WIDEN_INITS

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _labels(path):
    return list(LayerGraph.trainable(load_spec(path)).network.stringClassLabels.vector)


def test_widen_writes_labels_and_prints_the_changes(run_cli, tmp_path):
    out = tmp_path / "wide.mlmodel"
    result = run_cli("widen", SQUEEZENET, "--layer", "fullyconnected0", "--classes", "5", "--labels", "lizard,spock",
                     "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "outputChannels 3 → 5" in result.stdout and f"wrote {out}" in result.stdout
    assert _labels(out) == ["rock", "paper", "scissors", "lizard", "spock"]


def test_dry_run_writes_nothing(run_cli, tmp_path):
    out = tmp_path / "wide.mlmodel"
    result = run_cli("widen", SQUEEZENET, "--layer", "fullyconnected0", "--classes", "10", "-o", out, "--dry-run")
    assert result.exit_code == 0 and "dry run" in result.stdout and not out.exists()


def test_kaiming_prints_its_seed_and_the_seed_repeats_the_file(run_cli, tmp_path):
    first = run_cli("widen", SQUEEZENET, "--layer", "fullyconnected0", "--classes", "10", "--init", "kaiming",
                    "-o", tmp_path / "a.mlmodel")
    seed = first.stdout.split("--seed ")[1].split(" ")[0]
    run_cli("widen", SQUEEZENET, "--layer", "fullyconnected0", "--classes", "10", "--init", "kaiming",
            "--seed", seed, "-o", tmp_path / "b.mlmodel")
    assert (tmp_path / "a.mlmodel").read_bytes() == (tmp_path / "b.mlmodel").read_bytes()


def test_output_equal_to_input_needs_in_place(run_cli, fixture_copy):
    model = fixture_copy("turi_squeezenet.mlmodel")
    before = model.read_bytes()
    refused = run_cli("widen", model, "--layer", "fullyconnected0", "--classes", "10", "-o", model)
    assert refused.exit_code == 2 and "pass --in-place" in refused.stderr and model.read_bytes() == before
    done = run_cli("widen", model, "--layer", "fullyconnected0", "--classes", "10", "-o", model, "--in-place")
    assert done.exit_code == 0 and len(_labels(model)) == 10


@pytest.mark.parametrize("args, message", [
    (["--layer", "fullyconnected0", "--classes", "2"], "shrinking to 2 is refused"),
    (["--layer", "fullyconected0", "--classes", "5"], "did you mean 'fullyconnected0'"),
    (["--layer", "fullyconnected0", "--classes", "5", "--seed", "1"], "--seed has no effect with --init zeros"),
    (["--layer", "fire9/expand1x1", "--classes", "300"], "layer 'fire9/concat' (concat) reads the widened blob"),
])
def test_errors_are_one_line_with_exit_2(run_cli, tmp_path, args, message):
    result = run_cli("widen", SQUEEZENET, *args, "-o", tmp_path / "out.mlmodel")
    assert result.exit_code == 2
    assert result.stderr.startswith("mlsurgery: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "out.mlmodel").exists()


def test_cli_offers_exactly_the_operations_inits():
    init = next(param for param in widen_command.params if param.name == "init")
    assert tuple(init.type.choices) == WIDEN_INITS


def _rejected_model(tmp_path):
    """The SqueezeNet marked updatable without any updatable layer, which Core ML rejects (MLS200)."""
    from mlsurgery.io import save_spec

    spec = load_spec(SQUEEZENET)
    spec.isUpdatable = True
    spec.specificationVersion = max(spec.specificationVersion, 4)
    return save_spec(spec, tmp_path / "rejected.mlmodel")


def test_a_result_core_ml_rejects_is_not_written_without_force(run_cli, tmp_path):
    out = tmp_path / "wide.mlmodel"
    args = ("widen", _rejected_model(tmp_path), "--layer", "fullyconnected0", "--classes", "5", "-o", out)
    refused = run_cli(*args)
    assert refused.exit_code == 1 and not out.exists()
    assert "not written, Core ML would reject it: [MLS200]" in refused.stderr
    forced = run_cli(*args, "--force")
    assert forced.exit_code == 0 and out.exists() and "MLS200" in forced.stdout
