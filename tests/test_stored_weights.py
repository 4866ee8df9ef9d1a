"""Stored weights (mlsurgery.weights): large weight fields left in the mapped file, read and written on demand.

Every test compares against the plain path — ``load_spec`` parses the whole file, protobuf's own serializer
writes it — on real models, with the size threshold lowered so that every non-empty weight field is stored.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES, SHARED_MODELS, shared_models
from mlsurgery import weights as weights_module
from mlsurgery._proto import model_pb2
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec, open_spec, opened_spec, save_spec, serialize_spec
from mlsurgery.ops.precision import convert_fp16_to_fp32, dequantize_layers, quantized_layers
from mlsurgery.ops.reinit import reinit_layers
from mlsurgery.ops.widen import widen_classifier
from mlsurgery.validate import validate_file, validate_spec
from mlsurgery.weights import field_bytes, field_size, float_values
from mlsurgery.wire import packed_header

MODELS = shared_models() + sorted(FIXTURES.glob("*.mlmodel"))
WEIGHT_FIELDS = ("floatValue", "float16Value", "rawValue", "int8RawValue")


@pytest.fixture
def store_everything(monkeypatch):
    monkeypatch.setattr(weights_module, "STORED_FIELD_BYTES", 1)


def _all_weights(spec):
    return list(weights_module._weight_params_in(spec))


def _stored_count(spec) -> int:
    return sum(bool(weights_module.stored_fields(weights)) for weights in _all_weights(spec))


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_stored_spec_reads_and_writes_like_the_whole_parse(model, store_everything):
    plain, stored = load_spec(model), open_spec(model)
    plain_weights, stored_weights = _all_weights(plain), _all_weights(stored)
    assert len(plain_weights) == len(stored_weights)
    if any(len(getattr(w, name)) for w in plain_weights for name in WEIGHT_FIELDS):
        assert _stored_count(stored) > 0  # the model does exercise stored fields
    for ours, theirs in zip(stored_weights, plain_weights):
        for name in WEIGHT_FIELDS:
            assert field_size(ours, name) == len(getattr(theirs, name))
            assert bool(getattr(ours, name)) == bool(getattr(theirs, name))  # presence reads the same
        for name in WEIGHT_FIELDS[1:]:
            assert bytes(field_bytes(ours, name)) == getattr(theirs, name)
        if len(theirs.floatValue):
            assert np.array_equal(float_values(ours), np.array(theirs.floatValue, dtype=np.float32))
    assert serialize_spec(stored) == plain.SerializeToString(deterministic=True)
    assert [f.to_dict() for f in validate_spec(stored).findings] == [f.to_dict() for f in validate_spec(plain).findings]


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_saving_a_stored_spec_copies_the_file_bytes(model, store_everything, tmp_path):
    """load → save through the kernel's copy of the stored ranges gives what the whole parse gives."""
    out = tmp_path / "out.mlmodel"
    save_spec(open_spec(model), out)
    reference = tmp_path / "reference.mlmodel"
    save_spec(load_spec(model), reference)
    assert out.read_bytes() == reference.read_bytes()


def _surgery(spec):
    graph = LayerGraph.trainable(spec)
    dense = [layer.name for layer in graph.layers if layer.kind in ("innerProduct", "convolution")]
    reinit_layers(spec, dense[:1], rng=np.random.default_rng(5))
    last = LayerGraph.trainable(spec).layer(dense[-1]).params
    widen_classifier(spec, dense[-1], last.outputChannels + 2, init="kaiming", rng=np.random.default_rng(6))
    convert_fp16_to_fp32(spec)


@pytest.mark.parametrize("model", ["mnist_mlp.mlmodel", "turi_squeezenet.mlmodel", "third_party/mnist_cnn.mlmodel",
                                   "third_party/fp16_lstm_decoder.mlmodel", "third_party/quickdraw_classifier.mlmodel"])
def test_operations_on_stored_weights_write_the_same_bytes(model, store_everything, tmp_path):
    path = FIXTURES / model
    plain, stored = load_spec(path), open_spec(path)
    try:
        _surgery(plain)
    except Exception as error:  # a model the surgery refuses must be refused alike
        with pytest.raises(type(error)):
            _surgery(stored)
        return
    _surgery(stored)
    assert _stored_count(stored) > 0
    save_spec(stored, tmp_path / "stored.mlmodel", source=path)
    save_spec(plain, tmp_path / "plain.mlmodel", source=path)
    assert (tmp_path / "stored.mlmodel").read_bytes() == (tmp_path / "plain.mlmodel").read_bytes()


def test_dequantize_reads_stored_quantized_bytes(store_everything, tmp_path):
    path = FIXTURES / "third_party" / "int8_segmentation.mlmodel"
    plain, stored = load_spec(path), open_spec(path)
    layers = quantized_layers(plain)
    assert layers and quantized_layers(stored) == layers
    dequantize_layers(plain, layers)
    dequantize_layers(stored, layers)
    assert serialize_spec(stored) == plain.SerializeToString(deterministic=True)


def test_a_copied_layer_keeps_its_stored_weights(store_everything):
    stored = open_spec(FIXTURES / "mnist_mlp.mlmodel")
    layer = next(layer for layer in LayerGraph.trainable(stored).layers if layer.kind == "innerProduct")
    copy = type(layer.proto)()
    copy.CopyFrom(layer.proto)
    assert np.array_equal(float_values(copy.innerProduct.weights), float_values(layer.params.weights))


def _file_with(weights_bytes: bytes) -> bytes:
    """A valid network spec (one innerProduct 2 → 2) whose weights field holds ``weights_bytes`` as written."""
    spec = model_pb2().Model(specificationVersion=4)
    for name, collection in (("in", spec.description.input), ("out", spec.description.output)):
        feature = collection.add(name=name)
        feature.type.multiArrayType.shape.append(2)
        feature.type.multiArrayType.dataType = feature.type.multiArrayType.FLOAT32
    layer = type(spec.neuralNetwork.layers.add())(name="dense", input=["in"], output=["out"])
    dense = type(layer.innerProduct)(inputChannels=2, outputChannels=2)

    def field(message, name: str, data: bytes) -> bytes:
        return packed_header(message.DESCRIPTOR.fields_by_name[name].number, len(data)) + data

    dense_bytes = dense.SerializeToString() + field(dense, "weights", weights_bytes)
    layer_bytes = layer.SerializeToString() + field(layer, "innerProduct", dense_bytes)
    network = field(spec.neuralNetwork, "layers", layer_bytes)
    spec.ClearField("neuralNetwork")
    return spec.SerializeToString() + field(spec, "neuralNetwork", network)


@pytest.mark.parametrize("weights_bytes", [
    # unpacked floats (one key per value), which a packed stub could not stand for
    b"".join(bytes([0x0D]) + np.float32(v).tobytes() for v in (1, 2, 3, 4)),
    # the packed field twice: protobuf concatenates the occurrences
    packed_header(1, 8) + np.array([1, 2], "<f4").tobytes() + packed_header(1, 8) + np.array([3, 4], "<f4").tobytes(),
], ids=["unpacked", "repeated"])
def test_unusual_encodings_are_parsed_whole_and_read_alike(weights_bytes, store_everything, tmp_path):
    path = tmp_path / "odd.mlmodel"
    path.write_bytes(_file_with(weights_bytes))
    plain, stored = load_spec(path), open_spec(path)
    assert _stored_count(stored) == 0
    assert stored == plain
    assert list(plain.neuralNetwork.layers[0].innerProduct.weights.floatValue) == [1, 2, 3, 4]


def test_validating_many_files_closes_each(store_everything):
    descriptors = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    for model in MODELS:
        validate_file(model)
    if descriptors is not None:
        assert len(os.listdir("/proc/self/fd")) <= descriptors
    with opened_spec(FIXTURES / "mnist_mlp.mlmodel") as spec:
        assert _stored_count(spec) > 0


def test_rewriting_stored_weights_keeps_only_the_latest_values(store_everything):
    """Repeated writes (a training loop saving its weights) must not pile up arrays."""
    stored = open_spec(FIXTURES / "mnist_mlp.mlmodel")
    weights = next(layer for layer in LayerGraph.trainable(stored).layers if layer.kind == "innerProduct").params.weights
    count = field_size(weights, "floatValue")
    weights_module.set_float_values(weights, np.zeros(count, np.float32))
    held = len(weights_module._ENTRIES)  # the file's range stays (copies of the layer may still refer to it)
    for step in range(1, 5):
        weights_module.set_float_values(weights, np.full(count, step, np.float32))
    assert len(weights_module._ENTRIES) == held
    assert np.array_equal(float_values(weights), np.full(count, 4, np.float32))


# --- deferred values: reinit's draws happen while saving -------------------------------------------------------

def _dense_names(spec) -> list[str]:
    return [layer.name for layer in LayerGraph.trainable(spec).layers if layer.kind in ("innerProduct", "convolution")]


def _deferred(weights) -> bool:
    return weights_module.stored_fields(weights)["floatValue"].recipe is not None


@pytest.mark.parametrize("init", ["kaiming-uniform", "xavier-uniform", "zeros", "kaiming-normal"])
@pytest.mark.parametrize("model", ["turi_squeezenet.mlmodel", "mnist_mlp.mlmodel"])
def test_reinit_of_stored_weights_draws_at_save_the_same_bytes(model, init, store_everything, tmp_path):
    path = FIXTURES / model
    plain, stored = load_spec(path), open_spec(path)
    layers = _dense_names(plain)
    plain_rng, stored_rng = np.random.default_rng(12), np.random.default_rng(12)
    reinit_layers(plain, layers, init=init, rng=plain_rng)
    reinit_layers(stored, layers, init=init, rng=stored_rng)
    # Uniform and zeros fills are left to the save; the normal one is drawn at once, as before.
    assert _deferred(LayerGraph.trainable(stored).layer(layers[0]).params.weights) == (init != "kaiming-normal")
    assert stored_rng.bit_generator.state == plain_rng.bit_generator.state
    expected = plain.SerializeToString(deterministic=True)
    for name in ("first.mlmodel", "second.mlmodel"):  # each save draws afresh, the same values
        save_spec(stored, tmp_path / name, source=path)
        assert (tmp_path / name).read_bytes() == expected
    assert serialize_spec(stored) == expected


def test_reading_deferred_values_draws_them_once_and_alike(store_everything):
    path = FIXTURES / "mnist_mlp.mlmodel"
    plain, stored = load_spec(path), open_spec(path)
    layer = _dense_names(plain)[0]
    reinit_layers(plain, [layer], rng=np.random.default_rng(1))
    reinit_layers(stored, [layer], rng=np.random.default_rng(1))
    weights = LayerGraph.trainable(stored).layer(layer).params.weights
    assert _deferred(weights)
    expected = np.array(LayerGraph.trainable(plain).layer(layer).params.weights.floatValue, np.float32)
    assert float_values(weights).tobytes() == expected.tobytes()
    assert not _deferred(weights)  # drawn now, and kept
    assert serialize_spec(stored) == plain.SerializeToString(deterministic=True)


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 7 * 1000 + 3])
def test_deferred_values_are_drawn_in_pieces_of_whole_chunks(count, store_everything, monkeypatch):
    """Several pieces (two chunks each), drawn by the worker while the previous one is written."""
    from mlsurgery.ops.reinit import uniform_fill

    monkeypatch.setattr(weights_module, "DRAWN_PIECE_BYTES", 2 * 4 * 1000)
    stored = open_spec(FIXTURES / "mnist_mlp.mlmodel")
    weights = next(iter(_all_weights(stored)))
    calls = []

    class Recorded:
        def __init__(self, fill):
            self.fill = fill

        def __call__(self, out, start):
            calls.append((start, len(out)))
            self.fill(out, start)

        def detach(self, count):
            make = self.fill.detach(count)
            return lambda: Recorded(make())

    weights_module.fill_float_values(weights, count, Recorded(uniform_fill(np.random.default_rng(4), 0.1)), chunk=1000)
    assert calls == []
    pieces = [bytes(piece) for piece in weights_module.stored_fields(weights)["floatValue"].drawn_pieces()]
    assert max(map(len, pieces), default=0) <= 2 * 4 * 1000
    assert calls == [(start, min(1000, count - start)) for start in range(0, count, 1000)]
    expected, eager = np.empty(count, np.float32), uniform_fill(np.random.default_rng(4), 0.1)
    for start in range(0, count, 1000):
        eager(expected[start:start + 1000], start)
    assert b"".join(pieces) == expected.tobytes()


@pytest.mark.parametrize(("job", "model", "blob"), [
    ("split_file", FIXTURES / "turi_squeezenet.mlmodel", "pool10"),
    ("split_file", SHARED_MODELS / "fp16_lstm_decoder.mlmodel", "decoder_lstm_output"),
    ("make_knn_file", FIXTURES / "turi_squeezenet.mlmodel", "flatten"),
], ids=["split-fp32", "split-fp16-head-widened", "make-knn"])
def test_pipeline_jobs_on_stored_weights_write_the_whole_parse_s_bytes(job, model, blob, monkeypatch, tmp_path):
    """split and make-knn move layers into pipeline stages (CopyFrom), and split widens an fp16 head: with every
    weight field left in the file the result is byte for byte what it is with the whole file parsed."""
    from mlsurgery import jobs

    outputs = [tmp_path / "whole.mlmodel", tmp_path / "stored.mlmodel"]
    monkeypatch.setattr(weights_module, "STORED_FIELD_BYTES", 1 << 62)  # nothing is large enough to be stored
    getattr(jobs, job)(model, outputs[0], blob)
    monkeypatch.setattr(weights_module, "STORED_FIELD_BYTES", 1)  # every weight field is stored
    monkeypatch.setattr(jobs, "load_spec", None)  # and the job must not parse the whole file
    getattr(jobs, job)(model, outputs[1], blob)
    assert outputs[0].read_bytes() == outputs[1].read_bytes()


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_inspect_and_the_contract_read_stored_weights_as_the_whole_parse(model, store_everything):
    """inspect, contract and graph leave the weights in the file (they show counts and storage, never values)."""
    from mlsurgery.contract import training_contract
    from mlsurgery.errors import MLSurgeryError
    from mlsurgery.inspection import summarize

    def contract(spec):
        try:
            return training_contract(spec, str(model))
        except MLSurgeryError as error:  # a model that is not updatable has no contract: the same refusal
            return str(error)

    with opened_spec(model) as stored:
        assert _stored_count(stored) > 0 or not any(len(getattr(w, name)) for w in _all_weights(stored)
                                                     for name in WEIGHT_FIELDS)
        stored_summary, stored_contract = summarize(stored, str(model)), contract(stored)
    plain = load_spec(model)
    assert stored_summary == summarize(plain, str(model))
    assert stored_contract == contract(plain)


@pytest.mark.parametrize("model", [FIXTURES / "turi_squeezenet.mlmodel", SHARED_MODELS / "int8_segmentation.mlmodel",
                                   SHARED_MODELS / "fp16_lstm_decoder.mlmodel"], ids=lambda p: p.name)
def test_predict_on_stored_weights_gives_the_whole_parse_s_outputs(model, store_everything):
    """predict leaves the weights in the file (the engine copies what it needs): fp32, 8-bit and fp16 weights give
    exactly the outputs of the whole parse."""
    from mlsurgery.engine.predict import predict_file

    whole = predict_file(str(model), {}, random=True, seed=0, spec=load_spec(model))
    stored_spec = open_spec(model)
    assert _stored_count(stored_spec) > 0
    stored = predict_file(str(model), {}, random=True, seed=0, spec=stored_spec)
    assert whole.keys() == stored.keys()
    for name in whole:
        np.testing.assert_array_equal(np.asarray(stored[name]), np.asarray(whole[name]))
