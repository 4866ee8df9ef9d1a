"""The validators of the other model types (rules.other_models, estimators, trees, transforms, text, vision_audio).

The per-rule cases live in cases/MLS4xx.py. Here: which model types are dispatched, where the checks sit in
Core ML's order, the tree-ensemble error list, and Core ML's own tests for these types (mlmodel/tests/
VisionFeaturePrintValidatorTests.cpp, SoundAnalysisPreprocessingValidatorTests.cpp,
AudioFeaturePrintValidatorTests.cpp, BayesianProbitRegressionValidationTests.cpp, TreeEnsembleTests.cpp,
LinearModelTests.cpp, OneHotEncoderTests.cpp) written again for whole models: upstream calls the type's
validator directly on a description the generic checks would refuse (unnamed features, no version), so the
specs here take valid names and sizes and the steps keep upstream's order and verdicts.
"""

import re

import pytest

from mlsurgery._proto import model_pb2
from mlsurgery.rules import (
    ALL_RULES,
    MODEL_TYPE_CHECKS,
    estimators,
    other_models,
    text,
    transforms,
    trees,
    vision_audio,
)
from mlsurgery.rules.base import ERROR
from mlsurgery.validate import validate_spec
from rules import model_specs
from rules.verdicts import assert_coreml_first, assert_valid, codes

# Model types with a step of their own in validate.check_model, or none at all in Core ML (Model.cpp).
_OWN_STEP = {"neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor", "pipeline", "pipelineClassifier",
             "pipelineRegressor", "kNearestNeighborsClassifier"}
_NOT_VALIDATED = {"mlProgram", "serializedModel"}


def test_every_other_model_type_has_its_validator():
    model_types = {field.name for field in model_pb2().Model.DESCRIPTOR.oneofs_by_name["Type"].fields}
    assert set(MODEL_TYPE_CHECKS) == model_types - _OWN_STEP - _NOT_VALIDATED


@pytest.mark.parametrize(("module", "pattern"), [
    (other_models, r"MLS4[06]\d"), (estimators, r"MLS4[12]\d"), (trees, r"MLS43\d"), (transforms, r"MLS4[45]\d"),
    (text, r"MLS47\d"), (vision_audio, r"MLS48\d")])
def test_each_family_keeps_to_its_code_range(module, pattern):
    assert module.RULES
    for checked in module.RULES:
        assert re.fullmatch(pattern, checked.code) and checked.severity == ERROR, checked.code
        assert checked in ALL_RULES


@pytest.mark.parametrize("build", model_specs.VALID_BUILDERS, ids=lambda build: build.__name__)
def test_valid_model_of_each_type_has_no_findings(build):
    assert validate_spec(build()).findings == []


@pytest.mark.parametrize("build", model_specs.VALID_BUILDERS, ids=lambda build: build.__name__)
@pytest.mark.parametrize(("side", "code"), [("input", "MLS004"), ("output", "MLS005")])
def test_model_without_inputs_or_outputs_gets_only_the_generic_finding(build, side, code):
    spec = build()
    spec.description.ClearField(side)
    assert codes(spec) == [code]


def test_generic_checks_come_before_the_type_validator():
    spec = model_specs.one_hot_encoder()
    spec.description.input[0].type.isOptional = True
    spec.oneHotEncoder.ClearField("stringCategories")
    assert codes(spec) == ["MLS055", "MLS442"]


def test_pipeline_stages_get_their_type_validator():
    """x → scaler → scaled → GLM regressor → y, as sklearn's converter chains them."""
    spec = model_specs.model()
    model_specs.feature(spec.description.input, "x", "multiArrayType", shape=(2,))
    model_specs.feature(spec.description.output, "y", "doubleType")
    stages = spec.pipelineRegressor.pipeline.models
    scaler = stages.add()
    model_specs.feature(scaler.description.input, "x", "multiArrayType", shape=(2,))
    model_specs.feature(scaler.description.output, "scaled", "multiArrayType", shape=(2,))
    scaler.specificationVersion = spec.specificationVersion
    scaler.scaler.scaleValue.append(2.0)
    regressor = stages.add()
    regressor.CopyFrom(model_specs.glm_regressor())
    regressor.description.input[0].name = "scaled"
    assert_valid(spec)
    regressor.glmRegressor.offset.append(1.0)
    report = assert_coreml_first(spec, "MLS410")
    assert report.coreml_first.where


def test_model_types_core_ml_does_not_validate_get_only_the_generic_checks():
    spec = model_specs.model()
    model_specs.feature(spec.description.input, "x", "multiArrayType")
    model_specs.feature(spec.description.output, "y", "multiArrayType")
    spec.serializedModel.identifier = "whatever"
    assert_valid(spec)


class TestTreeEnsembleErrorList:
    """constructAndValidateTreeEnsembleFromSpec collects its errors in stage order, with three early exits."""

    def test_errors_follow_the_construction_stages(self):
        spec = model_specs.tree_regressor(trees=1)
        ensemble = spec.treeEnsembleRegressor.treeEnsemble
        ensemble.nodes[2].evaluationInfo[0].evaluationIndex = 4  # stage 1: leaf value out of range
        extra_root = ensemble.nodes.add()  # stage 3: a second root in tree 0
        extra_root.CopyFrom(ensemble.nodes[1])
        extra_root.nodeId = 7
        ensemble.basePredictionValue.append(1.0)  # stage 4: two defaults for one dimension
        assert codes(spec) == ["MLS433", "MLS434", "MLS430"]

    def test_an_unlinked_child_ends_the_list(self):
        spec = model_specs.tree_regressor(trees=1)
        ensemble = spec.treeEnsembleRegressor.treeEnsemble
        ensemble.nodes[0].trueChildNodeId = 9  # leaf 2 loses its parent and becomes a second root
        ensemble.basePredictionValue.append(1.0)  # never reached: the walk from root 0 meets the missing child
        assert codes(spec) == ["MLS432", "MLS434"]

    def test_an_unknown_behaviour_replaces_the_errors_before_it(self):
        spec = model_specs.tree_regressor(trees=1)
        nodes = spec.treeEnsembleRegressor.treeEnsemble.nodes
        nodes[1].ClearField("evaluationInfo")
        nodes[2].nodeBehavior = 42
        assert codes(spec) == ["MLS431"]

    def test_core_ml_gives_up_after_50_errors(self):
        spec = model_specs.tree_regressor(trees=1)
        nodes = spec.treeEnsembleRegressor.treeEnsemble.nodes
        for _ in range(60):
            nodes.add().CopyFrom(nodes[1])
        assert codes(spec) == ["MLS432"] * 50


def _scene_or_objects_spec(outputs):
    spec = model_specs.model()
    model_specs.feature(spec.description.input, "image", "imageType")
    for name in outputs:
        model_specs.feature(spec.description.output, name, "multiArrayType", shape=(1,))
    return spec


def test_vision_feature_scene_print_basic():
    """testVisionFeatureScenePrintBasic."""
    spec = _scene_or_objects_spec(["features"])
    spec.visionFeaturePrint.SetInParent()
    assert_coreml_first(spec, "MLS480")
    spec.visionFeaturePrint.scene.SetInParent()
    assert_coreml_first(spec, "MLS480")
    spec.visionFeaturePrint.scene.version = 1
    assert_valid(spec)


def test_vision_feature_object_print_basic():
    """testVisionFeatureObjectPrintBasic."""
    spec = _scene_or_objects_spec(["a", "b"])
    spec.visionFeaturePrint.SetInParent()
    assert_coreml_first(spec, "MLS480")
    objects = spec.visionFeaturePrint.objects
    objects.SetInParent()
    assert_coreml_first(spec, "MLS480")
    objects.version = 1
    assert_coreml_first(spec, "MLS481")
    objects.output.append("a")
    assert_coreml_first(spec, "MLS481")
    objects.output.append("b")
    assert_valid(spec)


def test_vggish_preprocessing_basic():
    """testVggishPreprocessingBasic (upstream's arrays start without a data type; here DOUBLE, which is valid)."""
    spec = model_specs.vggish_preprocessing()
    input_array = spec.description.input[0].type.multiArrayType
    output_array = spec.description.output[0].type.multiArrayType
    input_array.dataType = output_array.dataType = model_specs.DOUBLE
    spec.soundAnalysisPreprocessing.ClearField("vggish")
    spec.soundAnalysisPreprocessing.SetInParent()
    assert_coreml_first(spec, "MLS482")
    spec.soundAnalysisPreprocessing.vggish.SetInParent()
    assert_coreml_first(spec, "MLS483")
    input_array.shape[0] = 15599
    assert_coreml_first(spec, "MLS483")
    input_array.shape[0] = 15600
    input_array.dataType = model_specs.FLOAT32
    assert_coreml_first(spec, "MLS483")
    output_array.shape[1] = 95
    assert_coreml_first(spec, "MLS483")
    output_array.shape[1] = 96
    output_array.shape[2] = 65
    assert_coreml_first(spec, "MLS483")
    output_array.shape[2] = 64
    del output_array.shape[:]
    output_array.shape.extend([96, 64])
    assert_coreml_first(spec, "MLS483")
    del output_array.shape[:]
    output_array.shape.extend([1, 96, 64])
    output_array.dataType = model_specs.FLOAT32
    assert_valid(spec)


def test_audio_feature_sound_print_basic():
    """testAudioFeatureSoundPrintBasic."""
    spec = model_specs.audio_print()
    spec.audioFeaturePrint.ClearField("sound")
    spec.audioFeaturePrint.SetInParent()
    assert_coreml_first(spec, "MLS484")
    spec.audioFeaturePrint.sound.SetInParent()
    assert_coreml_first(spec, "MLS484")
    spec.audioFeaturePrint.sound.version = 1
    assert_valid(spec)


def test_bayesian_probit_regression_validation_basic():
    """testBayesianProbitRegressionValidationBasic: a [10, 10] input is refused until it is INT32."""
    spec = model_specs.bayesian_probit_regressor()
    spec.description.input[0].type.multiArrayType.dataType = model_specs.DOUBLE
    assert_coreml_first(spec, "MLS419")
    spec.description.input[0].type.multiArrayType.dataType = model_specs.INT32
    assert_valid(spec)


def test_tree_ensemble_basic():
    """testTreeEnsembleBasic: a stump on two Double inputs, node 0 branching to leaves 1 and 2."""
    spec = model_specs.model()
    for name in ("x", "y"):
        model_specs.feature(spec.description.input, name, "doubleType")
    model_specs.feature(spec.description.output, "z", "doubleType")
    ensemble = spec.treeEnsembleRegressor.treeEnsemble
    ensemble.numPredictionDimensions = 1
    ensemble.basePredictionValue.append(0.0)
    branch = model_specs.add_tree(ensemble)
    branch.nodeBehavior, branch.branchFeatureValue = 3, 5  # BranchOnValueGreaterThan
    branch.falseChildNodeId, branch.trueChildNodeId = 2, 1
    assert_valid(spec)


def test_linear_model_basic():
    """testLinearModelBasic: Int64 and Double inputs, a Double output."""
    spec = model_specs.model()
    for name, kind in (("x", "int64Type"), ("y", "doubleType"), ("z", "int64Type")):
        model_specs.feature(spec.description.input, name, kind)
    model_specs.feature(spec.description.output, "foo", "doubleType")
    spec.description.predictedFeatureName = "foo"
    spec.glmRegressor.weights.add().value.extend([1.0, 2.0, 3.0])
    spec.glmRegressor.offset.append(0.0)
    assert_valid(spec)


@pytest.mark.parametrize(("kind", "valid"), [("int64Type", True), ("stringType", True), ("doubleType", False),
                                             ("imageType", False), ("multiArrayType", False),
                                             ("dictionaryType", False)])
def test_one_hot_encoder_basic(kind, valid):
    """testOneHotEncoderBasic, with its commented-out refusals: Int64 and String inputs only."""
    spec = model_specs.one_hot_encoder()
    model_specs.set_type(spec.description.input[0], kind)
    if valid:
        assert_valid(spec)
    else:
        assert_coreml_first(spec, "MLS400")
