"""`mlsurgery widen` writes the widened model, prints what changed, and fails in one line."""

import pytest

from conftest import FIXTURES
from mlsurgery.cli.widen import INITS as CLI_INITS
from mlsurgery.graph import LayerGraph
from mlsurgery.io import load_spec
from mlsurgery.ops.widen import INITS

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _labels(path):
    return list(LayerGraph.of(load_spec(path)).network.stringClassLabels.vector)


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
    assert CLI_INITS == INITS
