"""ML Programs written by coremltools 9 from PyTorch models, converted to NeuralNetworks, give PyTorch's outputs.

Each case is converted once per module (ct.convert → .mlpackage → mlsurgery's conversion); the converted spec is
run by mlsurgery's engine and compared with the PyTorch model itself: within 1e-4 for fp32 packages, within 1e-2
of the output's magnitude for fp16 ones; classifiers must predict PyTorch's arg-max label.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlpackages import assert_close, read_package, save_package, torch, torch_outputs
from zoo import CASES

from mlsurgery._proto import feature_types_pb2
from mlsurgery.mlprogram.convert import Conversion, to_neural_network


@pytest.fixture(scope="module", params=sorted(CASES))
def converted(request, tmp_path_factory):
    case = CASES[request.param]
    torch.manual_seed(0)
    module = case.factory().eval()
    examples = [torch.from_numpy(a) for a in case.torch_inputs(case.examples(np.random.default_rng(0)))]
    path = save_package(module, examples, case.coreml_inputs(), tmp_path_factory.mktemp("pkg") / "model.mlpackage",
                        fp16=case.fp16, target=case.target, classifier_labels=case.labels)
    package, weights = read_package(path)
    conversion = to_neural_network(package, weights, source=str(path))
    return case, module, package, conversion


def test_engine_output_matches_pytorch(converted):
    from mlsurgery.engine import build_model

    case, module, package, conversion = converted
    model = build_model(conversion.spec)
    rng = np.random.default_rng(5)
    description = conversion.spec.description
    for _ in range(3):
        arrays = case.examples(rng)
        expected = torch_outputs(module, case.torch_inputs(arrays))
        got = model.predict(case.engine_inputs(arrays))
        if case.labels is not None:
            probabilities = got[description.predictedProbabilitiesName]
            assert sorted(probabilities) == sorted(case.labels)
            assert_close([probabilities[label] for label in case.labels], expected[0], fp16=case.fp16)
            assert got[description.predictedFeatureName] == case.labels[int(np.argmax(expected[0]))]
        else:
            for want, feature in zip(expected, description.output):
                assert_close(got[feature.name], want, fp16=case.fp16)


def test_description_is_the_packages(converted):
    """Same names, kinds and shapes; only fp16 multi-arrays become fp32 (NeuralNetwork features are fp32)."""
    case, module, package, conversion = converted
    description = conversion.spec.description
    arrays = feature_types_pb2().ArrayFeatureType
    for mine, theirs in zip(list(description.input) + list(description.output),
                            list(package.description.input) + list(package.description.output)):
        theirs = type(theirs).FromString(theirs.SerializeToString())
        if theirs.type.WhichOneof("Type") == "multiArrayType" and theirs.type.multiArrayType.dataType == arrays.FLOAT16:
            theirs.type.multiArrayType.dataType = arrays.FLOAT32
        assert mine == theirs
    assert len(description.input) == len(package.description.input)
    assert len(description.output) == len(package.description.output)
    assert description.predictedFeatureName == package.description.predictedFeatureName
    assert description.predictedProbabilitiesName == package.description.predictedProbabilitiesName
    assert description.metadata == package.description.metadata


def test_kind_labels_and_version(converted):
    case, module, package, conversion = converted
    spec = conversion.spec
    if case.labels is None:
        assert spec.WhichOneof("Type") == "neuralNetwork"
    else:
        assert spec.WhichOneof("Type") == "neuralNetworkClassifier"
        classifier = spec.neuralNetworkClassifier
        kind = "stringClassLabels" if isinstance(case.labels[0], str) else "int64ClassLabels"
        assert classifier.WhichOneof("ClassLabels") == kind
        assert list(getattr(classifier, kind).vector) == case.labels
    # iOS 13 (4) is the first version with rank-N networks and on-device training; 5 (iOS 14) only for its layers.
    assert spec.specificationVersion in (4, 5)


def test_every_weight_is_fp32(converted):
    """fp16 packages too: a layer can be made updatable only when its weights are fp32."""
    case, module, package, conversion = converted
    network = getattr(conversion.spec, conversion.spec.WhichOneof("Type"))
    assert b"" == b"".join(weights.float16Value for weights in _all_weights(network))
    assert all(not weights.rawValue and not weights.int8RawValue for weights in _all_weights(network))


def test_result_is_valid(converted):
    from mlsurgery.validate import validate_spec

    case, module, package, conversion = converted
    report = validate_spec(conversion.spec)
    assert report.valid, [f"{f.code} {f.message}" for f in report.findings]


def test_image_preprocessing_is_the_packages(converted):
    case, module, package, conversion = converted
    network = getattr(conversion.spec, conversion.spec.WhichOneof("Type"))
    if case.image is None:
        assert not network.preprocessing
        return
    (step,) = network.preprocessing
    assert step.featureName == case.input_names()[0]
    assert step.scaler.channelScale == pytest.approx(case.image.scale, rel=1e-6)
    scaler = step.scaler
    biases = {"RGB": [scaler.redBias, scaler.greenBias, scaler.blueBias],
              "BGR": [scaler.blueBias, scaler.greenBias, scaler.redBias], "G": [scaler.grayBias]}[case.image.layout]
    assert biases == pytest.approx(case.image.bias, rel=1e-6)


def _all_weights(message):
    from mlsurgery._proto import nn_pb2

    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        for item in value if descriptor.is_repeated else [value]:
            if isinstance(item, nn_pb2().WeightParams):
                yield item
            else:
                yield from _all_weights(item)


def test_a_neural_network_spec_is_returned_unchanged():
    from mlsurgery.io import load_spec

    from conftest import FIXTURES

    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    conversion = to_neural_network(spec, None, source="mnist_mlp.mlmodel")
    assert isinstance(conversion, Conversion)
    assert conversion.spec == spec and conversion.spec is not spec


def test_make_updatable_auto_gives_a_valid_model(converted):
    """The point of the conversion: Core ML can train the result (its last trainable layer, by default)."""
    import copy

    from mlsurgery.ops.make_updatable import make_updatable
    from mlsurgery.validate import validate_spec

    from mlsurgery.errors import InvalidModelError

    case, module, package, conversion = converted
    spec = copy.deepcopy(conversion.spec)
    if not case.trainable:  # its output comes from a layer Core ML cannot backpropagate through: said, not hidden
        with pytest.raises(InvalidModelError, match="does not backpropagate through"):
            make_updatable(spec, ["auto"])
        return
    make_updatable(spec, ["auto"])
    report = validate_spec(spec)
    assert spec.isUpdatable and report.valid, [f"{f.code} {f.message}" for f in report.findings]


def test_a_package_describing_its_one_function_separately_converts(tmp_path):
    """coremltools' save_multifunction with one function keeps the interface under description.functions."""
    import coremltools as ct

    from mlsurgery.engine import build_model

    torch.manual_seed(0)
    module = torch.nn.Linear(4, 2).eval()
    source = save_package(module, [torch.randn(1, 4)], [ct.TensorType(name="x", shape=(1, 4))],
                          tmp_path / "source.mlpackage", target="iOS18")
    descriptor = ct.utils.MultiFunctionDescriptor()
    descriptor.add_function(str(source), src_function_name="main", target_function_name="only")
    descriptor.default_function_name = "only"
    ct.utils.save_multifunction(descriptor, str(tmp_path / "one.mlpackage"))
    package, weights = read_package(tmp_path / "one.mlpackage")
    assert not package.description.input and len(package.description.functions) == 1
    spec = to_neural_network(package, weights, source="one.mlpackage").spec
    assert [f.name for f in spec.description.input] == ["x"] and not spec.description.functions
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    (want,) = torch_outputs(module, [x])
    assert_close(build_model(spec).predict({"x": x})[spec.description.output[0].name], want, fp16=False)
