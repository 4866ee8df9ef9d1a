"""mlsurgery.coreml: each Core ML fact against Core ML's own definitions (its .proto files and validator)."""

from pathlib import Path

import numpy as np
import pytest

from mlsurgery._proto import model_pb2, nn_pb2
from mlsurgery.backprop import LossNode, trainable_frontier
from mlsurgery.coreml import (
    ACTIVATION_KINDS,
    DEFAULT_BETA2,
    DEFAULT_EPS,
    ELEMENTWISE_ACTIVATION_KINDS,
    FEATURE_TYPE_NAMES,
    EXACT_ARRAY_MAPPING,
    NETWORK_KINDS,
    NETWORK_PARAMETER_KEYS,
    PIPELINE_KINDS,
    RANK4_IMAGE_MAPPING,
    RANK5_ARRAY_MAPPING,
    RANK5_IMAGE_MAPPING,
    RECURRENT_ACTIVATION_KINDS,
    REGROUPING_KINDS,
    UPDATABLE_LAYER_KINDS,
    LossKind,
    OptimizerKind,
    accepts_updatable,
    c_div,
    int32,
    int64,
    pipeline_message,
    read_update_parameters,
    uint64_product,
)
from mlsurgery.errors import SurgeryError, UsageError
from mlsurgery.network import LayerGraph
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.validate import validate_spec
from rules.cases import MLS202


def _cases(message, oneof: str) -> set[str]:
    return {field.name for field in message.DESCRIPTOR.oneofs_by_name[oneof].fields}


def _quantized_bias_network(has_bias: bool):
    """An updatable innerProduct → softmax → cross-entropy network whose bias carries quantization parameters."""
    model = MLS202.bad_quantized_bias()
    model.neuralNetwork.layers[0].innerProduct.hasBias = has_bias
    return model


def test_quantized_bias_without_has_bias_may_be_updatable_as_core_ml_says():
    # Core ML reads the bias only when hasBias is set (UpdatableNeuralNetworkValidator.cpp,
    # validateWeightParamsUpdatable), so this layer is accepted; every part of mlsurgery must agree.
    spec = _quantized_bias_network(has_bias=False)
    layer = LayerGraph.trainable(spec).layer("inner_layer")
    assert accepts_updatable(layer.proto) and layer.can_be_updatable
    assert validate_spec(spec).valid
    assert [found.name for found in trainable_frontier(spec, "softmax_out")] == ["inner_layer"]
    make_updatable(spec, ["inner_layer"], loss="cross-entropy", loss_input="softmax_out")
    assert spec.neuralNetwork.layers[0].isUpdatable


def test_quantized_bias_with_has_bias_is_refused_everywhere():
    spec = _quantized_bias_network(has_bias=True)
    layer = LayerGraph.trainable(spec).layer("inner_layer")
    assert not accepts_updatable(layer.proto) and not layer.can_be_updatable
    assert validate_spec(spec).coreml_first.code == "MLS202"
    assert trainable_frontier(spec, "softmax_out") == []
    with pytest.raises(SurgeryError, match="quantized"):
        make_updatable(spec, ["inner_layer"], loss="cross-entropy", loss_input="softmax_out")


def test_only_the_three_trainable_kinds_are_accepted():
    layer = nn_pb2().NeuralNetworkLayer()
    for kind in ("batchnorm", "batchedMatmul", "embedding"):
        getattr(layer, kind).SetInParent()
        assert not accepts_updatable(layer), kind
    layer.uniDirectionalLSTM.SetInParent()
    assert accepts_updatable(layer)
    assert set(UPDATABLE_LAYER_KINDS) <= _cases(nn_pb2().NeuralNetworkLayer, "layer")


def test_model_kinds_are_cases_of_the_model_type_oneof():
    assert set(NETWORK_KINDS) | set(PIPELINE_KINDS) <= _cases(model_pb2().Model, "Type")


def test_loss_kinds_name_the_loss_layer_oneof_cases():
    assert {kind.field for kind in LossKind} == _cases(nn_pb2().LossLayer, "LossLayerType")
    assert all(LossKind.from_field(kind.field) is kind for kind in LossKind)


@pytest.mark.parametrize(("text", "kind"), [
    ("cross-entropy", LossKind.CROSS_ENTROPY), ("cross_entropy", LossKind.CROSS_ENTROPY),
    ("categoricalCrossEntropyLossLayer", LossKind.CROSS_ENTROPY), ("mse", LossKind.MSE),
    ("meanSquaredErrorLossLayer", LossKind.MSE)])
def test_the_cli_spelling_of_a_loss_is_understood_everywhere(text, kind):
    assert LossKind.parse(text) is kind
    assert LossNode.proposed("blob", text).kind is kind


def test_unknown_loss_names_the_choices():
    with pytest.raises(UsageError, match="unknown loss 'hinge'; choose one of cross-entropy, mse"):
        LossKind.parse("hinge")


@pytest.mark.parametrize("value", [0, 1, -1, 2**31 - 1, 2**31, 2**32 + 5, -(2**31) - 1, 3 * 2**40 + 7])
def test_c_integer_casts_match_numpy(value):
    assert int32(value) == int(np.array(value % 2**64, dtype=np.uint64).astype(np.int32))
    assert int64(value) == int(np.array(value % 2**64, dtype=np.uint64).astype(np.int64))


@pytest.mark.parametrize(("a", "b"), [(7, 2), (-7, 2), (7, -2), (-7, -2), (0, 5), (6, 3)])
def test_c_division_truncates_toward_zero(a, b):
    assert c_div(a, b) == int(np.trunc(a / b))


def test_unsigned_product_wraps_at_64_bits():
    assert uint64_product(2**40, 2**30) == int((np.array([2**40], np.uint64) * np.uint64(2**30))[0])


# ---- facts against the protobuf descriptors ------------------------------------------------------------------

def test_optimizer_kinds_are_the_optimizer_cases_and_their_fields():
    assert {kind.field for kind in OptimizerKind} == _cases(nn_pb2().Optimizer, "OptimizerType")
    for kind in OptimizerKind:
        message = getattr(nn_pb2(), {"sgdOptimizer": "SGDOptimizer", "adamOptimizer": "AdamOptimizer"}[kind.field])
        assert kind.parameter_keys == tuple(field.name for field in message.DESCRIPTOR.fields)
    assert OptimizerKind.parse("adam") is OptimizerKind.ADAM
    with pytest.raises(UsageError, match="unknown optimizer 'rmsprop'; choose one of sgd, adam"):
        OptimizerKind.parse("rmsprop")


def test_activation_kinds_are_activation_params_cases():
    cases = _cases(nn_pb2().ActivationParams, "NonlinearityType")
    assert RECURRENT_ACTIVATION_KINDS <= ACTIVATION_KINDS <= cases
    assert ELEMENTWISE_ACTIVATION_KINDS <= ACTIVATION_KINDS


def test_feature_type_names_cover_every_feature_type_case():
    assert set(FEATURE_TYPE_NAMES) == _cases(model_pb2().FeatureType, "Type")


def test_regrouping_and_network_parameter_names_exist_in_the_proto():
    assert REGROUPING_KINDS <= _cases(nn_pb2().NeuralNetworkLayer, "layer")
    fields = {field.name for field in nn_pb2().NetworkUpdateParameters.DESCRIPTOR.fields}
    assert set(NETWORK_PARAMETER_KEYS) <= fields


def test_shape_mapping_values_are_the_proto_enums():
    arrays, images = nn_pb2().NeuralNetworkMultiArrayShapeMapping, nn_pb2().NeuralNetworkImageShapeMapping
    assert (RANK5_ARRAY_MAPPING, EXACT_ARRAY_MAPPING) == (arrays.Value("RANK5_ARRAY_MAPPING"),
                                                          arrays.Value("EXACT_ARRAY_MAPPING"))
    assert (RANK5_IMAGE_MAPPING, RANK4_IMAGE_MAPPING) == (images.Value("RANK5_IMAGE_MAPPING"),
                                                          images.Value("RANK4_IMAGE_MAPPING"))


def test_pipeline_message_of_every_pipeline_kind():
    for kind in PIPELINE_KINDS:
        spec = model_pb2().Model()
        getattr(spec, kind).SetInParent()
        stage = pipeline_message(spec).models.add()
        stage.specificationVersion = 7
        assert [model.specificationVersion for model in
                (spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline).models] == [7]
    network = model_pb2().Model()
    network.neuralNetwork.SetInParent()
    assert pipeline_message(network) is None


def test_update_parameters_read_as_coremltools_wrote_them():
    """A spec made updatable by coremltools' own builder (Adam, epochs, shuffle) reads back as written."""
    from coremltools.models.neural_network import AdamParams, NeuralNetworkBuilder
    from coremltools.models import datatypes

    builder = NeuralNetworkBuilder([("x", datatypes.Array(3))], [("y", datatypes.Array(2))])
    builder.add_inner_product("dense", np.ones((2, 3)), np.zeros(2), 3, 2, True, "x", "y")
    builder.make_updatable(["dense"])
    builder.set_mean_squared_error_loss("loss", input_feature=("y", datatypes.Array(2)))
    builder.set_adam_optimizer(AdamParams(lr=0.01, batch=4, beta1=0.8, beta2=0.9, eps=1e-6))
    builder.set_epochs(5)
    builder.set_shuffle(seed=3)
    update = read_update_parameters(builder.spec.neuralNetwork.updateParams)
    assert update.optimizer is OptimizerKind.ADAM
    assert list(update.declared) == ["learningRate", "miniBatchSize", "beta1", "beta2", "eps", "epochs", "shuffle",
                                     "seed"]
    assert update.declared["beta1"].defaultValue == pytest.approx(0.8)
    assert update.declared["epochs"].defaultValue == 5
    assert [loss.name for loss in update.losses] == ["loss"]
    no_optimizer = read_update_parameters(nn_pb2().NetworkUpdateParameters())
    assert no_optimizer.optimizer is None and no_optimizer.declared == {} and no_optimizer.optimizer_fields == {}


def test_sgd_fields_include_the_unset_momentum_as_protobuf_reads_it():
    update = nn_pb2().NetworkUpdateParameters()
    update.optimizer.sgdOptimizer.learningRate.defaultValue = 0.1
    update.optimizer.sgdOptimizer.miniBatchSize.defaultValue = 2
    read = read_update_parameters(update)
    assert list(read.declared) == ["learningRate", "miniBatchSize"]
    assert list(read.optimizer_fields) == ["learningRate", "miniBatchSize", "momentum"]
    assert read.optimizer_fields["momentum"].defaultValue == 0


# ---- each fact is written once: a literal set of these facts anywhere else in the package fails -------------

PACKAGE = Path(__file__).resolve().parent.parent / "mlsurgery"
# Collections of string literals that spell out one of the facts of coreml.py (a set, tuple or list holding all of a
# fact's members is that fact written again; a dict keyed by layer or model kinds is a table of behaviour, not one).
FACT_SETS = {
    "optimizer names (OptimizerKind)": {kind.value for kind in OptimizerKind},
    "optimizer cases (OptimizerKind.field)": {kind.field for kind in OptimizerKind},
    "loss names (LossKind)": {kind.value for kind in LossKind},
    "pipeline kinds (PIPELINE_KINDS)": set(PIPELINE_KINDS[1:]),
    "network kinds (NETWORK_KINDS)": set(NETWORK_KINDS),
    "regrouping kinds (REGROUPING_KINDS)": set(REGROUPING_KINDS),
    "recurrent activations (RECURRENT_ACTIVATION_KINDS)": set(RECURRENT_ACTIVATION_KINDS),
}
# Numbers that are coreml.py's defaults and nothing else in the package (Adam's beta2 and epsilon).
FACT_NUMBERS = {DEFAULT_BETA2: "DEFAULT_BETA2", DEFAULT_EPS: "DEFAULT_EPS"}
SHAPE_MAPPING_FIELDS = {"arrayInputShapeMapping", "imageInputShapeMapping"}
# Files of sibling branches that still write these facts out; each entry is removed when its branch lands.
NOT_YET_MOVED = {
    "ops/loss.py",  # removed when branch edits lands
    "ops/rewrites/base.py",  # removed when branch edits lands
    "ops/rewrites/loss_input.py",  # removed when branch edits lands
    "ops/rewrites/lift.py",  # removed when branch edits lands
    "ops/split.py",  # removed when branch edits lands
    "ops/features.py",  # removed when branch edits lands
    "engine/training.py",  # removed when branch guards lands
}


def _restated_facts(path: Path) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            strings = {element.value for element in node.elts
                       if isinstance(element, ast.Constant) and isinstance(element.value, str)}
            found += [f"line {node.lineno}: {name}" for name, fact in FACT_SETS.items() if fact <= strings]
        if isinstance(node, ast.Constant) and node.value in FACT_SETS["optimizer cases (OptimizerKind.field)"]:
            found.append(f"line {node.lineno}: optimizer case {node.value!r}")
        if (isinstance(node, ast.Constant) and type(node.value) is float and node.value in FACT_NUMBERS):
            found.append(f"line {node.lineno}: {node.value!r} is {FACT_NUMBERS[node.value]}")
        if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute)
                and node.left.attr in SHAPE_MAPPING_FIELDS
                and any(isinstance(side, ast.Constant) for side in node.comparators)):
            found.append(f"line {node.lineno}: {node.left.attr} compared with a number, not a coreml predicate")
        if (path.parent.name == "cli" and isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
                and type(node.value.value) is int):
            found.append(f"line {node.lineno}: exit code {node.value.value} instead of an EXIT_* name")
    return found


def test_coreml_facts_are_not_restated_in_the_package():
    restated = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative != "coreml.py" and relative not in NOT_YET_MOVED:
            restated.update({f"{relative} {where}": None for where in _restated_facts(path)})
    assert not restated, "facts of mlsurgery/coreml.py written out again:\n" + "\n".join(restated)


def test_the_fact_scan_finds_a_restated_fact(tmp_path):
    """The scan above can fail: each kind of restatement it looks for is found in a sample."""
    sample = tmp_path / "cli" / "sample.py"
    sample.parent.mkdir()
    sample.write_text('CHOICES = ["sgd", "adam"]\nKINDS = ("pipelineClassifier", "pipelineRegressor")\n'
                      'FIELD = "adamOptimizer"\nEPS = 1e-8\nEXACT = network.arrayInputShapeMapping == 1\n'
                      'def run():\n    return 2\n')
    assert len(_restated_facts(sample)) == 6
    for relative in NOT_YET_MOVED:
        assert (PACKAGE / relative).exists(), f"{relative} is gone: drop it from NOT_YET_MOVED"
