"""`mlsurgery reinit` re-draws the named layers repeatably and fails in one line."""

import numpy as np
import pytest

from conftest import FIXTURES
from mlsurgery.cli.reinit import reinit_command
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec
from mlsurgery.ops.inits import REINIT_INITS

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _weights(path, layer):
    return np.array(LayerGraph.trainable(load_spec(path)).layer(layer).params.weights.floatValue, dtype=np.float32)


def test_same_seed_gives_the_same_bytes_and_only_named_layers_change(run_cli, tmp_path):
    for name in ("a", "b"):
        result = run_cli("reinit", SQUEEZENET, "--layers", "fullyconnected0,conv10", "--seed", "7",
                         "-o", tmp_path / f"{name}.mlmodel")
        assert result.exit_code == 0, result.stderr
        assert "layer conv10" in result.stdout and "kaiming-uniform" in result.stdout
    assert (tmp_path / "a.mlmodel").read_bytes() == (tmp_path / "b.mlmodel").read_bytes()
    out = tmp_path / "a.mlmodel"
    assert _weights(out, "fire9/expand3x3").tobytes() == _weights(SQUEEZENET, "fire9/expand3x3").tobytes()
    assert _weights(out, "conv10").tobytes() != _weights(SQUEEZENET, "conv10").tobytes()


def test_without_seed_the_printed_seed_repeats_the_run(run_cli, tmp_path):
    first = run_cli("reinit", SQUEEZENET, "--layers", "fullyconnected0", "-o", tmp_path / "a.mlmodel")
    seed = first.stdout.split("--seed ")[1].split(" ")[0]
    run_cli("reinit", SQUEEZENET, "--layers", "fullyconnected0", "--seed", seed, "-o", tmp_path / "b.mlmodel")
    assert (tmp_path / "a.mlmodel").read_bytes() == (tmp_path / "b.mlmodel").read_bytes()


def test_layers_option_may_repeat_and_default_output_sits_beside_the_model(run_cli, fixture_copy):
    model = fixture_copy("turi_squeezenet.mlmodel")
    result = run_cli("reinit", model, "--layers", "fullyconnected0", "--layers", "conv10", "--init", "zeros")
    assert result.exit_code == 0, result.stderr
    out = model.with_name("turi_squeezenet_reinit.mlmodel")
    assert not _weights(out, "conv10").any() and not _weights(out, "fullyconnected0").any()


def test_dry_run_writes_nothing(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("reinit", SQUEEZENET, "--layers", "conv10", "--seed", "1", "-o", out, "--dry-run")
    assert result.exit_code == 0 and "dry run" in result.stdout and not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--layers", "pool10"], "'pool10' is a pooling layer"),
    (["--layers", "conv10", "--init", "zeros", "--seed", "3"], "--seed has no effect with --init zeros"),
    (["--layers", "conv10", "--seed", "-1"], "--seed -1 is negative"),
])
def test_errors_are_one_line_with_exit_2(run_cli, tmp_path, args, message):
    result = run_cli("reinit", SQUEEZENET, *args, "-o", tmp_path / "out.mlmodel")
    assert result.exit_code == 2
    assert result.stderr.startswith("mlsurgery: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "out.mlmodel").exists()


def test_cli_offers_exactly_the_operations_inits():
    init = next(param for param in reinit_command.params if param.name == "init")
    assert tuple(init.type.choices) == REINIT_INITS


def test_a_result_core_ml_rejects_is_not_written_without_force(run_cli, tmp_path):
    from mlsurgery.io import save_spec

    spec = load_spec(SQUEEZENET)
    spec.isUpdatable = True  # with no updatable layer: Core ML rejects it (MLS200)
    spec.specificationVersion = max(spec.specificationVersion, 4)
    rejected = save_spec(spec, tmp_path / "rejected.mlmodel")
    out = tmp_path / "reinit.mlmodel"
    args = ("reinit", rejected, "--layers", "fullyconnected0", "--seed", "1", "-o", out)
    refused = run_cli(*args)
    assert refused.exit_code == 1 and not out.exists()
    assert "not written, Core ML would reject it: [MLS200]" in refused.stderr
    forced = run_cli(*args, "--force")
    assert forced.exit_code == 0 and out.exists() and "MLS200" in forced.stdout
