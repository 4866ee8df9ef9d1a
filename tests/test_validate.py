"""mlsurgery.validate: Core ML's check order across model types, collected findings, per-file results."""

import pytest
from conftest import FIXTURES, shared_models
from rules import specs

from mlsurgery.errors import ModelLoadError
from mlsurgery.io import save_spec
from mlsurgery.validate import (
    check_model,
    validate_file,
    validate_paths,
    validate_spec,
)

# Core ML's own validator (a local build of coremltools' mlmodel) accepts every one of these files.
ACCEPTED_BY_CORE_ML = sorted(FIXTURES.glob("*.mlmodel")) + shared_models()


@pytest.mark.parametrize("path", ACCEPTED_BY_CORE_ML, ids=lambda path: path.name)
def test_models_core_ml_accepts_are_valid(path):
    report = validate_file(path)
    assert report.valid, [f"{f.code}: {f.message}" for f in report.errors]


def test_unloadable_file_raises_model_load_error(tmp_path):
    path = tmp_path / "notes.mlmodel"
    path.write_text("not a model")
    with pytest.raises(ModelLoadError, match="notes.mlmodel"):
        validate_file(path)


def test_validate_paths_keeps_going_after_a_load_failure(tmp_path):
    broken = tmp_path / "broken.mlmodel"
    broken.write_bytes(b"\x00\x01garbage")
    results = validate_paths([str(broken), str(FIXTURES / "mnist_mlp.mlmodel")])
    assert [(r.valid, r.error is not None) for r in results] == [(False, True), (True, False)]
    assert results[0].to_dict()["findings"] == [] and results[0].to_dict()["coreml_first"] is None


def test_generic_checks_come_before_the_model_type_s_checks():
    model = specs.valid_updatable_network()
    model.specificationVersion = 3
    del model.description.trainingInput[1:]
    codes = [finding.code for finding in validate_spec(model).errors]
    assert codes.index("MLS050") < codes.index("MLS219")


def test_a_plain_network_checks_its_outputs_after_the_updatable_checks():
    model = specs.valid_updatable_network()
    specs.add_array_feature(model.description.output, "ghost", 1)
    model.neuralNetwork.updateParams.ClearField("optimizer")
    errors = validate_spec(model).errors
    assert errors[0].code == "MLS211"
    assert "'ghost'" in errors[-1].message


def test_stage_findings_come_in_stage_order_before_the_pipeline_s_own():
    spec = specs.four_stage_pipeline(updatable=True, updatable_stages={1})
    spec.pipeline.models[3].kNearestNeighborsClassifier.ClearField("uniformWeighting")
    report = validate_spec(spec)
    assert [(f.code, f.where) for f in report.errors] == [
        ("MLS060", "pipeline stage 4"), ("MLS305", "pipeline stage 1"), ("MLS306", "")]
    assert report.coreml_first.code == "MLS060"


def test_nested_stage_positions_are_spelled_out():
    spec = specs.new_model()
    outer = specs.empty_pipeline_with_string_output(spec, updatable=False, inputs=("D", 3), output_name="E")
    inner = outer.models.add()
    inner_pipeline = specs.empty_pipeline_with_string_output(inner, updatable=False, inputs=("D", 3), output_name="E")
    knn = inner_pipeline.models.add()
    specs.basic_nearest_neighbors(knn, updatable=False, inputs=("D", 3), output_name="E")
    knn.kNearestNeighborsClassifier.nearestNeighborsIndex.singleKdTreeIndex.leafSize = 0
    assert [(f.code, f.where) for f in validate_spec(spec).errors] == [
        ("MLS066", "pipeline stage 1 › pipeline stage 1")]


def test_check_model_takes_the_position_of_the_model():
    findings = check_model(specs.valid_nearest_neighbors(updatable=False), "pipeline stage 3")
    assert findings == []
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.ClearField("uniformWeighting")
    assert [f.where for f in check_model(model, "pipeline stage 3")] == ["pipeline stage 3"]


def test_model_types_without_a_ported_validator_still_get_the_generic_checks():
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "x", 1)
    specs.add_array_feature(model.description.output, "y", 1)
    model.serializedModel.SetInParent()  # Core ML has no type-specific validator for it (Model.cpp)
    model.specificationVersion = 4
    model.isUpdatable = True
    assert [f.code for f in validate_spec(model).errors] == ["MLS051"]


def test_updatable_checks_are_skipped_for_a_frozen_network():
    model = specs.valid_updatable_network()
    model.neuralNetwork.updateParams.ClearField("optimizer")
    model.isUpdatable = False
    assert validate_spec(model).findings == []


def test_failed_shape_inference_makes_core_ml_skip_the_updatable_checks():
    """validateNeuralNetworkTopLevel returns its "potentially invalid shapes" result, which Result::good() counts
    as success, before the updatable checks: the missing optimizer below goes unnoticed by Core ML."""
    model = specs.valid_updatable_network()
    inner = model.neuralNetwork.layers[0].innerProduct
    inner.inputChannels = 2  # the input blob has 1 channel
    inner.weights.floatValue.append(1.0)
    model.neuralNetwork.updateParams.ClearField("optimizer")
    report = validate_spec(model)
    assert report.valid
    assert not [f for f in report.findings if f.code.startswith("MLS2")]
    assert report.warnings


def test_warnings_never_change_the_verdict():
    model = specs.lstm_then_updatable_dense()
    report = validate_spec(model)
    assert report.valid and report.coreml_first is None
    assert [f.code for f in report.warnings] == ["MLS901"]


def test_all_findings_keep_core_ml_order_and_mark_the_first():
    model = specs.updatable_network_through(specs.absolute)
    model.neuralNetwork.updateParams.ClearField("epochs")
    report = validate_spec(model)
    assert [f.code for f in report.errors] == ["MLS212", "MLS218"]
    assert report.coreml_first is report.errors[0]


def test_file_result_dict_has_the_documented_keys(tmp_path):
    model = specs.valid_updatable_network()
    model.neuralNetwork.updateParams.ClearField("epochs")
    path = save_spec(model, tmp_path / "model.mlmodel")
    record = validate_paths([str(path)])[0].to_dict()
    assert set(record) == {"path", "valid", "findings", "coreml_first", "error"}
    assert record["valid"] is False and record["error"] is None
    assert record["coreml_first"] == record["findings"][0]
    assert set(record["findings"][0]) == {"code", "severity", "message", "layer", "where"}


def test_validate_spec_does_not_change_the_spec():
    model = specs.lstm_then_updatable_dense()
    before = model.SerializeToString(deterministic=True)
    validate_spec(model)
    assert model.SerializeToString(deterministic=True) == before



def test_a_folder_stands_for_the_models_under_it_packages_whole_and_hidden_folders_skipped(tmp_path):
    import shutil

    from packages import network_package

    from mlsurgery.validate import model_paths

    shutil.copy(FIXTURES / "mnist_mlp.mlmodel", tmp_path / "b.mlmodel")
    (tmp_path / "nested").mkdir()
    shutil.copy(FIXTURES / "regressor.mlmodel", tmp_path / "nested" / "a.MLMODEL")
    package = network_package(FIXTURES / "regressor.mlmodel", tmp_path / "nested")
    (tmp_path / ".cache").mkdir()
    shutil.copy(FIXTURES / "mnist_mlp.mlmodel", tmp_path / ".cache" / "hidden.mlmodel")
    (tmp_path / "notes.txt").write_text("not a model")
    expected = sorted([str(tmp_path / "b.mlmodel"), str(tmp_path / "nested" / "a.MLMODEL"), str(package)])
    assert model_paths(tmp_path) == expected
    assert model_paths(package) == [str(package)]  # a package is one model, not a folder to search
    results = validate_paths([str(tmp_path)])
    assert [result.path for result in results] == expected and all(result.valid for result in results)


def test_a_folder_without_models_is_one_unloadable_entry(tmp_path):
    (result,) = validate_paths([str(tmp_path)])
    assert result.report is None and "no .mlmodel or .mlpackage in this folder" in result.error
