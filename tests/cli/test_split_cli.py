"""`mlsurgery split` end to end: an fp16 model becomes a valid pipeline; bad input is one line, exit 2."""

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.network import LayerGraph, pipeline_stages
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec

DECODER = SHARED_MODELS / "fp16_lstm_decoder.mlmodel"


def test_fp16_model_becomes_valid_pipeline_with_fp32_head(run_cli, tmp_path):
    out = tmp_path / "Split.mlmodel"
    result = run_cli("split", DECODER, "--at", "decoder_lstm_output", "-o", out)
    assert result.exit_code == 0, result.stderr
    spec = load_spec(out)
    assert validate_spec(spec).valid
    head = pipeline_stages(spec)[-1]
    assert "fp16" not in {layer.storage for layer in LayerGraph.trainable(head).layers}
    assert [layer.name for layer in LayerGraph.trainable(head).layers if layer.is_updatable] == ["dense_2"]


@pytest.mark.parametrize("model, blob, message", [
    (DECODER, "nope", "no blob named 'nope'"),
    (FIXTURES / "turi_squeezenet.mlmodel", "fire9/relu_expand1x1", "the head must read only"),
    (SHARED_MODELS / "createml_flower_classifier.mlmodel", "sceneprint", "not a neural network"),
], ids=["missing-blob", "skip-across-cut", "no-network"])
def test_bad_input_is_one_line_exit_2_nothing_written(run_cli, tmp_path, model, blob, message):
    out = tmp_path / "out.mlmodel"
    result = run_cli("split", model, "--at", blob, "-o", out)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
