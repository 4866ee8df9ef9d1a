"""The general neural-network checks (MLS1xx: mlsurgery/rules/network.py, layers.py, the walker, mlsurgery/shapes)."""

import re
from pathlib import Path

import pytest

from mlsurgery._proto import nn_pb2
from mlsurgery.network import find_networks
from mlsurgery import coreml, shapes
from mlsurgery.shapes import ranges
from mlsurgery.io import load_spec
from mlsurgery.rules import layers, network, walker
from mlsurgery.rules.base import ERROR, WARNING
from rules import general_cases as cases
from rules import general_specs as g

ROOT = Path(__file__).resolve().parents[2]
REAL_MODELS = sorted((ROOT.parent / "shared" / "models").glob("*.mlmodel")) + sorted(
    (ROOT / "fixtures").rglob("*.mlmodel"))


@pytest.mark.parametrize(("code", "build"), cases.case_params(network.RULES, "rejects_"))
def test_rejected_case_reports_its_rule_first(code, build):
    cases.assert_rejected_first(code, build())


@pytest.mark.parametrize(("code", "build"), cases.case_params(network.RULES, "warns_"))
def test_warned_case_stays_valid_with_the_warning(code, build):
    cases.assert_warned(code, build())


@pytest.mark.parametrize(("code", "build"), cases.case_params(network.RULES, "accepts_"))
def test_accepted_case_is_valid(code, build):
    cases.assert_accepted(code, build())


def test_every_network_rule_has_flagged_and_accepted_cases():
    cases.assert_every_rule_has_cases(network.RULES)


@pytest.mark.parametrize("checked", network.RULES, ids=lambda rule: rule.code)
def test_network_rule_is_documented_in_its_code_range(checked):
    assert re.fullmatch(r"MLS1\d\d", checked.code)
    assert checked.severity == (WARNING if checked.code == "MLS121" else ERROR)
    assert checked.summary and checked.explanation and checked.fix
    assert "mlmodel/src/" in checked.upstream or "NeuralNetwork" in checked.upstream


@pytest.mark.skipif(not REAL_MODELS, reason="no third-party models or fixtures on this machine")
@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda path: path.name)
def test_real_models_pass_every_network_check(path):
    for location in find_networks(load_spec(path)):
        model = location.model
        findings = network.check_network_top_level(model) + network.check_classifier(model)
        assert [f"{finding.code}: {finding.message}" for finding in findings] == []


def test_every_layer_type_has_a_check():
    kinds = {field.name for field in nn_pb2().NeuralNetworkLayer.DESCRIPTOR.oneofs_by_name["layer"].fields}
    assert kinds - set(walker.LAYER_CHECKS) == {"branch", "loop"}


def test_every_ios12_layer_type_has_shape_inference():
    kinds = {field.name for field in nn_pb2().NeuralNetworkLayer.DESCRIPTOR.oneofs_by_name["layer"].fields}
    ios12 = {kind for kind in kinds if kind in coreml.IOS12_LAYER_KINDS or kind in (
        "convolution", "innerProduct", "upsample", "reorganizeData")}
    assert ios12 <= set(shapes.LAYER_SHAPES)


@pytest.mark.parametrize(("kind", "setup", "ios12"), [
    ("convolution", lambda layer: layer.input.extend(["x"]), True),
    ("convolution", lambda layer: layer.input.extend(["x", "w"]), False),
    ("innerProduct", lambda layer: None, True),
    ("innerProduct", lambda layer: setattr(layer.innerProduct, "int8DynamicQuantize", True), False),
    ("upsample", lambda layer: layer.upsample.fractionalScalingFactor.extend([1.5, 1.5]), False),
    ("reorganizeData", lambda layer: setattr(layer.reorganizeData, "mode", 2), False),
    ("unary", lambda layer: None, True),
    ("batchedMatmul", lambda layer: None, False),
    ("copy", lambda layer: None, False),
])
def test_ios12_layer_classification(kind, setup, ios12):
    layer = nn_pb2().NeuralNetworkLayer()
    getattr(layer, kind).SetInParent()
    setup(layer)
    assert coreml.is_ios12_layer(layer) is ios12


def test_value_type_follows_the_populated_field():
    weights = nn_pb2().WeightParams()
    assert layers.value_type(weights) == layers.EMPTY
    weights.rawValue = b"\x01"
    assert layers.value_type(weights) == layers.EMPTY  # raw bytes without quantization count as empty
    weights.quantization.numberOfBits = 8
    assert layers.value_type(weights) == layers.QUINT
    weights.floatValue.append(1.0)
    assert layers.value_type(weights) == layers.UNSPECIFIED


def test_overwritten_model_input_names_the_input_as_producer():
    model = g.plain_network()
    g.layer_named(model, "relu").output[0] = "x"
    finding = next(f for f in network.check_network_top_level(model) if f.code == "MLS117")
    assert finding.layer == "relu" and "a model input" in finding.message


def test_blobs_from_both_branches_count_as_produced():
    model = cases.importlib.import_module("rules.cases.MLS118")._branching_network()
    assert "B" in network.produced_blobs(model)
    del model.neuralNetwork.layers[1].branch.elseBranch.layers[:]
    assert "B" not in network.produced_blobs(model)


def test_shape_warning_only_without_errors():
    model = g.plain_network()
    model.description.input[0].type.multiArrayType.shape[:] = [5]
    assert [f.code for f in network.check_network_top_level(model)] == ["MLS121"]
    g.layer_named(model, "relu").input[0] = "missing"
    assert "MLS121" not in [f.code for f in network.check_network_top_level(model)]


def test_shape_inference_finds_a_channel_mismatch():
    model = g.conv_network()
    g.layer_named(model, "dense").innerProduct.inputChannels = 5
    assert shapes.shape_inference_failure(model) is not None
    assert shapes.shape_inference_failure(g.conv_network()) is None
    assert shapes.shape_inference_failure(g.nd_network()) is None


# Upstream NNShapeTests.cpp testRangeVal / testRangeValDivide / testShapeRange, for the operations the shaper uses.
def test_range_values():
    unbound, two, three = ranges.Value(), ranges.Value(2), ranges.Value(3)
    assert unbound.gt(two) and unbound.ge(two) and two.le(unbound) and not unbound.le(two)
    assert unbound.ge(ranges.Value()) and unbound.le(ranges.Value()) and unbound.gt(ranges.Value())
    assert two.add_value(three).val == 5 and unbound.add_value(two).unbound and two.add(4).val == 6
    assert two.mul_value(three).val == 6 and unbound.mul(4).unbound
    assert two.sub(3).val == 0 and three.sub(2).val == 1 and unbound.sub(4).unbound
    assert two.sub_int(-1).val == 3 and two.sub_int(50).val == 0 and unbound.sub_int(-5).unbound
    assert two.div(3).val == 0 and ranges.Value(10).div(2).val == 5 and unbound.div(4).unbound
    with pytest.raises(shapes.ShapeError):
        unbound.value()
    assert ranges.Value(1).div_round_up(5).val == 1 and ranges.Value(12).div_round_up(5).val == 3
    assert unbound.div_round_up(1).unbound and two.div_round_up(0).unbound


def test_shape_ranges():
    everything, from_ten, eight_to_twenty = ranges.Range(), ranges.Range.at_least(10), ranges.Range.bounded(8, 20)
    assert repr(everything.plus(2)) == "[2, inf]" and repr(eight_to_twenty.plus(3)) == "[11, 23]"
    assert repr(eight_to_twenty.times(4)) == "[32, 80]" and repr(everything.times(5)) == "[0, inf]"
    assert repr(from_ten.minus(9)) == "[1, inf]" and repr(eight_to_twenty.minus(22)) == "[0, 0]"
    assert repr(from_ten.minus_int(-3)) == "[13, inf]"
    assert repr(eight_to_twenty.divided(3)) == "[2, 6]"
    with pytest.raises(shapes.ShapeError):
        eight_to_twenty.divided(0)
    assert repr(everything.plus_range(eight_to_twenty)) == "[8, inf]"
    assert repr(eight_to_twenty.plus_range(eight_to_twenty)) == "[16, 40]"
    assert repr(everything.times_range(eight_to_twenty)) == "[0, inf]"
    assert repr(from_ten.intersect(eight_to_twenty)) == "[10, 20]"
    with pytest.raises(shapes.ShapeError):
        eight_to_twenty.intersect(ranges.Range.bounded(3, 6))
    assert repr(eight_to_twenty.unify(ranges.Range.bounded(25, 30))) == "[8, 30]"
    assert repr(everything.with_value(10)) == "[10, 10]"
    with pytest.raises(shapes.ShapeError):
        eight_to_twenty.with_lower(ranges.Value(2))
    with pytest.raises(shapes.ShapeError):
        ranges.Range.of_values(ranges.Value(), ranges.Value())
    assert repr(ranges.Range.bounded(1, 1).intersect(ranges.Range())) == "[1, 1]"


def test_plain_output_check_can_move_after_the_updatable_checks():
    model = g.plain_network()
    model.description.output[0].name = "scores"
    assert [f.code for f in network.check_network_top_level(model)] == ["MLS120"]
    assert network.check_network_top_level(model, include_outputs=False) == []
    assert [f.code for f in network.check_network_outputs(model)] == ["MLS120"]
    assert network.check_network_outputs(g.regressor()) == []
