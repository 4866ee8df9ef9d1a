"""General neural-network checks Core ML runs on every NeuralNetwork model (MLS1xx).

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidator.cpp (``validate<neuralNetwork…>``,
``validateNeuralNetworkTopLevel``), mlmodel/src/Validation/Validators.hpp (``validateClassifierInterface``),
mlmodel/src/Validation/InterfaceValidators.cpp (``validateRegressorInterface``,
``validateClassifierFeatureDescriptions``), NeuralNetworkShapes.cpp (shape inference for iOS 11/12 networks);
the per-layer checks live in ``rules.layer_checks``/``rules.nd_layer_checks`` and the graph walk in ``rules.walker``.

Core ML's order for a network model, after the model-level checks:
1. the type's interface: classifier labels and predicted outputs / regressor output / plain-network output types;
2. ``validateNeuralNetworkTopLevel``: input shape mapping vs layer versions, at least one layer, input types and
   shapes, the layer walk (``rules.walker``), then — for networks without N-D array interpretation — shape
   inference, whose failure Core ML only *warns* about (MLS121) but which makes it skip the updatable checks;
3. the updatable checks (MLS2xx), only when shape inference did not fail;
4. after those: the classifier's probability blob and outputs, or a plain network's outputs produced by layers
   (``check_network_outputs``; ``check_classifier`` is its classifier part). A regressor's outputs are not checked
   against the layers at all.
By default ``check_network_top_level`` also appends the plain network's output check (so a caller that only adds
``check_classifier`` for classifiers misses nothing); a caller that runs the updatable checks in between passes
``include_outputs=False`` and calls ``check_network_outputs`` afterwards, which is Core ML's exact order.
"""

from __future__ import annotations

import contextlib

from ..coreml import (FEATURE_TYPE_NAMES, NETWORK_KINDS, first_layer_after_ios12, nd_array_interpretation,
                      rank5_arrays, rank5_images)
from ..shapes import rank5_shape_failure
from .base import ERROR, Finding, Rule, WARNING, define_rule
from .layers import MODEL_INPUT_PRODUCER, RULES as LAYER_RULES
from .walker import NetworkWalker

_TOP_LEVEL = "mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidator.cpp"


SHAPE_MAPPING = define_rule(
    "MLS100", "input-shape-mapping", "The network's array input shape mapping is too old for its layers.",
    "With a multi-array input, arrayInputShapeMapping RANK5_ARRAY_MAPPING (the default, 0) is only allowed when "
    "every layer existed in specification version 3 (iOS 12) and the image mapping is also the old "
    "RANK5_IMAGE_MAPPING. Adding a newer layer (batchedMatmul, loadConstantND, a convolution with a weight input, "
    "an int8DynamicQuantize innerProduct, …) to an old network triggers this.",
    "Set the network's arrayInputShapeMapping to EXACT_ARRAY_MAPPING (and check the input shapes for N-D "
    "semantics), or use only iOS 12 layers.",
    f"{_TOP_LEVEL} (validateNeuralNetworkTopLevel), mlmodel/src/Utils.cpp (isIOS12NeuralNetworkLayer)")
NO_LAYERS = define_rule(
    "MLS101", "no-layers", "The neural network has no layers.",
    "Core ML requires at least one layer in a neural network.",
    "Add the network's layers (a pass-through needs at least an activation/linear or copy layer).",
    f"{_TOP_LEVEL} (validateNeuralNetworkTopLevel)")
IO_FEATURE_TYPES = define_rule(
    "MLS102", "network-feature-types", "A neural network input (or a plain network's output) is not an array or image.",
    "Neural network inputs must be images, multi-arrays or states; a plain neuralNetwork's outputs too "
    "(classifiers and regressors may also output labels, dictionaries and doubles).",
    "Describe the feature as a multiArrayType (or imageType); use a classifier/regressor model type for label "
    "or scalar outputs.",
    f"{_TOP_LEVEL}, NeuralNetworkValidatorUtils.hpp (validateInputOutputTypes)")
INPUT_ARRAY_RANK = define_rule(
    "MLS103", "input-array-rank", "A multi-array input has a shape the network's shape mapping cannot take.",
    "Under RANK5_ARRAY_MAPPING (iOS 11/12 semantics) a multi-array input must have 1 (vector) or 3 (C, H, W) "
    "dimensions, including every enumerated shape or shape range; with N-D interpretation it needs at least one "
    "dimension and a shape range of the same rank as the default shape.",
    "Give the input shape [C] or [C, H, W] (e.g. [1, 28, 28]), or switch the network to EXACT_ARRAY_MAPPING.",
    f"{_TOP_LEVEL} (validateNeuralNetworkTopLevel), NeuralNetworkValidatorUtils.hpp (validateNdMultiArrayInputType)")
CLASSIFIER_LABELS = define_rule(
    "MLS104", "classifier-labels", "A neural network classifier has no class labels.",
    "neuralNetworkClassifier must set stringClassLabels or int64ClassLabels with at least one label.",
    "Set the class labels (one per element of the probability blob).",
    "mlmodel/src/Validation/Validators.hpp (validateClassifierInterface)")
CLASSIFIER_OUTPUTS = define_rule(
    "MLS105", "classifier-outputs", "A classifier's predicted label or probability output is missing or mistyped.",
    "predictedFeatureName must name an output whose type matches the labels (string labels → String, int64 "
    "labels → Int64); predictedProbabilitiesName, if set, must name a dictionary (or multi-array) output.",
    "Set description.predictedFeatureName / predictedProbabilitiesName to the label and probability outputs and "
    "give them the right types.",
    "mlmodel/src/Validation/InterfaceValidators.cpp (validateClassifierFeatureDescriptions), ValidatorUtils-inl.hpp")
REGRESSOR_OUTPUT = define_rule(
    "MLS106", "regressor-output", "A regressor's predicted output is missing or mistyped.",
    "neuralNetworkRegressor needs description.predictedFeatureName naming an output of type Double or "
    "multi-array.",
    "Set predictedFeatureName to the regressor's output and make it a multiArrayType (or doubleType).",
    "mlmodel/src/Validation/InterfaceValidators.cpp (validateRegressorInterface)")
PROBABILITY_BLOB = define_rule(
    "MLS119", "probability-blob-missing", "The classifier's labelProbabilityLayerName names no blob of the network.",
    "A neuralNetworkClassifier's labelProbabilityLayerName (despite the name, a blob name) must be produced by "
    "one of its layers.",
    "Set labelProbabilityLayerName to the blob holding the class probabilities (usually the softmax output), "
    "or clear it to use the last layer's output.",
    f"{_TOP_LEVEL} (validate<neuralNetworkClassifier>)")
OUTPUT_NOT_PRODUCED = define_rule(
    "MLS120", "output-not-produced", "A model output is not produced by any layer.",
    "A plain neuralNetwork's outputs must all be blobs written by its layers (each output name once); a "
    "classifier's outputs must be layer blobs or its predicted label / probability outputs. Deleting or renaming "
    "the last layer breaks this.",
    "Rename the output to the blob the network produces, or make a layer write a blob with the output's name.",
    f"{_TOP_LEVEL} (validate<neuralNetwork>, validate<neuralNetworkClassifier>)")
NETWORK_SHAPES = define_rule(
    "MLS121", "network-shapes", "Core ML's shape inference fails for this iOS 11/12-style network (warning).",
    "For networks without N-D array interpretation Core ML propagates channel/height/width ranges through the "
    "layers. When they contradict each other (e.g. an innerProduct whose inputChannels differs from the "
    "previous layer's output size) its validator only records \"Error determining network blob shapes\" as a "
    "warning — but it then skips every updatable-model check, and the model is likely to fail when the device "
    "compiles it.",
    "Make the layer sizes agree along the network (inputChannels/kernelChannels vs the incoming blob, output "
    "sizes vs the output description).",
    "mlmodel/src/Validation/NeuralNetwork/NeuralNetworkShapes.cpp, mlmodel/src/LayerShapeConstraints.cpp",
    severity=WARNING)

RULES: list[Rule] = sorted(
    [SHAPE_MAPPING, NO_LAYERS, IO_FEATURE_TYPES, INPUT_ARRAY_RANK, CLASSIFIER_LABELS, CLASSIFIER_OUTPUTS,
     REGRESSOR_OUTPUT, PROBABILITY_BLOB, OUTPUT_NOT_PRODUCED, NETWORK_SHAPES] + LAYER_RULES,
    key=lambda rule: rule.code)

_ARRAY_OR_IMAGE = ("imageType", "multiArrayType", "stateType")


def check_network_top_level(spec, where: str = "", *, include_outputs: bool = True) -> list[Finding]:
    """The type's interface checks and validateNeuralNetworkTopLevel up to (not including) its updatable part.

    Empty for a spec that is not a neural network. With ``include_outputs`` a plain network's "outputs produced"
    check (which Core ML runs after the updatable checks) is appended.
    """
    kind = spec.WhichOneof("Type")
    if kind not in NETWORK_KINDS:
        return []
    interface = {"neuralNetworkClassifier": _classifier_interface_findings,
                 "neuralNetworkRegressor": _regressor_interface_findings,
                 "neuralNetwork": _plain_output_type_findings}[kind]
    findings = interface(spec, where) + _top_level_findings(spec, getattr(spec, kind), where)
    # Core ML runs shape inference only when everything before it passed.
    if not any(finding.severity == ERROR for finding in findings):
        network = getattr(spec, kind)
        failure = None if _nd_array(network) else rank5_shape_failure(spec.description, network.layers)
        if failure is not None:
            findings.append(NETWORK_SHAPES.finding(
                f"Core ML's shape inference fails ({failure}); its validator only warns, but then skips the "
                "updatable checks — make the layer sizes agree", where=where))
    if kind == "neuralNetwork" and include_outputs:
        findings += _plain_outputs_produced(spec, where)
    return findings


def check_network_outputs(spec, where: str = "") -> list[Finding]:
    """The checks Core ML runs after the top-level and updatable ones: the blobs behind the model's outputs."""
    kind = spec.WhichOneof("Type")
    if kind == "neuralNetwork":
        return _plain_outputs_produced(spec, where)
    return check_classifier(spec, where)


def check_classifier(spec, where: str = "") -> list[Finding]:
    """The classifier checks Core ML runs after the top-level (and updatable) ones: probability blob, outputs."""
    if spec.WhichOneof("Type") != "neuralNetworkClassifier":
        return []
    classifier = spec.neuralNetworkClassifier
    produced = produced_blobs(spec)
    findings = []
    probability_blob = classifier.labelProbabilityLayerName
    if probability_blob and probability_blob not in produced:
        findings.append(PROBABILITY_BLOB.finding(
            f"labelProbabilityLayerName is '{probability_blob}', but no layer produces a blob of that name; set it "
            "to the blob holding the class probabilities (e.g. the softmax output) or clear it", where=where))
    description = spec.description
    for output in description.output:
        if output.name in produced or output.name in (description.predictedFeatureName,
                                                      description.predictedProbabilitiesName):
            continue
        findings.append(OUTPUT_NOT_PRODUCED.finding(
            f"output '{output.name}' is neither produced by a layer nor the classifier's predicted label or "
            "probabilities output; rename it to a produced blob or remove it", where=where))
        break
    return findings


def produced_blobs(spec) -> set[str]:
    """The blobs Core ML counts as produced by the network's layers (``outputBlobNames``).

    A blob that is also a model input counts only if a layer writes it too (e.g. a copy layer).
    """
    network = getattr(spec, spec.WhichOneof("Type"))
    walker, _ = _walked(spec.description, network)
    inputs = {feature.name for feature in spec.description.input}
    return {blob for blob, producers in walker.blobs.items() if blob not in inputs or len(producers) > 1}


# Walks of the networks being validated, kept while ``reusing_walks`` is active (one validation, during which the
# spec does not change): the top-level checks and the produced-blob checks need the same walk.
_walks: dict | None = None


@contextlib.contextmanager
def reusing_walks():
    """Within the block, each network is walked once however many checks need its walk."""
    global _walks
    if _walks is not None:  # nested (a pipeline's stages): the outer block owns the cache
        yield
        return
    _walks = {}
    try:
        yield
    finally:
        _walks = None


def _walked(description, network) -> tuple[NetworkWalker, list]:
    """The walker after walking ``network``'s layers, and the problems it found."""
    if _walks is not None and id(network) in _walks:
        return _walks[id(network)][1:]
    walker = _walker(description, network)
    problems = walker.walk(network.layers)
    if _walks is not None:
        _walks[id(network)] = (network, walker, problems)  # the network kept alive keeps its id unique
    return walker, problems


def _session_cached(kind: str, network, compute):
    """``compute(network)``, once per network while ``reusing_walks`` is active."""
    if _walks is None:
        return compute(network)
    key = (kind, id(network))
    if key not in _walks:
        _walks[key] = (network, compute(network))  # the network kept alive keeps its id unique
    return _walks[key][1]


def _nd_array(network) -> bool:
    return nd_array_interpretation(network, first_new_layer=_first_new_layer(network))


def _first_new_layer(network):
    """The first layer Core ML 2 did not know (None when every layer is an iOS 12 one)."""
    return _session_cached("new_layer", network, lambda net: first_layer_after_ios12(net.layers))


def _walker(description, network) -> NetworkWalker:
    nd_array = _nd_array(network)
    io_ranks = _io_ranks(description, network) if nd_array else {}
    blobs = {feature.name: {MODEL_INPUT_PRODUCER} for feature in description.input}
    return NetworkWalker(blobs, io_ranks, nd_array, 0, dict(io_ranks))


def _io_ranks(description, network) -> dict[str, int]:
    ranks = {}
    for feature in description.input:
        kind = feature.type.WhichOneof("Type")
        if kind == "multiArrayType":
            ranks[feature.name] = (5 if rank5_arrays(network)
                                   else len(feature.type.multiArrayType.shape))
        elif kind == "imageType":
            ranks[feature.name] = 5 if rank5_images(network) else 4
    for feature in description.output:
        if feature.type.WhichOneof("Type") == "multiArrayType" and len(feature.type.multiArrayType.shape):
            ranks[feature.name] = len(feature.type.multiArrayType.shape)
    return ranks


def _classifier_interface_findings(spec, where: str) -> list[Finding]:
    """validateClassifierInterface: class labels, then the predicted label and probability outputs."""
    classifier = spec.neuralNetworkClassifier
    labels = classifier.WhichOneof("ClassLabels")
    if labels is None:
        return [CLASSIFIER_LABELS.finding(
            "the classifier has no class labels; set neuralNetworkClassifier.stringClassLabels (or "
            "int64ClassLabels)", where=where)]
    if not len(getattr(classifier, labels).vector):
        label_kind = "Int64" if labels == "int64ClassLabels" else "String"
        return [CLASSIFIER_LABELS.finding(
            f"the classifier declares {label_kind} class labels but lists none; add one label per class",
            where=where)]
    description = spec.description
    if not description.predictedFeatureName:
        return [CLASSIFIER_OUTPUTS.finding(
            "description.predictedFeatureName is empty; set it to the name of the predicted label output",
            where=where)]
    label_type = "int64Type" if labels == "int64ClassLabels" else "stringType"
    findings = _named_output_findings(CLASSIFIER_OUTPUTS, description, description.predictedFeatureName,
                                      (label_type,), "predicted label", where)
    if description.predictedProbabilitiesName:
        findings += _named_output_findings(CLASSIFIER_OUTPUTS, description, description.predictedProbabilitiesName,
                                           ("multiArrayType", "dictionaryType"), "probabilities", where)
    return findings


def _regressor_interface_findings(spec, where: str) -> list[Finding]:
    description = spec.description
    if not description.predictedFeatureName:
        return [REGRESSOR_OUTPUT.finding(
            "description.predictedFeatureName is empty; set it to the regressor's output name", where=where)]
    return _named_output_findings(REGRESSOR_OUTPUT, description, description.predictedFeatureName,
                                  ("doubleType", "multiArrayType"), "predicted", where)


_TYPE_NAMES = {**FEATURE_TYPE_NAMES, None: "unset"}


def _named_output_findings(rule: Rule, description, name: str, kinds: tuple[str, ...], role: str,
                           where: str) -> list[Finding]:
    """validateDescriptionsContainFeatureWithNameAndType: the first output with that name has an allowed type."""
    output = next((feature for feature in description.output if feature.name == name), None)
    if output is None:
        return [rule.finding(f"the {role} output '{name}' is not among the model's outputs; add it to "
                             "description.output or fix the name", where=where)]
    kind = output.type.WhichOneof("Type")
    if kind not in kinds:
        wanted = " or ".join(_TYPE_NAMES[k] for k in kinds)
        return [rule.finding(f"the {role} output '{name}' has type {_TYPE_NAMES.get(kind, kind)}, but Core ML needs "
                             f"{wanted}; change the output's type", where=where)]
    return []


def _plain_output_type_findings(spec, where: str) -> list[Finding]:
    for output in spec.description.output:
        if output.type.WhichOneof("Type") not in _ARRAY_OR_IMAGE:
            return [IO_FEATURE_TYPES.finding(
                f"output '{output.name}' has type {_TYPE_NAMES.get(output.type.WhichOneof('Type'))}; a neuralNetwork's "
                "outputs must be multi-arrays or images (use a classifier or regressor model type for other "
                "outputs)", where=where)]
    return []


def _top_level_findings(spec, network, where: str) -> list[Finding]:
    description = spec.description
    findings = []
    has_array_input = any(f.type.WhichOneof("Type") == "multiArrayType" for f in description.input)
    old_array_mapping = rank5_arrays(network)
    new_layer = _first_new_layer(network)
    if has_array_input and old_array_mapping:
        if new_layer is not None:
            findings.append(SHAPE_MAPPING.finding(
                f"layer '{new_layer.name}' ({new_layer.WhichOneof('layer') or 'untyped'}) was added in "
                "specification version 4 (iOS 13), which Core ML forbids with arrayInputShapeMapping "
                "RANK5_ARRAY_MAPPING; set arrayInputShapeMapping to EXACT_ARRAY_MAPPING", layer=new_layer.name,
                where=where))
        elif not rank5_images(network):
            findings.append(SHAPE_MAPPING.finding(
                "arrayInputShapeMapping is RANK5_ARRAY_MAPPING but imageInputShapeMapping is not "
                "RANK5_IMAGE_MAPPING; Core ML forbids that mix — set arrayInputShapeMapping to EXACT_ARRAY_MAPPING",
                where=where))
    if not len(network.layers):
        findings.append(NO_LAYERS.finding("the neural network has no layers; add at least one", where=where))
    for feature in description.input:
        kind = feature.type.WhichOneof("Type")
        if kind not in _ARRAY_OR_IMAGE:
            findings.append(IO_FEATURE_TYPES.finding(
                f"input '{feature.name}' has type {_TYPE_NAMES.get(kind, kind)}; neural network inputs must be "
                "multi-arrays or images — describe it as a multiArrayType", where=where))
            break
    else:
        findings += _input_shape_findings(description, network, where)
    _, problems = _walked(description, network)
    for problem in problems:
        findings.append(problem.rule.finding(problem.message, layer=problem.layer.name, where=where))
    return findings


def _input_shape_findings(description, network, where: str) -> list[Finding]:
    nd_array = _nd_array(network)
    for feature in description.input:
        if feature.type.WhichOneof("Type") != "multiArrayType":
            continue
        array = feature.type.multiArrayType
        problem = _nd_input_problem(array) if nd_array else _rank5_input_problem(array)
        if problem is not None:
            return [INPUT_ARRAY_RANK.finding(f"input '{feature.name}': {problem}", where=where)]
    return []


def _rank5_input_problem(array) -> str | None:
    """Under RANK5 mapping: rank 1 or 3, from the default shape or, failing that, from the flexible shapes."""
    rank = len(array.shape)
    problem = (f"shape {list(array.shape)} has rank {rank}, but with RANK5_ARRAY_MAPPING Core ML takes only rank 1 "
               "(vector) or 3 (C, H, W) inputs; reshape it to [C] or [C, H, W], or use EXACT_ARRAY_MAPPING")
    if rank and rank not in (1, 3):
        return problem
    flexibility = array.WhichOneof("ShapeFlexibility")
    if flexibility == "enumeratedShapes":
        flexible_ok = all(len(shape.shape) in (1, 3) for shape in array.enumeratedShapes.shapes)
    elif flexibility == "shapeRange":
        flexible_ok = len(array.shapeRange.sizeRanges) in (1, 3)
    else:
        flexible_ok = False
    if not flexible_ok and not rank:
        return ("has no rank-1 or rank-3 shape (nor flexible shapes of those ranks); with RANK5_ARRAY_MAPPING Core "
                "ML takes only [C] or [C, H, W] inputs")
    return None


def _nd_input_problem(array) -> str | None:
    rank = len(array.shape)
    if not rank:
        return "a multi-array input needs at least one dimension; set its shape"
    if array.WhichOneof("ShapeFlexibility") == "shapeRange" and len(array.shapeRange.sizeRanges) != rank:
        return (f"its shape range has {len(array.shapeRange.sizeRanges)} dimensions but its shape has {rank}; make "
                "the ranks agree")
    return None


def _plain_outputs_produced(spec, where: str) -> list[Finding]:
    """validate<neuralNetwork>'s last step: each output name is produced, and (as upstream) used only once."""
    produced = produced_blobs(spec)
    listed = set()
    for output in spec.description.output:
        if output.name in listed:
            return [OUTPUT_NOT_PRODUCED.finding(
                f"output '{output.name}' is listed twice; Core ML matches each output to a produced blob once — "
                "remove the duplicate", where=where)]
        if output.name not in produced:
            return [OUTPUT_NOT_PRODUCED.finding(
                f"output '{output.name}' is not produced by any layer; rename it to a blob a layer writes, or make "
                f"the last layer write '{output.name}'", where=where)]
        listed.add(output.name)
    return []
