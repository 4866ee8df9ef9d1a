"""Updatable neural-network checks (MLS2xx): layers, loss, optimizer, parameters, backprop path, training inputs.

Upstream: mlmodel/src/Validation/NeuralNetwork/UpdatableNeuralNetworkValidator.cpp (``validateUpdatableNeuralNetwork``
and ``validateTrainingInputs``, which NeuralNetworkValidator.cpp calls at the end of
``validateNeuralNetworkTopLevel`` for a model marked updatable) and mlmodel/src/Validation/ParameterValidator.cpp.
The functions below run the checks in Core ML's order but keep going after a failure, skipping only checks
whose result would be noise after an earlier one.
"""

from __future__ import annotations

from ..backprop import LossNode, clean_path, coreml_walk, loss_nodes
from ..coreml import UPDATABLE_LAYER_KINDS, LossKind, OptimizerKind, is_quantized, updatable_parameters
from ..network import LayerGraph, NetworkLocation
from .base import Finding, Rule, define_rule
from .pipeline import describe_type, feature_types_equal, features_equivalent

_UPDATABLE = "mlmodel/src/Validation/NeuralNetwork/UpdatableNeuralNetworkValidator.cpp"
_PARAMETERS = "mlmodel/src/Validation/ParameterValidator.cpp"
_GRAPH = _UPDATABLE + ", NeuralNetworkValidatorGraph.hpp"


NO_UPDATABLE_LAYER = define_rule(
    "MLS200", "no-updatable-layer", "An updatable network must have at least one updatable layer.",
    "The model is marked updatable but no layer has isUpdatable set: \"The model is marked as updatable, but "
    "none of the layers are updatable.\"",
    "Mark the layers to train (mlsurgery make-updatable --layers NAME...), or clear the model's isUpdatable.",
    _UPDATABLE)

LAYER_KIND_NOT_UPDATABLE = define_rule(
    "MLS201", "layer-kind-not-updatable",
    "Only convolution, innerProduct and uniDirectionalLSTM layers can be updatable.",
    "Core ML trains only these three layer kinds. Any other layer marked updatable is rejected (the message "
    "says \"neither convolution nor inner-product\" even though uniDirectionalLSTM is allowed). Converters often "
    "emit batchedMatmul instead of innerProduct for dense layers; those cannot be trained.",
    "Clear isUpdatable on the layer; train a convolution/innerProduct layer instead (re-convert dense layers "
    "as innerProduct if needed).", _UPDATABLE)

QUANTIZED_UPDATABLE_LAYER = define_rule(
    "MLS202", "quantized-updatable-layer", "An updatable layer must not have quantized weights or bias.",
    "For an updatable convolution or innerProduct layer, Core ML rejects a quantization message on the weights, "
    "or on the bias when hasBias is set: \"Quantized weights/bias not supported for update.\" It checks this "
    "before the isUpdatable flags of the parameters. uniDirectionalLSTM parameters are not checked.",
    "Store the layer's weights as float32 (dequantize that layer), or train another layer.", _UPDATABLE)

PARAMETERS_NOT_UPDATABLE = define_rule(
    "MLS203", "parameters-not-marked-updatable", "An updatable layer's weights and bias must be marked updatable.",
    "For an updatable convolution or innerProduct layer, WeightParams.isUpdatable must be true on the weights, "
    "and on the bias when hasBias is set: \"has a weight/bias param which is not marked as updatable.\" "
    "uniDirectionalLSTM parameters are not checked.",
    "Set isUpdatable on the layer's weights and bias (mlsurgery make-updatable does both).", _UPDATABLE)

NAME_COLLISION = define_rule(
    "MLS204", "layer-name-collision", "Layer and loss-layer names of an updatable network must all be distinct.",
    "Core ML builds its training graph by name, so an updatable model must not reuse a name among its layers "
    "and loss layers: \"The updatable model has a name collision for: ...\".",
    "Rename the duplicate layer or loss layer (mlsurgery rename-layer).", _UPDATABLE)

MULTIPLE_LOSS_LAYERS = define_rule(
    "MLS205", "multiple-loss-layers", "An updatable network may have at most one loss layer.",
    "\"This model has more than one loss layers specified, which is not supported at the moment.\"",
    "Keep a single loss layer in updateParams.lossLayers.", _UPDATABLE)

CROSS_ENTROPY_INPUT = define_rule(
    "MLS206", "cross-entropy-input-not-softmax", "A cross-entropy loss must read the output of a softmax layer.",
    "Core ML looks at the layer that last writes the loss's input blob: it must be a softmax layer (not "
    "softmaxND) and the blob must be that softmax's first output: \"input is not generated from a softmax "
    "output\". A loss reading a model input, a blob no layer writes, or any other layer's output fails.",
    "Point the loss input at the softmax output (for a classifier, the probabilities blob), or replace a "
    "softmaxND by a softmax layer.", _GRAPH)

LOSS_TARGET_IN_GRAPH = define_rule(
    "MLS207", "loss-target-produced-in-graph", "A loss target must be a training input, not a blob a layer writes.",
    "The target is fed by the training data, so no layer of the network may write a blob of that name "
    "(\"target is generated within the graph\"). This applies to both cross-entropy and MSE losses.",
    "Rename the loss target to a name no layer outputs (e.g. '<output>_true') and list it in the training inputs.",
    _GRAPH)

MSE_INPUT_NOT_PRODUCED = define_rule(
    "MLS208", "mse-input-not-produced", "A mean-squared-error loss must read a blob some layer writes.",
    "The MSE loss input must be an output of a layer of the network (a model input is not enough): \"input is "
    "not generated within the graph\".",
    "Point the loss input at the output of the network's last layer.", _GRAPH)

UNKNOWN_LOSS = define_rule(
    "MLS209", "unknown-loss-type", "A loss layer must be categorical cross-entropy or mean squared error.",
    "A loss layer whose type is unset (or unknown to this Core ML) is rejected: \"Loss function is not "
    "recognized ..., only cross entropy loss and MSE are supported.\"",
    "Set categoricalCrossEntropyLossLayer or meanSquaredErrorLossLayer on the loss layer.", _UPDATABLE)

OPTIMIZER_PARAMETER_MISSING = define_rule(
    "MLS210", "optimizer-parameter-missing", "The optimizer must state each of its required parameters.",
    "SGD needs learningRate and miniBatchSize; Adam needs learningRate, miniBatchSize, beta1, beta2 and eps. "
    "Core ML checks them in that order and rejects the first absent one (\"SGD optimizer should include "
    "learningRate parameter.\"). SGD momentum is optional and not validated.",
    "Set the missing parameter (mlsurgery make-updatable sets all of them).", _UPDATABLE)

UNKNOWN_OPTIMIZER = define_rule(
    "MLS211", "unknown-optimizer", "An updatable network needs an SGD or Adam optimizer.",
    "updateParams.optimizer must be sgdOptimizer or adamOptimizer; no optimizer at all is reported the same way: "
    "\"Optimizer is not recognized.\"",
    "Set updateParams.optimizer (e.g. SGD with learningRate and miniBatchSize).", _UPDATABLE)

EPOCHS_MISSING = define_rule(
    "MLS212", "epochs-missing", "An updatable network must state its number of epochs.",
    "\"Epochs should be included in neural network update parameters.\"",
    "Set updateParams.epochs (a positive default value).", _UPDATABLE)

DEFAULT_NOT_POSITIVE = define_rule(
    "MLS213", "parameter-default-not-positive",
    "miniBatchSize, epochs (and k-NN numberOfNeighbors) must default to a positive value.",
    "Core ML requires a default value above 0 for these Int64 parameters (\"expected to be a positive value\"); "
    "the seed may be any value.",
    "Set the parameter's defaultValue to a positive number.", _PARAMETERS)

SET_NOT_POSITIVE = define_rule(
    "MLS214", "parameter-set-not-positive", "Allowed-value sets of positive parameters must hold positive values.",
    "Core ML scans the allowed values in order and stops at the default value, so a non-positive value is only "
    "rejected when it comes before the default in the list (\"Non-positive value ... in Allowed Values Set\").",
    "Remove zero and negative values from the allowed set.", _PARAMETERS)

DEFAULT_NOT_IN_SET = define_rule(
    "MLS215", "parameter-default-not-in-set", "An Int64 parameter's default must be one of its allowed values.",
    "\"Specified Default Value ... not found in Allowed Values Set\".",
    "Add the default value to the allowed set, or choose a default from the set.", _PARAMETERS)

RANGE_NOT_POSITIVE = define_rule(
    "MLS216", "parameter-range-not-positive", "Allowed ranges of positive parameters must have positive bounds.",
    "For miniBatchSize, epochs and numberOfNeighbors, both the range minimum and maximum must be above 0 "
    "(\"Non-positive min value ... in Allowed Value Range\"); the minimum is checked first.",
    "Make the range minimum at least 1.", _PARAMETERS)

DEFAULT_OUT_OF_RANGE = define_rule(
    "MLS217", "parameter-default-out-of-range", "A parameter's default must lie within its allowed range.",
    "For Int64 parameters (miniBatchSize, epochs, seed, numberOfNeighbors) and Double parameters (learningRate, "
    "beta1, beta2, eps; SGD momentum is not checked) Core ML rejects a default below the minimum or above the "
    "maximum (\"Specified Default Value ... out of Allowed Value Range\"). A range whose minimum exceeds its "
    "maximum always fails this check first. A NaN default passes, as in Core ML.",
    "Choose a default inside the range, or widen the range.", _PARAMETERS)

BLOCKED_BACKPROP = define_rule(
    "MLS218", "gradient-blocked-before-updatable-layer",
    "Every updatable layer must be reachable from the loss through layers that pass gradients.",
    "Core ML walks breadth-first back from the loss. Only convolution, innerProduct, uniDirectionalLSTM, "
    "flatten, pooling, batchnorm and ReLU/sigmoid/tanh activations pass gradients (and a softmax that directly "
    "feeds a cross-entropy loss). Once the walk has met any other layer, a single flag stays on, and every "
    "updatable layer it meets afterwards is rejected: \"There is a layer (...), which does not support "
    "backpropagation, between an updatable marked layer and the loss function.\" Because of that single flag "
    "the verdict can differ from the per-path truth: a layer with a clean path to the loss is still rejected "
    "when the walk met a blocking layer on another branch first. The message names the blocking layer most "
    "recently met before the rejected layer.",
    "Train only layers between the loss and the first blocking layer (mlsurgery make-updatable --layers auto), "
    "or replace the blocking layer (e.g. softmaxND by softmax, reshape by flatten).", _GRAPH)

TRAINING_INPUTS_MISSING = define_rule(
    "MLS219", "training-inputs-missing", "An updatable network needs at least two training inputs.",
    "description.trainingInput must list the model input(s) used for training and the loss target: \"Must "
    "provide training inputs for updatable neural network (expecting both input and target for loss "
    "function).\"",
    "Add the model input(s) and the loss target (or, for a classifier, the predicted label) to trainingInput.",
    _UPDATABLE)

TRAINING_INPUTS_NO_TARGET = define_rule(
    "MLS220", "training-inputs-without-target", "Training inputs must include a feature that is not a model input.",
    "A training input counts as a model input when a model input has the same name and an equal type. If every "
    "training input is one, there is no target: \"Training inputs don't describe required inputs for the loss "
    "(needs both the input and the target).\"",
    "Add the loss target (or the classifier's predicted label) to trainingInput.", _UPDATABLE)

TRAINING_INPUTS_NO_MODEL_INPUT = define_rule(
    "MLS221", "training-inputs-without-model-input", "Training inputs must include at least one model input.",
    "At least one training input must be identical (same name and type) to a model input: \"The training inputs "
    "must include at least one input from the model itself as required for training\". A training input named "
    "like a model input but with another type or shape does not count.",
    "Copy the model input descriptions into trainingInput unchanged.", _UPDATABLE)

TRAINING_LABEL_TYPE = define_rule(
    "MLS222", "training-label-type-mismatch",
    "A classifier's predicted-label training input must have the label output's type.",
    "For a neural-network classifier, a training input named like predictedFeatureName must have exactly the type "
    "of the model output of that name (String or Int64 labels): \"The type of the training input provided ... "
    "doesn't match the expected type of the classifier.\"",
    "Copy the predicted-label output description into trainingInput.", _UPDATABLE)

TRAINING_INPUTS_MISSING_TARGET = define_rule(
    "MLS223", "training-inputs-missing-target", "Training inputs must include the loss target.",
    "Among the training inputs that are not model inputs, one must be named like the (first) loss layer's target; "
    "for a classifier, one named like predictedFeatureName with the label output's type also works. \"The "
    "training inputs don't include the loss layer's target\" (classifiers: \"... the target of the classifier\").",
    "Add a training input named like the loss target (or, for a classifier, like the predicted label output).",
    _UPDATABLE)

NO_LOSS_LAYER = define_rule(
    "MLS224", "no-loss-layer", "An updatable network must have a loss layer.",
    "Core ML's training-input check reads the first loss layer without checking that one exists, so a network "
    "with no loss layer that passes every other check makes the validator read past an empty list (undefined "
    "behaviour: a crash in practice). Such a model can never be trained either way.",
    "Add a loss layer (categorical cross-entropy on the softmax output, or MSE on the output).", _UPDATABLE)

RULES: list[Rule] = [
    NO_UPDATABLE_LAYER, LAYER_KIND_NOT_UPDATABLE, QUANTIZED_UPDATABLE_LAYER, PARAMETERS_NOT_UPDATABLE,
    NAME_COLLISION, MULTIPLE_LOSS_LAYERS, CROSS_ENTROPY_INPUT, LOSS_TARGET_IN_GRAPH, MSE_INPUT_NOT_PRODUCED,
    UNKNOWN_LOSS, OPTIMIZER_PARAMETER_MISSING, UNKNOWN_OPTIMIZER, EPOCHS_MISSING, DEFAULT_NOT_POSITIVE,
    SET_NOT_POSITIVE, DEFAULT_NOT_IN_SET, RANGE_NOT_POSITIVE, DEFAULT_OUT_OF_RANGE, BLOCKED_BACKPROP,
    TRAINING_INPUTS_MISSING, TRAINING_INPUTS_NO_TARGET, TRAINING_INPUTS_NO_MODEL_INPUT, TRAINING_LABEL_TYPE,
    TRAINING_INPUTS_MISSING_TARGET, NO_LOSS_LAYER,
]

# The parameters Core ML requires of each optimizer, in the order it checks them (SGD momentum is optional).
_OPTIMIZER_PARAMETERS = {
    OptimizerKind.SGD: ("SGD", ("learningRate", "miniBatchSize")),
    OptimizerKind.ADAM: ("Adam", ("learningRate", "miniBatchSize", "beta1", "beta2", "eps")),
}
_INT64_PARAMETERS = {"miniBatchSize"}


def _graph(spec) -> LayerGraph:
    return LayerGraph(NetworkLocation(spec, spec.WhichOneof("Type")))


def check_updatable_network(spec, where: str = "") -> list[Finding]:
    """``validateUpdatableNeuralNetwork`` for an NN-kind ``spec`` marked updatable: layers, names, training setup."""
    graph = _graph(spec)
    findings = _check_layer_support(graph, where)
    collisions = _check_name_collisions(graph.network, where)
    findings += collisions
    findings += _check_training_configuration(graph, where, walk_graph=not collisions)
    return findings


def _check_layer_support(graph: LayerGraph, where: str) -> list[Finding]:
    findings = []
    for layer in graph.layers:
        if not layer.is_updatable:
            continue
        if layer.kind not in UPDATABLE_LAYER_KINDS:
            findings.append(LAYER_KIND_NOT_UPDATABLE.finding(
                f"layer '{layer.name}' ({layer.type_label}) is marked updatable, but Core ML only trains "
                "convolution, innerProduct and uniDirectionalLSTM layers; clear its isUpdatable",
                layer=layer.name, where=where))
        else:
            finding = _check_weight_params(layer, where)
            if finding is not None:
                findings.append(finding)
    if not any(layer.is_updatable for layer in graph.layers):
        findings.append(NO_UPDATABLE_LAYER.finding(
            "the model is marked updatable but none of its layers is; mark the layers to train "
            "(mlsurgery make-updatable --layers ...)", where=where))
    return findings


def _check_weight_params(layer, where: str) -> Finding | None:
    parts = updatable_parameters(layer.proto)
    quantized = [name for name, weights in parts if is_quantized(weights)]
    if quantized:
        return QUANTIZED_UPDATABLE_LAYER.finding(
            f"updatable layer '{layer.name}' has quantized {' and '.join(quantized)}, which Core ML cannot "
            "update; store them as float32 or train another layer", layer=layer.name, where=where)
    frozen = [name for name, weights in parts if not weights.isUpdatable]
    if frozen:
        return PARAMETERS_NOT_UPDATABLE.finding(
            f"updatable layer '{layer.name}' has {' and '.join(frozen)} not marked updatable; set isUpdatable "
            f"on its {' and '.join(frozen)}", layer=layer.name, where=where)
    return None


def _check_name_collisions(network, where: str) -> list[Finding]:
    findings, seen, reported = [], set(), set()
    named = [(layer.name, "layer") for layer in network.layers] + [
        (loss.name, "loss layer") for loss in network.updateParams.lossLayers]
    for name, what in named:
        if name in seen and name not in reported:
            reported.add(name)
            findings.append(NAME_COLLISION.finding(
                f"name '{name}' is used by more than one layer or loss layer (again by a {what}); rename one",
                layer=name, where=where))
        seen.add(name)
    return findings


def _check_training_configuration(graph: LayerGraph, where: str, *, walk_graph: bool) -> list[Finding]:
    update_params = graph.network.updateParams
    losses = loss_nodes(graph.network)
    findings = []
    if len(losses) > 1:
        findings.append(MULTIPLE_LOSS_LAYERS.finding(
            f"the network has {len(losses)} loss layers ({', '.join(repr(loss.name) for loss in losses)}); Core ML "
            "supports one, remove the others", where=where))
    for loss in losses:
        findings += _check_loss_layer(graph, loss, where)
    findings += _check_optimizer(update_params, where)
    findings += _check_epochs_and_seed(update_params, where)
    if walk_graph:
        findings += _check_backprop_path(graph, losses, where)
    return findings


def _check_loss_layer(graph: LayerGraph, loss: LossNode, where: str) -> list[Finding]:
    findings = []
    if loss.kind is LossKind.CROSS_ENTROPY:
        producer = graph.blob_producer.get(loss.input)
        if producer is None or producer.kind != "softmax" or producer.outputs[0] != loss.input:
            findings.append(CROSS_ENTROPY_INPUT.finding(
                f"cross-entropy loss '{loss.name}' reads '{loss.input}', {_describe_writer(producer, loss.input)}; "
                "Core ML requires the first output of a softmax layer", layer=loss.name, where=where))
    elif loss.kind is LossKind.MSE:
        if loss.input not in graph.blob_producer:
            findings.append(MSE_INPUT_NOT_PRODUCED.finding(
                f"MSE loss '{loss.name}' reads '{loss.input}', which no layer writes; point it at a layer output",
                layer=loss.name, where=where))
    else:
        return [UNKNOWN_LOSS.finding(
            f"loss layer '{loss.name}' has no loss type Core ML knows; set categoricalCrossEntropyLossLayer or "
            "meanSquaredErrorLossLayer", layer=loss.name, where=where)]
    if loss.target in graph.blob_producer:
        findings.append(LOSS_TARGET_IN_GRAPH.finding(
            f"target '{loss.target}' of loss '{loss.name}' is written by layer "
            f"'{graph.blob_producer[loss.target].name}'; the target must come from the training data, rename it",
            layer=loss.name, where=where))
    return findings


def _describe_writer(producer, blob: str) -> str:
    if producer is None:
        return "which no layer writes"
    if producer.kind == "softmax":
        return f"which is not the first output of softmax '{producer.name}'"
    return f"written by '{producer.name}' ({producer.type_label}), not by a softmax"


def _check_optimizer(update_params, where: str) -> list[Finding]:
    kind = update_params.optimizer.WhichOneof("OptimizerType")
    optimizer_kind = OptimizerKind.from_field(kind)
    if optimizer_kind is None:
        return [UNKNOWN_OPTIMIZER.finding(
            "updateParams has no SGD or Adam optimizer; set one (e.g. SGD with learningRate and miniBatchSize)",
            where=where)]
    label, names = _OPTIMIZER_PARAMETERS[optimizer_kind]
    optimizer = getattr(update_params.optimizer, kind)
    findings = []
    for name in names:
        if not optimizer.HasField(name):
            findings.append(OPTIMIZER_PARAMETER_MISSING.finding(
                f"the {label} optimizer has no {name}; set updateParams.optimizer.{kind}.{name}", where=where))
            continue
        if name in _INT64_PARAMETERS:
            finding = check_int64_parameter(name, getattr(optimizer, name), should_be_positive=True, where=where)
        else:
            finding = check_double_parameter(name, getattr(optimizer, name), where=where)
        if finding is not None:
            findings.append(finding)
    return findings


def _check_epochs_and_seed(update_params, where: str) -> list[Finding]:
    findings = []
    if not update_params.HasField("epochs"):
        findings.append(EPOCHS_MISSING.finding(
            "updateParams has no epochs; set updateParams.epochs to a positive default", where=where))
    else:
        finding = check_int64_parameter("epochs", update_params.epochs, should_be_positive=True, where=where)
        if finding is not None:
            findings.append(finding)
    if update_params.HasField("seed"):
        finding = check_int64_parameter("seed", update_params.seed, should_be_positive=False, where=where)
        if finding is not None:
            findings.append(finding)
    return findings


def check_int64_parameter(name: str, parameter, *, should_be_positive: bool, where: str = "") -> Finding | None:
    """ParameterValidator's ``validateInt64Parameter``: the first problem with one Int64Parameter, if any."""
    default = parameter.defaultValue
    if should_be_positive and default <= 0:
        return DEFAULT_NOT_POSITIVE.finding(
            f"'{name}' defaults to {default}; Core ML requires a positive value", where=where)
    allowed = parameter.WhichOneof("AllowedValues")
    if allowed == "set":
        for value in parameter.set.values:
            if value == default:
                return None
            if should_be_positive and value <= 0:
                return SET_NOT_POSITIVE.finding(
                    f"allowed values of '{name}' include {value}; Core ML requires positive values, remove it",
                    where=where)
        return DEFAULT_NOT_IN_SET.finding(
            f"'{name}' defaults to {default}, which is not in its allowed values {list(parameter.set.values)}; "
            "add it or change the default", where=where)
    if allowed == "range":
        low, high = parameter.range.minValue, parameter.range.maxValue
        for bound, value in (("minimum", low), ("maximum", high)):
            if should_be_positive and value <= 0:
                return RANGE_NOT_POSITIVE.finding(
                    f"allowed range of '{name}' has {bound} {value}; Core ML requires positive bounds", where=where)
        if default < low or default > high:
            return DEFAULT_OUT_OF_RANGE.finding(
                f"'{name}' defaults to {default}, outside its allowed range [{low}, {high}]; change the default or "
                "the range", where=where)
    return None


def check_double_parameter(name: str, parameter, *, where: str = "") -> Finding | None:
    """ParameterValidator's ``validateDoubleParameter``: only a range constrains a Double parameter."""
    if parameter.WhichOneof("AllowedValues") != "range":
        return None
    default, low, high = parameter.defaultValue, parameter.range.minValue, parameter.range.maxValue
    if default < low or default > high:
        return DEFAULT_OUT_OF_RANGE.finding(
            f"'{name}' defaults to {default:g}, outside its allowed range [{low:g}, {high:g}]; change the default "
            "or the range", where=where)
    return None


def _check_backprop_path(graph: LayerGraph, losses: list[LossNode], where: str) -> list[Finding]:
    findings = []
    walk = coreml_walk(graph, losses)
    for rejected in walk.rejected:
        layer, blocker = rejected.layer, rejected.blocker
        message = (f"updatable layer '{layer.name}' is reached from loss '{rejected.loss.name}' only after "
                   f"'{blocker.name}' ({blocker.type_label}), which does not pass gradients; "
                   "train only layers between the loss and that layer")
        gradient_path = clean_path(graph, layer, rejected.loss)
        if gradient_path is not None:
            route = " → ".join(step.name for step in reversed(gradient_path))
            message += (f" (a gradient path {route} does exist, but Core ML's walk had already met "
                        f"'{blocker.name}' on another branch)")
        findings.append(BLOCKED_BACKPROP.finding(message, layer=layer.name, where=where))
    return findings


def check_training_inputs(spec, where: str = "") -> list[Finding]:
    """``validateTrainingInputs`` for an NN-kind ``spec`` marked updatable."""
    description = spec.description
    training = list(description.trainingInput)
    if len(training) <= 1:
        return [TRAINING_INPUTS_MISSING.finding(
            f"the model lists {len(training)} training input(s); list the model input(s) and the loss target in "
            "description.trainingInput", where=where)]
    exclusive = [feature for feature in training
                 if not any(features_equivalent(feature, model_input) for model_input in description.input)]
    if not exclusive:
        return [TRAINING_INPUTS_NO_TARGET.finding(
            "every training input is a model input, so none can be the loss target; add the target (or the "
            "predicted label) to description.trainingInput", where=where)]
    findings = []
    if len(exclusive) == len(training):
        findings.append(TRAINING_INPUTS_NO_MODEL_INPUT.finding(
            "no training input matches a model input (same name and type); copy the model input descriptions "
            "into description.trainingInput", where=where))
    losses = loss_nodes(getattr(spec, spec.WhichOneof("Type")))
    if not losses:
        return findings + [NO_LOSS_LAYER.finding(
            "the updatable network has no loss layer (Core ML's validator would read a missing one and crash); "
            "add a cross-entropy or MSE loss layer", where=where)]
    target = losses[0].target or ""
    is_classifier = spec.WhichOneof("Type") == "neuralNetworkClassifier"
    satisfied = False
    for feature in exclusive:
        if is_classifier and feature.name == description.predictedFeatureName:
            output = next((o for o in description.output if o.name == feature.name), None)
            if output is not None:
                if not feature_types_equal(feature.type, output.type):
                    return findings + [TRAINING_LABEL_TYPE.finding(
                        f"training input '{feature.name}' is {describe_type(feature.type)}, but the classifier's "
                        f"label output is {describe_type(output.type)}; copy the output's description", where=where)]
                satisfied = True
        if feature.name == target:
            satisfied = True
    if not satisfied:
        wanted = (f"the classifier's label '{description.predictedFeatureName}' or the loss target '{target}'"
                  if is_classifier else f"the loss target '{target}'")
        findings.append(TRAINING_INPUTS_MISSING_TARGET.finding(
            f"the training inputs do not include {wanted}; add it to description.trainingInput", where=where))
    return findings
