"""mlsurgery.jobs.run_job: load → operations → validate → save, refusing before any work what cannot be
written."""

import functools

import pytest

from conftest import FIXTURES
from mlsurgery.jobs import run_job
from mlsurgery.errors import InvalidModelError, ModelLoadError, UsageError
from mlsurgery.io import load_spec
from mlsurgery.ops.changes import Changes
from mlsurgery.ops.describe import set_metadata
from mlsurgery.ops.widen import widen_classifier

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _mark_model_updatable(spec) -> Changes:
    """Marks the model updatable without any updatable layer: Core ML rejects that (MLS200)."""
    spec.isUpdatable = True
    spec.specificationVersion = 4
    changes = Changes("break")
    changes.add("model", "isUpdatable = true")
    return changes


def test_operations_run_in_order_and_the_valid_result_is_written(tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_job(SQUEEZENET, [functools.partial(widen_classifier, layer="fullyconnected0", num_classes=5),
                                  functools.partial(set_metadata, author="me")], out)
    assert result.written == out and result.report.valid
    assert result.changes.operation == "widen + metadata"
    assert [change.target for change in result.changes][0] == "layer fullyconnected0"
    written = load_spec(out)
    assert written.description.metadata.author == "me"
    assert len(written.neuralNetworkClassifier.stringClassLabels.vector) == 5


def test_dry_run_validates_and_writes_nothing(tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_job(SQUEEZENET, functools.partial(set_metadata, author="me"), out, dry_run=True)
    assert result.written is None and result.report.valid and not out.exists()


def test_a_model_core_ml_rejects_is_refused_unless_forced(tmp_path):
    out = tmp_path / "out.mlmodel"
    with pytest.raises(InvalidModelError, match=r"not written, Core ML would reject it: \[MLS200\]") as refused:
        run_job(SQUEEZENET, _mark_model_updatable, out)
    assert refused.value.report.coreml_first.code == "MLS200" and not out.exists()
    forced = run_job(SQUEEZENET, _mark_model_updatable, out, force=True)
    assert forced.written == out and not forced.report.valid and load_spec(out).isUpdatable


def test_the_input_is_refused_as_output_before_any_operation_runs(tmp_path):
    model = tmp_path / "model.mlmodel"
    model.write_bytes(SQUEEZENET.read_bytes())
    calls = []

    def operation(spec):
        calls.append(spec)
        return Changes("noop")

    with pytest.raises(UsageError, match="output is the input model"):
        run_job(model, operation, model)
    assert calls == []
    assert run_job(model, operation, model, in_place=True).written == model and len(calls) == 1


def test_an_output_in_a_missing_folder_is_refused_before_loading(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        run_job(tmp_path / "missing.mlmodel", functools.partial(set_metadata, author="me"),
                tmp_path / "no" / "out.mlmodel")


def test_a_model_that_is_not_a_network_is_refused_by_the_default_loader(tmp_path):
    from mlsurgery._proto import model_pb2
    from mlsurgery.io import save_spec

    spec = model_pb2().Model()
    spec.specificationVersion = 1
    spec.glmRegressor.SetInParent()
    path = save_spec(spec, tmp_path / "glm.mlmodel")
    with pytest.raises(ModelLoadError, match="glmRegressor"):
        run_job(path, functools.partial(set_metadata, author="me"), tmp_path / "out.mlmodel")


def test_no_operations_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no operations"):
        run_job(SQUEEZENET, [], tmp_path / "out.mlmodel")
