"""mlsurgery.diff: a model against a copy changed here with NumPy on the protobuf reports exactly those changes,
with counts and differences computed here from the values written; a trained model differs from its input in
exactly the parameters Core ML trains."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FIXTURES
from mlsurgery.diff import compare_weights, diff_files, diff_specs
from mlsurgery.io import load_spec, save_spec
from updatable_models import updatable_models  # noqa: F401 (a pytest fixture)


def _layer(spec, name):
    kind = spec.WhichOneof("Type")
    network = getattr(spec, kind)
    return next(layer for layer in network.layers if layer.name == name)


def _set_floats(weights, values):
    del weights.floatValue[:]
    weights.floatValue.extend(np.asarray(values, dtype=np.float32).tolist())


def _copy(spec):
    other = type(spec)()
    other.CopyFrom(spec)
    return other


@pytest.fixture
def mnist():
    return load_spec(FIXTURES / "mnist_mlp.mlmodel")


@pytest.fixture(params=["specs", "files"])
def diff(request, tmp_path):
    """diff_specs on the messages, or diff_files on them saved (byte-identical parts skipped, fp32 read in place)."""
    def compare(a, b):
        if request.param == "specs":
            return diff_specs(a, b)
        save_spec(a, tmp_path / "a.mlmodel")
        save_spec(b, tmp_path / "b.mlmodel")
        return diff_files(tmp_path / "a.mlmodel", tmp_path / "b.mlmodel")

    return compare


def test_identical_models_are_the_same(mnist, diff):
    report = diff(mnist, _copy(mnist))
    assert report.same and report.only_updatable_changed
    assert report.to_dict()["same"] is True


def test_changed_values_are_counted_with_their_largest_and_l2_difference(mnist, diff):
    changed = _copy(mnist)
    weights = _layer(changed, "dense_2").innerProduct.weights
    before = np.array(weights.floatValue, dtype=np.float32)
    after = before.copy()
    indices = np.array([0, 7, 100, before.size - 1])
    after[indices] += np.array([0.5, -0.25, 1e-3, 3.0], dtype=np.float32)
    _set_floats(weights, after)
    report = diff(mnist, changed)
    assert not report.same
    assert [layer.name for layer in report.layers_changed] == ["dense_2"]
    (change,) = report.layers_changed[0].weights
    expected = np.abs(after.astype(np.float64) - before.astype(np.float64))
    assert change.field == "innerProduct.weights" and change.size_a == change.size_b == before.size
    assert change.changed == 4
    assert change.max_abs_diff == pytest.approx(expected.max(), rel=1e-12)
    assert change.l2_diff == pytest.approx(np.sqrt((expected ** 2).sum()), rel=1e-12)
    assert report.layers_changed[0].settings == []
    assert not (report.interface or report.update_parameters or report.model or report.layers_added
                or report.layers_removed)
    assert not report.only_updatable_changed  # the fixture is not updatable: nothing in it is trained


def test_interface_settings_and_topology_changes_are_each_reported(mnist, diff):
    changed = _copy(mnist)
    changed.description.input[0].shortDescription = "a digit"
    changed.description.output.add(name="extra").type.doubleType.SetInParent()
    network = getattr(changed, changed.WhichOneof("Type"))
    names = [layer.name for layer in network.layers]
    removed = names[1]
    del network.layers[1]
    added = network.layers.add(name="new_layer")
    added.activation.ReLU.SetInParent()
    _layer(changed, "dense_3").innerProduct.hasBias = False
    report = diff(mnist, changed)
    interface = {change.field: (change.a, change.b) for change in report.interface}
    assert set(interface) == {f"input {mnist.description.input[0].name}", "output extra"}
    assert interface["output extra"] == (None, "double")
    assert interface[f"input {mnist.description.input[0].name}"][1].endswith("— a digit")
    assert [layer.name for layer in report.layers_removed] == [removed]
    assert [(layer.name, layer.type) for layer in report.layers_added] == [("new_layer", "activation/ReLU")]
    (dense_3,) = report.layers_changed
    assert [(change.field, change.a, change.b) for change in dense_3.settings] == [
        ("innerProduct.hasBias", "true", "false")]
    assert dense_3.weights == []  # the bias values are still stored, unchanged


def test_fp16_storage_change_and_size_change_are_reported(mnist, diff):
    changed = _copy(mnist)
    weights = _layer(changed, "dense_3").innerProduct.weights
    values = np.array(weights.floatValue, dtype=np.float32)
    weights.ClearField("floatValue")
    weights.float16Value = values.astype(np.float16).tobytes()
    bias = _layer(changed, "dense_3").innerProduct.bias
    _set_floats(bias, list(bias.floatValue) + [1.0])
    report = diff(mnist, changed)
    by_field = {change.field: change for change in report.layers_changed[0].weights}
    storage = by_field["innerProduct.weights"]
    assert (storage.storage_a, storage.storage_b) == ("fp32", "fp16")
    rounded = values.astype(np.float16).astype(np.float64)
    assert storage.changed == int(np.count_nonzero(rounded != values))
    assert storage.max_abs_diff == pytest.approx(np.abs(rounded - values).max(), rel=1e-12)
    size = by_field["innerProduct.bias"]
    assert (size.size_a, size.size_b, size.changed, size.max_abs_diff) == (10, 11, None, None)


def test_nan_against_nan_is_unchanged_and_nan_against_a_number_is_an_infinite_difference():
    from mlsurgery._proto import nn_pb2

    a, b = nn_pb2().WeightParams(), nn_pb2().WeightParams()
    _set_floats(a, [np.nan, np.nan, 1.0, np.inf, 2.0])
    _set_floats(b, [np.nan, 5.0, 1.0, np.inf, 2.5])
    change = compare_weights("w", a, b)
    assert change.changed == 2 and change.max_abs_diff == np.inf and change.l2_diff == np.inf
    _set_floats(b, [np.nan, np.nan, 1.0, np.inf, 2.5])
    change = compare_weights("w", a, b)
    assert (change.changed, change.max_abs_diff, change.l2_diff) == (1, 0.5, 0.5)


def test_a_pipeline_stage_is_named(updatable_models):
    spec = load_spec(updatable_models["pipeline"])
    changed = _copy(spec)
    stages = changed.pipelineClassifier.pipeline.models if changed.WhichOneof("Type") == "pipelineClassifier" \
        else changed.pipeline.models
    stages[0].description.metadata.author = "someone"
    report = diff_specs(spec, changed)
    assert [(change.where, change.field, change.b) for change in report.model] == [
        ("pipeline stage 1", "description.metadata.author", "someone")]


def test_knn_examples_added_are_training_and_k_is_not(updatable_models):
    spec = load_spec(updatable_models["knn_drawing"])
    trained = _copy(spec)
    knn = next(stage for stage in trained.pipelineClassifier.pipeline.models
               if stage.WhichOneof("Type") == "kNearestNeighborsClassifier").kNearestNeighborsClassifier
    dimensions = knn.nearestNeighborsIndex.numberOfDimensions
    for label in ("cat", "dog"):
        knn.nearestNeighborsIndex.floatSamples.add().vector.extend([0.5] * dimensions)
        knn.stringClassLabels.vector.append(label)
    report = diff_specs(spec, trained)
    assert not report.same and report.only_updatable_changed
    assert {change.field.split(".")[1] for change in report.model} == {"nearestNeighborsIndex", "stringClassLabels"}
    knn.numberOfNeighbors.defaultValue += 2
    assert not diff_specs(spec, trained).only_updatable_changed


def test_quantized_arrays_are_compared_byte_by_byte():
    from conftest import SHARED_MODELS

    spec = load_spec(SHARED_MODELS / "int8_segmentation.mlmodel")
    changed = _copy(spec)
    network = getattr(changed, changed.WhichOneof("Type"))
    layer = next(layer for layer in network.layers if layer.WhichOneof("layer") == "convolution"
                 and layer.convolution.weights.HasField("quantization"))
    raw = bytearray(layer.convolution.weights.rawValue)
    raw[0] ^= 0xFF
    raw[-1] ^= 0x01
    layer.convolution.weights.rawValue = bytes(raw)
    (change,) = diff_specs(spec, changed).layers_changed
    assert change.name == layer.name
    (weights,) = change.weights
    assert weights.storage_a == weights.storage_b == "8-bit quantized"
    assert (weights.changed, weights.max_abs_diff, weights.l2_diff) == (2, None, None)


def test_unpacked_floats_read_from_bytes_give_the_same_numbers():
    # Protobuf parsers accept a packed field written one value per field; the in-place reader must not misread it.
    from mlsurgery._proto import nn_pb2

    values_a = np.array([1.0, -2.0, 3.5, 0.25], dtype=np.float32)
    values_b = values_a + np.array([0, 0.5, 0, -1], dtype=np.float32)
    unpacked = b"".join(b"\x0d" + value.tobytes() for value in values_a)  # key: field 1, wire type 5 (fixed32)
    a, b = nn_pb2().WeightParams(), nn_pb2().WeightParams()
    a.ParseFromString(unpacked)
    _set_floats(b, values_b)
    packed = b.SerializeToString()
    change = compare_weights("w", a, b, raw=(memoryview(unpacked), memoryview(packed)))
    difference = np.abs(values_b.astype(np.float64) - values_a)
    assert (change.changed, change.max_abs_diff) == (2, difference.max())
    assert change.l2_diff == pytest.approx(np.sqrt((difference ** 2).sum()), rel=1e-12)
