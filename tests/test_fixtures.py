"""Committed fixtures equal what fixtures/build_fixtures.py builds and have the layout other tests rely on."""

import importlib.util
from pathlib import Path

import pytest
from coremltools.proto import Model_pb2

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_fixtures", FIXTURES_DIR / "build_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_fixtures = _load_build_script()


@pytest.fixture(scope="module")
def fresh_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures")
    build_fixtures.build_all(out)
    return out


def _committed(name):
    spec = Model_pb2.Model()
    spec.ParseFromString((FIXTURES_DIR / name).read_bytes())
    return spec


def _layers(nn):
    return {layer.name: layer for layer in nn.layers}


@pytest.mark.parametrize("name", sorted(build_fixtures.FIXTURES))
def test_committed_fixture_equals_fresh_build(fresh_dir, name):
    assert (FIXTURES_DIR / name).read_bytes() == (fresh_dir / name).read_bytes(), (
        f"fixtures/{name} is stale: run python fixtures/build_fixtures.py"
    )


def test_check_mode_reports_a_differing_file(tmp_path):
    build_fixtures.build_all(tmp_path)
    (tmp_path / "regressor.mlmodel").write_bytes(b"stale")
    (tmp_path / "pipeline.mlmodel").unlink()
    assert build_fixtures.stale_fixtures(tmp_path) == ["regressor.mlmodel", "pipeline.mlmodel"]


def _networks(spec):
    """(model, network) pairs for every NeuralNetwork-family model in spec, pipeline stages included."""
    kind = spec.WhichOneof("Type")
    if kind in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        pipeline = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
        return [pair for stage in pipeline.models for pair in _networks(stage)]
    return [(spec, getattr(spec, kind))]


PLAIN_FIXTURES = sorted(name for name in build_fixtures.FIXTURES if not name.startswith("zoo/"))
ZOO_FIXTURES = sorted(name for name in build_fixtures.FIXTURES if name.startswith("zoo/"))


@pytest.mark.parametrize("name", PLAIN_FIXTURES)
def test_fixture_graph_is_consistent_and_not_updatable(name):
    spec = _committed(name)
    assert spec.specificationVersion == 1
    assert not spec.isUpdatable
    _check_blobs_and_metadata(spec)


@pytest.mark.parametrize("name", ZOO_FIXTURES)
def test_zoo_fixture_graph_is_consistent(name):
    _check_blobs_and_metadata(_committed(name))


def _check_blobs_and_metadata(spec):
    assert spec.description.metadata.author == "mlsurgery fixtures"
    assert spec.description.metadata.license == "BSD-3-Clause"
    for model, nn in _networks(spec):
        assert model.isUpdatable == spec.isUpdatable
        blobs = {feature.name for feature in model.description.input}
        for layer in nn.layers:
            assert not layer.isUpdatable or spec.isUpdatable
            missing = [blob for blob in layer.input if blob not in blobs]
            assert not missing, f"{layer.name} reads {missing} before they are produced"
            assert not blobs & set(layer.output), f"{layer.name} overwrites a blob"
            blobs.update(layer.output)
            # Layers inside a branch write to the enclosing network's blobs (Core ML's control flow).
            if layer.WhichOneof("layer") == "branch":
                blobs.update(blob for inner in layer.branch.ifBranch.layers for blob in inner.output)
        if model.WhichOneof("Type") == "neuralNetworkClassifier":
            blobs.add(model.description.predictedFeatureName)  # Core ML derives it from the probabilities
        for feature in model.description.output:
            assert feature.name in blobs, f"output {feature.name} is not produced"


def test_turi_squeezenet_layout():
    spec = _committed("turi_squeezenet.mlmodel")
    nn = spec.neuralNetworkClassifier
    layers = _layers(nn)

    image = spec.description.input[0]
    assert image.name == "image"
    assert (image.type.imageType.width, image.type.imageType.height) == (227, 227)
    assert list(nn.stringClassLabels.vector) == ["rock", "paper", "scissors"]

    fc = layers["fullyconnected0"].innerProduct
    assert (fc.inputChannels, fc.outputChannels, fc.hasBias) == (1000, 3, True)
    assert len(fc.weights.floatValue) == 3000
    assert layers["conv10"].convolution.outputChannels == 1000
    assert list(layers["fire9/concat"].input) == ["fire9/relu_expand1x1", "fire9/relu_expand3x3"]
    assert layers["fire9/concat"].WhichOneof("layer") == "concat"
    assert layers["pool10"].pooling.globalPooling

    names = [layer.name for layer in nn.layers]
    assert names[:3] == ["conv1", "relu_conv1", "pool1"]
    assert names[-7:] == [
        "fire9/concat", "conv10", "relu_conv10", "pool10", "flatten", "fullyconnected0", "softmax",
    ]
    assert [name for name in names if name.startswith("pool")] == ["pool1", "pool3", "pool5", "pool10"]
    assert sum(name.endswith("/concat") for name in names) == 8

    assert list(layers["softmax"].output) == ["labelProbability"]
    assert nn.labelProbabilityLayerName == "labelProbability"
    assert spec.description.predictedFeatureName == "label"
    assert spec.description.predictedProbabilitiesName == "labelProbability"


def test_split_1d_layer_order():
    spec = _committed("split_1d.mlmodel")
    nn = spec.neuralNetwork
    assert [(layer.name, layer.WhichOneof("layer")) for layer in nn.layers] == [
        ("Reshape_0", "reshape"),
        ("Conv_1", "convolution"),
        ("Relu_2", "activation"),
        ("Conv_3", "convolution"),
        ("Relu_4", "activation"),
        ("Conv_5", "convolution"),
        ("Relu_6", "activation"),
        ("Conv_7", "convolution"),
        ("Sigmoid_8", "activation"),
        ("Reshape_9", "reshape"),
    ]
    layers = _layers(nn)
    convs = [layers[n].convolution for n in ("Conv_1", "Conv_3", "Conv_5", "Conv_7")]
    assert [list(conv.kernelSize) for conv in convs] == [[1, 7], [1, 5], [1, 3], [1, 3]]
    channels = [(conv.kernelChannels, conv.outputChannels) for conv in convs]
    assert channels == [(2, 16), (16, 16), (16, 8), (8, 1)]
    assert layers["Sigmoid_8"].activation.WhichOneof("NonlinearityType") == "sigmoid"
    assert list(layers["Reshape_9"].output) == ["output"]
    assert list(spec.description.input[0].type.multiArrayType.shape) == [1, 2, 100]
    assert list(spec.description.output[0].type.multiArrayType.shape) == [1, 1, 100]


def test_mnist_mlp_interface():
    spec = _committed("mnist_mlp.mlmodel")
    nn = spec.neuralNetworkClassifier
    layers = _layers(nn)
    assert list(nn.int64ClassLabels.vector) == list(range(10))
    assert [(layers[n].innerProduct.inputChannels, layers[n].innerProduct.outputChannels)
            for n in ("dense_1", "dense_2", "dense_3")] == [(784, 128), (128, 128), (128, 10)]
    assert [o.name for o in spec.description.output] == ["labelProbabilities", "classLabel"]
    assert spec.description.output[1].type.WhichOneof("Type") == "int64Type"
    assert spec.description.predictedProbabilitiesName == "labelProbabilities"
    assert list(layers["softmax"].output) == ["labelProbabilities"]


def test_regressor_interface():
    spec = _committed("regressor.mlmodel")
    assert spec.WhichOneof("Type") == "neuralNetworkRegressor"
    assert spec.description.predictedFeatureName == "target"
    assert list(spec.neuralNetworkRegressor.layers[-1].output) == ["target"]


def test_pipeline_interface_matches_its_stages():
    spec = _committed("pipeline.mlmodel")
    extractor, classifier = spec.pipelineClassifier.pipeline.models
    assert extractor.WhichOneof("Type") == "neuralNetwork"
    assert classifier.WhichOneof("Type") == "neuralNetworkClassifier"
    assert [f.name for f in extractor.description.output] == ["embedding"]
    assert [f.name for f in classifier.description.input] == ["embedding"]
    # Core ML's pipeline validator compares names and types of the pipeline interface with the stages'.
    assert [(f.name, f.type) for f in spec.description.input] == [
        (f.name, f.type) for f in extractor.description.input
    ]
    assert [(f.name, f.type) for f in spec.description.output] == [
        (f.name, f.type) for f in classifier.description.output
    ]
    assert spec.specificationVersion >= max(extractor.specificationVersion, classifier.specificationVersion)
    labels = classifier.neuralNetworkClassifier.stringClassLabels.vector
    assert list(labels) == ["north", "east", "south", "west"]


def _layer_kinds(network) -> set[str]:
    kinds = set()
    for layer in network.layers:
        kind = layer.WhichOneof("layer")
        kinds.add(kind)
        if kind == "branch":
            kinds |= _layer_kinds(layer.branch.ifBranch) | _layer_kinds(layer.branch.elseBranch)
        elif kind == "loop":
            kinds |= _layer_kinds(layer.loop.conditionNetwork) | _layer_kinds(layer.loop.bodyNetwork)
    return kinds


def test_fixtures_and_third_party_models_hold_every_layer_kind_of_the_format():
    from coremltools.proto import NeuralNetwork_pb2

    from mlsurgery.network import find_networks

    every_kind = {field.name for field in NeuralNetwork_pb2.NeuralNetworkLayer.DESCRIPTOR.oneofs_by_name["layer"].fields}
    held = set()
    for path in sorted(FIXTURES_DIR.rglob("*.mlmodel")):
        spec = Model_pb2.Model()
        spec.ParseFromString(path.read_bytes())
        held |= {kind for location in find_networks(spec) for kind in _layer_kinds(location.network)}
    assert sorted(every_kind - held) == []
