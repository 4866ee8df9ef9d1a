"""Every case of Core ML's UpdatableModelValidatorTests.cpp, run through mlsurgery's validator.

Upstream: apple/coremltools mlmodel/tests/UpdatableModelValidatorTests.cpp. Each test function is the upstream
test of the same name in snake_case (named in its docstring) and builds the same spec with tests/rules/specs.py.
Upstream only asserts good/bad; here each bad verdict also names the rule Core ML's first error corresponds to,
worked out from the validator's check order (sometimes another check than the one the upstream test is about
fails first; the comment says so).
"""

from mlsurgery.validate import validate_spec
from rules import specs
from rules.specs import ADAM, SGD
from rules.verdicts import assert_coreml_first, assert_valid, codes


def test_invalid_updatable_model_wrong_type():
    """testInvalidUpdatableModelWrongType: an identity model cannot be updatable."""
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "input", 1, specs.INT32)
    output = model.description.output.add()
    output.name = "output"
    output.type.multiArrayType.dataType = specs.INT32
    model.identity.SetInParent()
    model.isUpdatable = True
    model.specificationVersion = specs.IOS13
    assert_coreml_first(model, "MLS051")


def _single_layer_model(layer_name: str = ""):
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "input", 1, specs.INT32)
    output = model.description.output.add()
    output.name = "probs"
    output.type.multiArrayType.dataType = specs.INT32
    model.isUpdatable = True
    model.specificationVersion = specs.IOS13
    layer = model.neuralNetwork.layers.add()
    layer.input.append("input")
    layer.output.append("probs")
    layer.name = layer_name
    return model, layer


def test_invalid_updatable_model_wrong_layer():
    """testInvalidUpdatableModelWrongLayer: an embedding layer cannot be updatable."""
    model, layer = _single_layer_model("embed")
    layer.isUpdatable = True
    embedding = layer.embedding
    embedding.inputDim = 5
    embedding.outputChannels = 3
    embedding.hasBias = True
    embedding.weights.floatValue.extend([1.0] * 15)
    embedding.bias.floatValue.extend([1.0] * 3)
    assert_coreml_first(model, "MLS201")


def _updatable_inner_product(model, layer, *, weights_updatable: bool, bias_updatable: bool, has_bias=True):
    layer.isUpdatable = True
    params = layer.innerProduct
    params.inputChannels = 1
    params.outputChannels = 1
    params.weights.floatValue.append(1.0)
    params.weights.isUpdatable = weights_updatable
    params.hasBias = has_bias
    if has_bias:
        params.bias.floatValue.append(1.0)
        params.bias.isUpdatable = bias_updatable
    return model


def test_invalid_updatable_model_wrong_weights():
    """testInvalidUpdatableModelWrongWeights: the weights of an updatable layer must be updatable."""
    model, layer = _single_layer_model("ip")
    _updatable_inner_product(model, layer, weights_updatable=False, bias_updatable=True)
    assert_coreml_first(model, "MLS203")


def test_invalid_updatable_model_wrong_biases():
    """testInvalidUpdatableModelWrongBiases: the bias of an updatable layer must be updatable."""
    model, layer = _single_layer_model()
    _updatable_inner_product(model, layer, weights_updatable=True, bias_updatable=False)
    assert_coreml_first(model, "MLS203")


def test_invalid_updatable_model_non_updatable_layers():
    """testInvalidUpdatableModelNonUpdatableLayers: an updatable model needs an updatable layer."""
    model, layer = _single_layer_model()
    _updatable_inner_product(model, layer, weights_updatable=False, bias_updatable=False)
    layer.isUpdatable = False
    assert_coreml_first(model, "MLS200")


def test_invalid_updatable_modelwith_collided_layer_and_loss_layer_names():
    """testInvalidUpdatableModelwithCollidedLayerAndLossLayerNames."""
    model, layer = _single_layer_model("name1")
    model.neuralNetwork.updateParams.lossLayers.add().name = "name1"
    _updatable_inner_product(model, layer, weights_updatable=True, bias_updatable=True)
    assert_coreml_first(model, "MLS204")


def test_invalid_model_unsupported_layers_for_bp():
    """testInvalidModelUnsupportedLayersForBP: inner_product (U) → abs → pooling → CCE.

    Core ML reports the loss input first (pooling is not a softmax); the unary layer between the updatable layer
    and the loss, which the test is about, is found by the later backprop walk.
    """
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "A", 3)
    output = model.description.output.add()
    output.name = "B"
    output.type.multiArrayType.dataType = specs.FLOAT32
    model.isUpdatable = True
    model.specificationVersion = specs.IOS13
    network = model.neuralNetwork
    specs.add_inner_product(model, updatable=True, name="inner_layer", input="A", output="ip")
    unary = network.layers.add()
    unary.name = "abs_layer"
    unary.input.append("ip")
    unary.output.append("abs_out")
    unary.unary.type = type(unary.unary).ABS
    pooling = network.layers.add()
    pooling.name = "pooling_layer"
    pooling.input.append("abs_out")
    pooling.output.append("B")
    pooling.pooling.type = type(pooling.pooling).AVERAGE
    pooling.pooling.globalPooling = True
    pooling.pooling.valid.SetInParent()
    loss = network.updateParams.lossLayers.add()
    loss.name = "loss_layer"
    loss.categoricalCrossEntropyLossLayer.input = "B"
    loss.categoricalCrossEntropyLossLayer.target = "label_target"
    report = assert_coreml_first(model, "MLS206")
    blocked = [f for f in report.findings if f.code == "MLS218"]
    assert [(f.layer, "'abs_layer'" in f.message) for f in blocked] == [("inner_layer", True)]


def test_invalid_updatable_layer_missing_bias():
    """testInvalidUpdatableLayerMissingBias: without a bias the weights still must be marked updatable."""
    model, layer = _single_layer_model("ip")
    _updatable_inner_product(model, layer, weights_updatable=False, bias_updatable=False, has_bias=False)
    assert_coreml_first(model, "MLS203")


def _updatable_model_with_loss(kind: str):
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "A", 3)
    output = model.description.output.add()
    output.name = "B"
    output.type.multiArrayType.dataType = specs.FLOAT32
    model.isUpdatable = True
    model.specificationVersion = specs.IOS13
    specs.add_inner_product(model, updatable=True, name="inner_layer", input="A", output="B")
    loss = model.neuralNetwork.updateParams.lossLayers.add()
    loss.name = f"{kind}_loss_layer"
    params = loss.categoricalCrossEntropyLossLayer if kind == "cross_entropy" else loss.meanSquaredErrorLossLayer
    params.input = "C"
    params.target = "label_target"
    return model


def test_invalid_categorical_cross_entropy_loss_layer_inputs():
    """testInvalidCategoricalCrossEntropyLossLayerInputs: the loss input C is produced by no layer."""
    assert_coreml_first(_updatable_model_with_loss("cross_entropy"), "MLS206")


def test_invalid_mean_squared_error_loss_layer_inputs():
    """testInvalidMeanSquaredErrorLossLayerInputs: the loss input C is produced by no layer."""
    assert_coreml_first(_updatable_model_with_loss("mse"), "MLS208")


def _dense_softmax_dense_softmax(first_updatable: bool):
    model = specs.new_model()
    network = specs.basic_network(model, updatable=first_updatable)
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_inner_product(model, updatable=True, name="inner_layer_after_softmax", input="softmax_out",
                            output="inner_layer_after_softmax_out")
    specs.add_softmax(model, "softmax_2", "inner_layer_after_softmax_out", "softmax_2_out")
    loss = network.updateParams.lossLayers.add()
    loss.name = "cross_entropy_loss_layer"
    loss.categoricalCrossEntropyLossLayer.input = "softmax_2_out"
    loss.categoricalCrossEntropyLossLayer.target = "label_target"
    specs.add_sgd_defaults(network)
    return model


def test_invalid_model_invalid_softmax():
    """testInvalidModelInvalidSoftmax: Dense(U) → SM → Dense(U) → SM → CCE; the first softmax blocks."""
    report = assert_coreml_first(_dense_softmax_dense_softmax(first_updatable=True), "MLS218")
    first = report.coreml_first
    assert first.layer == "inner_layer" and "'softmax'" in first.message


def test_valid_model_valid_multiple_softmax_1():
    """testValidModelValidMultipleSoftmax_1: the first dense is frozen (and the model itself not updatable)."""
    assert_valid(_dense_softmax_dense_softmax(first_updatable=False))


def test_valid_model_valid_multiple_softmax_2():
    """testValidModelValidMultipleSoftmax_2: CCE on the first softmax; the branch after it is out of scope."""
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True)
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    specs.add_inner_product(model, updatable=True, name="inner_layer_after_softmax", input="softmax_out",
                            output="inner_layer_after_softmax_out")
    specs.add_softmax(model, "softmax_2", "inner_layer_after_softmax_out", "softmax_2_out")
    specs.add_sgd_defaults(network)
    assert_valid(model)


def test_valid_model_multiple_softmax_outputs():
    """testValidModelMultipleSoftmaxOutputs: a frozen dense also reads the softmax feeding the loss."""
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True)
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_inner_product(model, updatable=False, name="inner_layer_after_softmax", input="softmax_out",
                            output="inner_layer_after_softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    specs.add_sgd_defaults(network)
    assert_valid(model)


def test_invalid_model_multiple_loss():
    """testInvalidModelMultipleLoss: two cross-entropy losses."""
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True)
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_inner_product(model, updatable=True, name="inner_layer_after_softmax", input="softmax_out",
                            output="inner_layer_after_softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer_1", "softmax_1_out", "label_target")
    specs.add_softmax(model, "softmax_2", "inner_layer_after_softmax_out", "softmax_2_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer_2", "softmax_2_out", "label_target")
    specs.add_sgd_defaults(network)
    assert_coreml_first(model, "MLS205")


def test_missing_updatable_model_parameters():
    """testMissingUpdatableModelParameters: no optimizer, with a CCE loss and then with an MSE loss."""
    assert_coreml_first(specs.updatable_network_with_softmax_and_cross_entropy(), "MLS211")
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True)
    specs.add_mean_squared_error(model, network, "mean_squared_error_loss_layer", "B", "label_target")
    assert_coreml_first(model, "MLS211")


def test_updatable_model_spec_version():
    """testUpdatableModelSpecVersion: version 3 is rejected, version 4 accepted."""
    model = specs.valid_updatable_network()
    model.specificationVersion = 3
    assert_coreml_first(model, "MLS050")
    model.specificationVersion = specs.IOS13
    assert_valid(model)


def _quantized_updatable_layer(weights: bool, bias: bool):
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True, quantized_weights=weights, quantized_bias=bias)
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    specs.add_sgd_defaults(network)
    return model


def test_invalid_updatable_model_quantized_weights():
    """testInvalidUpdatableModelQuantizedWeights."""
    assert_coreml_first(_quantized_updatable_layer(True, False), "MLS202")


def test_invalid_updatable_model_quantized_bias():
    """testInvalidUpdatableModelQuantizedBias."""
    assert_coreml_first(_quantized_updatable_layer(False, True), "MLS202")


def test_valid_updatable_model_quantized_weights_and_bias_for_non_updatable_layer():
    """testValidUpdatableModelQuantizedWeightsAndBiasForNonUpdatableLayer."""
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True)
    specs.add_inner_product(model, updatable=False, name="non_updatable_fc", input="B",
                            output="non_updatable_fc_output", quantized_weights=True, quantized_bias=True)
    specs.add_softmax(model, "softmax", "non_updatable_fc_output", "softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    specs.add_sgd_defaults(network)
    assert_valid(model)


def test_missing_mini_batch_size_parameter():
    """testMissingMiniBatchSizeParameter."""
    model = specs.updatable_network_with_softmax_and_cross_entropy()
    assert_coreml_first(model, "MLS211")
    specs.add_learning_rate(model.neuralNetwork, SGD)
    assert_coreml_first(model, "MLS210")
    specs.add_mini_batch_size(model.neuralNetwork, SGD)
    specs.add_epochs(model.neuralNetwork)
    assert_valid(model)


def test_missing_learning_rate_parameter():
    """testMissingLearningRateParameter."""
    model = specs.updatable_network_with_softmax_and_cross_entropy()
    assert_coreml_first(model, "MLS211")
    specs.add_mini_batch_size(model.neuralNetwork, SGD)
    report = assert_coreml_first(model, "MLS210")
    assert "learningRate" in report.coreml_first.message
    specs.add_learning_rate(model.neuralNetwork, SGD)
    specs.add_epochs(model.neuralNetwork)
    assert_valid(model)


def _adam_missing(missing: str):
    model = specs.updatable_network_with_softmax_and_cross_entropy()
    assert_coreml_first(model, "MLS211")
    network = model.neuralNetwork
    specs.add_learning_rate(network, ADAM)
    specs.add_mini_batch_size(network, ADAM)
    specs.add_epochs(network)
    adders = {"beta1": specs.add_beta1, "beta2": specs.add_beta2, "eps": specs.add_eps}
    for name, add in adders.items():
        if name != missing:
            add(network)
    report = assert_coreml_first(model, "MLS210")
    assert f"no {missing}" in report.coreml_first.message
    adders[missing](network)
    assert_valid(model)


def test_missing_beta1_parameter():
    """testMissingBeta1Parameter."""
    _adam_missing("beta1")


def test_missing_beta2_parameter():
    """testMissingBeta2Parameter."""
    _adam_missing("beta2")


def test_missing_eps_parameter():
    """testMissingEpsParameter."""
    _adam_missing("eps")


def test_missing_epochs_parameter():
    """testMissingEpochsParameter."""
    model = specs.updatable_network_with_softmax_and_cross_entropy()
    assert_coreml_first(model, "MLS211")
    specs.add_mini_batch_size(model.neuralNetwork, SGD)
    specs.add_learning_rate(model.neuralNetwork, SGD)
    assert_coreml_first(model, "MLS212")


def test_existing_shuffle_with_missing_seed_parameter():
    """testExistingShuffleWithMissingSeedParameter: seed 100 within [0, 100]."""
    model = specs.valid_updatable_network()
    specs.add_shuffle_and_seed(model.neuralNetwork, 100, 0, 100)
    assert_valid(model)


# --- Pipelines --------------------------------------------------------------------------------------------

A, B, C, D = ("A", 3), ("B", 1), ("C", 1), ("D", 3)


def _four_stage_pipeline(pipeline_updatable: bool, updatable_stages: set[int]):
    spec = specs.four_stage_pipeline(updatable=pipeline_updatable, updatable_stages=updatable_stages)
    return spec, list(spec.pipeline.models)


def test_non_updatable_pipeline_with_non_updatable_models():
    """testNonUpdatablePipelineWithNonUpdatableModels."""
    spec, stages = _four_stage_pipeline(False, set())
    for stage in stages:
        assert_valid(stage)
    assert_valid(spec)


def test_non_updatable_pipeline_with_one_updatable_model():
    """testNonUpdatablePipelineWithOneUpdatableModel: an updatable k-NN inside a frozen pipeline."""
    spec, stages = _four_stage_pipeline(False, {4})
    for stage in stages:
        assert_valid(stage)
    report = assert_coreml_first(spec, "MLS307")
    assert report.coreml_first.where == "pipeline stage 4"


def _nested_pipeline(outer_updatable: bool):
    """testNon/UpdatablePipelineWithOneUpdatableModelInsidePipelineHierarchy's specs."""
    spec = specs.new_model()
    outer = specs.empty_pipeline_with_string_output(spec, updatable=outer_updatable, inputs=A, output_name="E")
    m1, m2, m3 = (outer.models.add() for _ in range(3))
    specs.basic_network(m1, updatable=False, inputs=A, outputs=B)
    if outer_updatable:
        specs.basic_network(m2, updatable=False, inputs=B, outputs=C)
        inner = specs.empty_pipeline_with_string_output(m3, updatable=True, inputs=C, output_name="E")
        m4, m5 = inner.models.add(), inner.models.add()
        specs.basic_network(m4, updatable=False, inputs=C, outputs=D)
        specs.basic_nearest_neighbors(m5, updatable=True, inputs=D, output_name="E")
    else:
        inner = specs.empty_pipeline(m2, updatable=False, inputs=B, outputs=D)
        specs.basic_nearest_neighbors(m3, updatable=False, inputs=D, output_name="E")
        m4, m5 = inner.models.add(), inner.models.add()
        specs.basic_network(m4, updatable=False, inputs=B, outputs=C)
        specs.basic_network(m5, updatable=True, inputs=C, outputs=D)
        specs.add_cross_entropy_with_softmax_and_sgd(m5, "D")
    return spec, (m1, m2, m3, m4, m5)


def test_non_updatable_pipeline_with_one_updatable_model_inside_pipeline_hierarchy():
    """testNonUpdatablePipelineWithOneUpdatableModelInsidePipelineHierarchy."""
    spec, (m1, m2, m3, m4, m5) = _nested_pipeline(outer_updatable=False)
    for stage in (m1, m3, m4, m5):
        assert_valid(stage)
    assert_coreml_first(m2, "MLS307")
    report = assert_coreml_first(spec, "MLS307")
    assert report.coreml_first.where == "pipeline stage 2 › pipeline stage 2"


def test_updatable_pipeline_with_non_updatable_models():
    """testUpdatablePipelineWithNonUpdatableModels: the last model must be updatable."""
    spec, stages = _four_stage_pipeline(True, set())
    for stage in stages:
        assert_valid(stage)
    assert_coreml_first(spec, "MLS306")


def test_updatable_pipeline_with_multiple_updatable_models():
    """testUpdatablePipelineWithMultipleUpdatableModels: only the last model may be updatable."""
    spec, stages = _four_stage_pipeline(True, {1, 3})
    for stage in stages:
        assert_valid(stage)
    report = assert_coreml_first(spec, "MLS305")
    assert report.coreml_first.where == "pipeline stage 1"
    assert [f.code for f in report.errors] == ["MLS305", "MLS305", "MLS306"]


def test_updatable_pipeline_with_one_updatable_model():
    """testUpdatablePipelineWithOneUpdatableModel: an updatable k-NN as the last stage."""
    spec, stages = _four_stage_pipeline(True, {4})
    for stage in stages:
        assert_valid(stage)
    assert_valid(spec)


def test_updatable_pipeline_with_one_updatable_model_inside_pipeline_hierarchy():
    """testUpdatablePipelineWithOneUpdatableModelInsidePipelineHierarchy."""
    spec, stages = _nested_pipeline(outer_updatable=True)
    for stage in stages:
        assert_valid(stage)
    assert_valid(spec)


def test_valid_updatable_model_with1024_layers():
    """testValidUpdatableModelWith1024Layers."""
    model = specs.new_model()
    specs.basic_network(model, updatable=True, inputs=("InTensor", 3), outputs=("OutTensor", 1), layers=1024)
    specs.add_cross_entropy_with_softmax_and_sgd(model, "OutTensor")
    assert_valid(model)


# --- Training inputs ------------------------------------------------------------------------------------

IN, OUT = ("InTensor", 3), ("OutTensor", 1)


def _deep_network_with_softmax(*, loss_target: str | None = None, with_training_target: bool = True):
    """The 1024-layer updatable network of the training-input tests, with a softmax and an SGD setup."""
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True, inputs=IN, outputs=OUT, layers=1024)
    specs.add_softmax(model, "softmax", "OutTensor", "softmax_out")
    if loss_target is not None:
        if with_training_target:
            specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", loss_target)
        else:
            loss = network.updateParams.lossLayers.add()
            loss.name = "cross_entropy_loss_layer"
            loss.categoricalCrossEntropyLossLayer.input = "softmax_out"
            loss.categoricalCrossEntropyLossLayer.target = loss_target
    specs.add_sgd_defaults(network)
    specs.add_shuffle_and_seed(network)
    return model


def _target_input(model, name: str):
    specs.add_array_feature(model.description.trainingInput, name, 1, specs.INT32)


def _add_model_inputs_to_training(model):
    model.description.trainingInput.extend(model.description.input)


def _pretend_classifier_outputs(model):
    """A non-classifier that still describes a predicted feature and probabilities (upstream's edge case)."""
    specs.string_feature(model.description.output, "predictedFeatures")
    probabilities = model.description.output.add()
    probabilities.name = "probs"
    probabilities.type.dictionaryType.stringKeyType.SetInParent()
    model.description.predictedFeatureName = "predictedFeatures"
    model.description.predictedProbabilitiesName = "probs"


def _only_tensor_output(model):
    del model.description.output[:]
    specs.add_array_feature(model.description.output, *OUT)


def _fake_input(model, name="madeUpInput"):
    specs.add_array_feature(model.description.trainingInput, name, 3)


def test_invalid__no_training_inputs():
    """testInvalid_NoTrainingInputs."""
    model = _deep_network_with_softmax(loss_target="target")
    del model.description.trainingInput[:]
    assert_coreml_first(model, "MLS219")
    _target_input(model, "target")
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__only_model_inputs():
    """testInvalid_OnlyModelInputs."""
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    assert_coreml_first(model, "MLS219")
    _target_input(model, "target")
    assert_valid(model)


def test_invalid__only_target():
    """testInvalid_OnlyTarget."""
    model = _deep_network_with_softmax(loss_target="cce_target")
    del model.description.trainingInput[:]
    _target_input(model, "cce_target")
    assert_coreml_first(model, "MLS219")
    _only_tensor_output(model)
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__only_predicted_feature_name():
    """testInvalid_OnlyPredictedFeatureName.

    Core ML's first error here is that a neural network (not a classifier) has a String output; among the
    updatable checks, a single training input comes first.
    """
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    _pretend_classifier_outputs(model)
    del model.description.trainingInput[:]
    specs.string_feature(model.description.trainingInput, "predictedFeatures")
    assert_coreml_first(model, "MLS219")
    _only_tensor_output(model)
    _target_input(model, "target")
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__only_target_and_predicted_feature_name():
    """testInvalid_OnlyTargetAndPredictedFeatureName (a String output is Core ML's first error, as above)."""
    model = _deep_network_with_softmax(loss_target="cce_target")
    _pretend_classifier_outputs(model)
    del model.description.trainingInput[:]
    _target_input(model, "cce_target")
    specs.string_feature(model.description.trainingInput, "predictedFeatures")
    assert_coreml_first(model, "MLS221")
    _only_tensor_output(model)
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__target_and_fake_model_inputs():
    """testInvalid_TargetAndFakeModelInputs."""
    model = _deep_network_with_softmax(loss_target="cce_target")
    del model.description.trainingInput[:]
    _fake_input(model)
    _target_input(model, "cce_target")
    assert_coreml_first(model, "MLS221")
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__predicted_feature_name_and_fake_model_inputs():
    """testInvalid_PredictedFeatureNameAndFakeModelInputs (a String output is Core ML's first error)."""
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    _pretend_classifier_outputs(model)
    del model.description.trainingInput[:]
    _fake_input(model)
    specs.string_feature(model.description.trainingInput, "predictedFeatures")
    assert_coreml_first(model, "MLS221")
    _only_tensor_output(model)
    _target_input(model, "target")
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__target_predicted_feature_name_and_fake_model_inputs():
    """testInvalid_TargetPredictedFeatureNameAndFakeModelInputs (a String output is Core ML's first error)."""
    model = _deep_network_with_softmax(loss_target="cce_target")
    _pretend_classifier_outputs(model)
    del model.description.trainingInput[:]
    _fake_input(model)
    _target_input(model, "cce_target")
    specs.string_feature(model.description.trainingInput, "predictedFeatures")
    assert_coreml_first(model, "MLS221")
    _only_tensor_output(model)
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__predicted_feature_name():
    """testInvalid_PredictedFeatureName: only a classifier may use its predicted label as the target.

    (A String output is Core ML's first error; among the training-input checks the missing target is.)
    """
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    _pretend_classifier_outputs(model)
    specs.string_feature(model.description.trainingInput, "predictedFeatures")
    assert_coreml_first(model, "MLS223")
    _only_tensor_output(model)
    _target_input(model, "target")
    assert_valid(model)


def test_valid__target_and_predicted_feature_name():
    """testValid_TargetAndPredictedFeatureName."""
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    model.description.predictedFeatureName = "predictedFeatures"
    model.description.predictedProbabilitiesName = "probs"
    _target_input(model, "target")
    specs.string_feature(model.description.trainingInput, "predictedFeatures")
    assert_valid(model)


def test_valid__target_and_real_and_fake_training_inputs():
    """testValid_TargetAndRealAndFakeTrainingInputs."""
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    _fake_input(model)
    _target_input(model, "target")
    assert_valid(model)


def test_valid__target_one_of_two_model_inputs():
    """testValid_TargetOneOfTwoModelInputs: a second, unused model input is not a training input."""
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    specs.add_array_feature(model.description.input, "fakeInput", 3)
    _target_input(model, "target")
    assert_valid(model)


def test_valid__target_unused_one_of_two_model_input():
    """testValid_TargetUnusedOneOfTwoModelInput: the unused model input as the only model training input."""
    model = _deep_network_with_softmax(loss_target="target", with_training_target=False)
    del model.description.trainingInput[:]
    fake = specs.add_array_feature(model.description.input, "fakeInput", 3)
    model.description.trainingInput.add().CopyFrom(fake)
    _target_input(model, "target")
    assert_valid(model)


def test_valid_1_inference_and3_training_inputs():
    """testValid_1InferenceAnd3TrainingInputs (upstream's second made-up input ends up with no type)."""
    model = _deep_network_with_softmax(loss_target="cce_target", with_training_target=False)
    made_up = specs.add_array_feature(model.description.trainingInput, "madeUpInput", 6)
    model.description.trainingInput.add().name = "madeUpInput2"
    assert len(made_up.type.multiArrayType.shape) == 6
    _target_input(model, "cce_target")
    assert_valid(model)


def _classifier_training_inputs(*extra):
    model = specs.new_model()
    specs.basic_classifier(model, updatable=True)
    model.specificationVersion = specs.IOS13
    del model.description.trainingInput[:]
    for add in extra:
        add(model)
    return model


def _label_input(model, kind="stringType"):
    feature = model.description.trainingInput.add()
    feature.name = model.description.predictedFeatureName
    getattr(feature.type, kind).SetInParent()
    return feature


def _classifier_target_input(model):
    _target_input(model, specs.loss(model).categoricalCrossEntropyLossLayer.target)


def test_invalid__classifier__only_predicted_feature_name():
    """testInvalid_Classifier_OnlyPredictedFeatureName."""
    model = _classifier_training_inputs(_label_input)
    assert_coreml_first(model, "MLS219")
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_invalid__classifier__only_target():
    """testInvalid_Classifier_OnlyTarget."""
    model = _classifier_training_inputs(_classifier_target_input)
    assert_coreml_first(model, "MLS219")
    _add_model_inputs_to_training(model)
    assert_valid(model)


def test_valid__classifier__predicted_feature_name():
    """testValid_Classifier_PredictedFeatureName."""
    assert_valid(_classifier_training_inputs(_add_model_inputs_to_training, _label_input))


def test_valid__classifier__target():
    """testValid_Classifier_Target."""
    assert_valid(_classifier_training_inputs(_add_model_inputs_to_training, _classifier_target_input))


def test_valid__classifier__predicted_feature_name_and_target():
    """testValid_Classifier_PredictedFeatureNameAndTarget."""
    assert_valid(_classifier_training_inputs(_add_model_inputs_to_training, _classifier_target_input, _label_input))


def test_invalid__classifier__predicted_feature_name_wrong_type():
    """testInvalid_Classifier_PredictedFeatureNameWrongType: an Int64 label input for String labels."""
    model = _classifier_training_inputs(_add_model_inputs_to_training)
    label = _label_input(model, "int64Type")
    assert_coreml_first(model, "MLS222")
    label.type.stringType.SetInParent()
    assert_valid(model)


def test_valid__with_mse():
    """testValid_WithMSE."""
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True, inputs=IN, outputs=OUT, layers=1024)
    specs.add_mean_squared_error(model, network, "mean_square_error", "OutTensor", "mse_target")
    del model.description.trainingInput[:]
    _add_model_inputs_to_training(model)
    specs.add_array_feature(model.description.trainingInput, "mse_target", 1, specs.DOUBLE)
    specs.add_sgd_defaults(network)
    specs.add_shuffle_and_seed(network)
    assert_valid(model)


def test_valid__pipeline():
    """testValid_Pipeline: an updatable network without loss inside an updatable pipeline, then fixed."""
    spec = specs.new_model()
    pipeline = specs.empty_pipeline_with_string_output(spec, updatable=True, inputs=A, output_name="E")
    m1, m2, m3, m4 = (pipeline.models.add() for _ in range(4))
    specs.basic_network(m1, updatable=False, inputs=A, outputs=B)
    specs.basic_network(m2, updatable=False, inputs=B, outputs=C)
    network = specs.basic_network(m3, updatable=True, inputs=C, outputs=D)
    specs.basic_nearest_neighbors(m4, updatable=False, inputs=D, output_name="E")
    for stage in (m1, m2, m4):
        assert_valid(stage)
    assert_coreml_first(m3, "MLS211")
    report = assert_coreml_first(spec, "MLS211")
    assert report.coreml_first.where == "pipeline stage 3"
    specs.add_softmax(m3, "softmax", "D", "softmax_out")
    loss = network.updateParams.lossLayers.add()
    loss.name = "cce_loss"
    loss.categoricalCrossEntropyLossLayer.input = "softmax_out"
    loss.categoricalCrossEntropyLossLayer.target = "cce_target"
    _target_input(m3, "cce_target")
    specs.add_sgd_defaults(network)
    specs.add_shuffle_and_seed(network)
    assert_valid(m3)


def test_every_error_of_a_spec_is_reported_not_only_the_first():
    """Not upstream: the collect-all behaviour on testInvalidModelMultipleLoss's spec."""
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True)
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_cross_entropy(model, network, "loss_1", "softmax_1_out", "label_target")
    specs.add_cross_entropy(model, network, "loss_2", "softmax_out", "label_target")
    assert [code for code in codes(model) if code.startswith("MLS2")] == ["MLS205", "MLS206", "MLS211", "MLS212"]
    assert validate_spec(model).coreml_first.code == "MLS205"
