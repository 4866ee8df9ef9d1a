"""Model-level checks (MLS05x–MLS07x): which models may be updatable, optional features, k-NN classifiers.

Upstream: mlmodel/src/Model.cpp (``validateGeneric``'s updatable part and ``validate``'s model-type switch),
mlmodel/src/Validation/InterfaceValidators.cpp (``validateCanModelBeUpdatable``, ``validateOptional``) and
mlmodel/src/Validation/KNearestNeighborsClassifierValidator.cpp (updatable k-NN classifiers).
"""

from __future__ import annotations

from ..coreml import MIN_UPDATABLE_SPEC_VERSION, NETWORK_KINDS, PIPELINE_KINDS
from .base import Finding, Rule, define_rule
from .updatable import check_int64_parameter

_MODEL = "mlmodel/src/Model.cpp"
_INTERFACE = "mlmodel/src/Validation/InterfaceValidators.cpp"
_KNN = "mlmodel/src/Validation/KNearestNeighborsClassifierValidator.cpp"

DEFAULT_OPTIONAL_MIN_VERSION = 5  # MLMODEL_SPECIFICATION_VERSION_IOS14

UPDATABLE_TYPES = NETWORK_KINDS + ("kNearestNeighborsClassifier",) + PIPELINE_KINDS
_NETWORK_LIKE = NETWORK_KINDS + ("serializedModel", "mlProgram")
# validateOptional lets these model types take optional inputs without any check.
_OPTIONAL_INPUTS_UNCHECKED = ("imputer", "treeEnsembleRegressor", "treeEnsembleClassifier", "pipeline",
                              "pipelineRegressor", "pipelineClassifier", "itemSimilarityRecommender", "identity")


UPDATABLE_SPEC_VERSION = define_rule(
    "MLS050", "updatable-spec-version", "An updatable model needs specification version 4 (iOS 13) or later.",
    "On-device update arrived with specification version 4. Core ML rejects a model marked updatable with a "
    "lower version: \"Model specification version for an updatable model must be '4' or above.\" Inside a "
    "pipeline each updatable stage's own version counts too.",
    "Set specificationVersion to at least 4 (mlsurgery make-updatable does this).", _MODEL)

UPDATABLE_MODEL_TYPE = define_rule(
    "MLS051", "model-type-not-updatable", "Only neural networks, k-NN classifiers and pipelines can be updatable.",
    "isUpdatable is accepted only on neuralNetwork, neuralNetworkClassifier, neuralNetworkRegressor, "
    "kNearestNeighborsClassifier and the three pipeline types: \"This model type is not supported for on-device "
    "update.\" ML Programs (.mlpackage) cannot be updated either.",
    "Clear isUpdatable, or put the model in a pipeline whose last stage is a neural network or k-NN classifier.",
    _INTERFACE)

DEFAULT_OPTIONAL_MODEL_TYPE = define_rule(
    "MLS052", "default-optional-value-model-type", "Default values for optional inputs are for neural networks only.",
    "An optional multi-array input with a default value (doubleDefaultValue, floatDefaultValue, intDefaultValue) "
    "is accepted only on neural networks (and ML Programs): \"Default optional values are only allowed for "
    "neural networks.\" A pipeline's own inputs count as the pipeline's.",
    "Remove the default value, or make the input required.", _INTERFACE)

DEFAULT_OPTIONAL_VERSION = define_rule(
    "MLS053", "default-optional-value-version", "Default values for optional inputs need specification version 5.",
    "\"Default value for optional inputs is supported from specification 5 (iOS 14) onwards!\"",
    "Set specificationVersion to at least 5, or remove the default value.", _INTERFACE)

ALL_INPUTS_OPTIONAL = define_rule(
    "MLS054", "all-inputs-optional", "A neural network needs at least one input that is not optional.",
    "validateOptional rejects a neural network (or ML Program) whose every input is optional (state inputs "
    "count as required): \"At least one feature for a neural network must NOT be optional.\"",
    "Make at least one input required (clear type.isOptional).", _INTERFACE)

OPTIONAL_INPUT_NOT_ALLOWED = define_rule(
    "MLS055", "optional-input-not-allowed", "This model type cannot take optional inputs.",
    "Only neural networks, ML Programs, imputers, tree ensembles, pipelines, item-similarity recommenders and "
    "identity models accept optional inputs; others are rejected: \"Features cannot be optional to this type of "
    "model.\"",
    "Make the input required (clear type.isOptional).", _INTERFACE)

OPTIONAL_OUTPUT = define_rule(
    "MLS056", "optional-output", "Model outputs cannot be optional.",
    "Core ML rejects any output whose type is marked optional: \"Outputs cannot be optional.\"",
    "Clear type.isOptional on the output.", _INTERFACE)

MODEL_TYPE_UNSET = define_rule(
    "MLS057", "model-type-unset", "A model must set one model type.",
    "After the generic checks Core ML dispatches on the model type; a spec with none set is rejected: \"Model "
    "did not specify a valid model-parameter type.\"",
    "Re-export the model; a spec without a model type is not a usable model.", _MODEL)

KNN_WEIGHTING = define_rule(
    "MLS060", "knn-weighting-scheme", "A k-NN classifier must set a weighting scheme.",
    "uniformWeighting or inverseDistanceWeighting must be set: \"KNearestNeighborsClassifier requires a "
    "weighting scheme to be set.\"",
    "Set uniformWeighting (or inverseDistanceWeighting).", _KNN)

KNN_DEFAULT_LABEL_TYPE = define_rule(
    "MLS061", "knn-default-label-type", "A k-NN default label must have the class labels' type.",
    "A defaultStringLabel needs String class labels (or none) and a defaultInt64Label needs Int64 class labels "
    "(or none): \"class label and default class label have different types.\"",
    "Use a default label of the same type as the class labels.", _KNN)

KNN_NO_LABELS = define_rule(
    "MLS062", "knn-no-labels", "A k-NN classifier without class labels needs a default label.",
    "With no class labels (an empty classifier to be filled by on-device updates) a default label must say the "
    "label type: \"should specify default class labels when class labels are not specified.\"",
    "Set defaultStringLabel or defaultInt64Label.", _KNN)

KNN_INTERFACE = define_rule(
    "MLS063", "knn-classifier-interface", "A k-NN classifier's outputs must describe its predicted label.",
    "Core ML's classifier interface check: predictedFeatureName must be set and name an output of the label type "
    "(Int64 labels: Int64; otherwise String); predictedProbabilitiesName, when set, must name a dictionary or "
    "multi-array output.",
    "Set predictedFeatureName to the label output and give that output the labels' type.",
    _KNN + ", Validators.hpp (validateClassifierInterface)")

KNN_NO_SAMPLES = define_rule(
    "MLS064", "knn-samples-vs-labels", "A k-NN classifier needs one stored sample per class label.",
    "The index must hold exactly as many samples as there are class labels: \"KNearestNeighborsClassifier has no "
    "data points\" when labels exist without samples, \"Unexpected number of labels\" otherwise.",
    "Store one sample per label (or clear both to start empty).", _KNN)

KNN_SAMPLE_DIMENSION = define_rule(
    "MLS065", "knn-sample-dimension", "Every k-NN sample must have numberOfDimensions values.",
    "Each stored sample vector must be exactly nearestNeighborsIndex.numberOfDimensions long.",
    "Set numberOfDimensions to the feature length, or fix the samples.", _KNN)

KNN_INDEX = define_rule(
    "MLS066", "knn-index", "A k-NN index must choose its type, leaf size and distance function.",
    "The index must be linearIndex or singleKdTreeIndex (a kd-tree with a positive leafSize), and "
    "squaredEuclideanDistance must be set.",
    "Set linearIndex (or singleKdTreeIndex with leafSize > 0) and squaredEuclideanDistance.", _KNN)

RULES: list[Rule] = [UPDATABLE_SPEC_VERSION, UPDATABLE_MODEL_TYPE, DEFAULT_OPTIONAL_MODEL_TYPE,
                     DEFAULT_OPTIONAL_VERSION, ALL_INPUTS_OPTIONAL, OPTIONAL_INPUT_NOT_ALLOWED, OPTIONAL_OUTPUT,
                     MODEL_TYPE_UNSET, KNN_WEIGHTING, KNN_DEFAULT_LABEL_TYPE, KNN_NO_LABELS, KNN_INTERFACE,
                     KNN_NO_SAMPLES, KNN_SAMPLE_DIMENSION, KNN_INDEX]


def check_updatable_model(spec, where: str = "") -> list[Finding]:
    """``validateGeneric``'s updatable part: specification version and ``validateCanModelBeUpdatable``."""
    if not spec.isUpdatable:
        return []
    findings = []
    if spec.specificationVersion < MIN_UPDATABLE_SPEC_VERSION:
        findings.append(UPDATABLE_SPEC_VERSION.finding(
            f"the model is marked updatable but has specification version {spec.specificationVersion}; set it to "
            f"{MIN_UPDATABLE_SPEC_VERSION} or later", where=where))
    kind = spec.WhichOneof("Type")
    if kind not in UPDATABLE_TYPES:
        findings.append(UPDATABLE_MODEL_TYPE.finding(
            f"model type '{kind or 'unset'}' cannot be updated on device; clear isUpdatable, or train a neural "
            "network / k-NN classifier (alone or as a pipeline's last stage)", where=where))
    return findings


def check_optional(spec, where: str = "") -> list[Finding]:
    """``validateOptional``: default values of optional inputs, then optional inputs and outputs by model type."""
    kind = spec.WhichOneof("Type")
    description = spec.description
    findings = []
    for feature in description.input:
        if not feature.type.isOptional:
            continue
        if feature.type.multiArrayType.WhichOneof("defaultOptionalValue") is None:
            continue
        if kind not in _NETWORK_LIKE:
            findings.append(DEFAULT_OPTIONAL_MODEL_TYPE.finding(
                f"optional input '{feature.name}' has a default value, which only neural networks accept; remove "
                "the default", where=where))
        elif spec.specificationVersion < DEFAULT_OPTIONAL_MIN_VERSION:
            findings.append(DEFAULT_OPTIONAL_VERSION.finding(
                f"optional input '{feature.name}' has a default value, which needs specification version "
                f"{DEFAULT_OPTIONAL_MIN_VERSION} (this model has {spec.specificationVersion}); raise the version",
                where=where))
    if kind in _NETWORK_LIKE:
        required = [f for f in description.input if f.type.WhichOneof("Type") == "stateType" or not f.type.isOptional]
        if description.input and not required:
            findings.append(ALL_INPUTS_OPTIONAL.finding(
                "every input of this neural network is optional; make at least one required", where=where))
    elif kind not in _OPTIONAL_INPUTS_UNCHECKED:
        findings += [OPTIONAL_INPUT_NOT_ALLOWED.finding(
            f"input '{feature.name}' is optional, which model type '{kind}' does not accept; make it required",
            where=where) for feature in description.input if feature.type.isOptional]
    findings += [OPTIONAL_OUTPUT.finding(
        f"output '{feature.name}' is marked optional; Core ML outputs cannot be, clear its isOptional",
        where=where) for feature in description.output if feature.type.isOptional]
    return findings


def check_model_type_set(spec, where: str = "") -> list[Finding]:
    """``Model::validate``'s dispatch: a spec that sets no model type is rejected."""
    if spec.WhichOneof("Type") is not None:
        return []
    return [MODEL_TYPE_UNSET.finding("the spec sets no model type; re-export the model", where=where)]


def check_knn(spec, where: str = "") -> list[Finding]:
    """``validate<kNearestNeighborsClassifier>``: neighbours, weighting, labels, classifier interface, index."""
    knn = spec.kNearestNeighborsClassifier
    findings = []
    finding = check_int64_parameter("numberOfNeighbors", knn.numberOfNeighbors, should_be_positive=True,
                                    where=where)
    if finding is not None:
        findings.append(finding)
    if knn.WhichOneof("WeightingScheme") is None:
        findings.append(KNN_WEIGHTING.finding(
            "the k-NN classifier sets no weighting scheme; set uniformWeighting or inverseDistanceWeighting",
            where=where))
    labels_kind = knn.WhichOneof("ClassLabels")
    label_count = max(len(knn.int64ClassLabels.vector), len(knn.stringClassLabels.vector))
    default_kind = knn.WhichOneof("DefaultClassLabel")
    labels_are_int64 = False
    if default_kind is not None:
        labels_are_int64 = default_kind == "defaultInt64Label"
        expected = "int64ClassLabels" if labels_are_int64 else "stringClassLabels"
        if labels_kind not in (None, expected):
            findings.append(KNN_DEFAULT_LABEL_TYPE.finding(
                f"the default label is {'Int64' if labels_are_int64 else 'String'} but the class labels are "
                f"{'Int64' if labels_kind == 'int64ClassLabels' else 'String'}; use one label type", where=where))
    elif label_count == 0:
        findings.append(KNN_NO_LABELS.finding(
            "the k-NN classifier has no class labels and no default label; set defaultStringLabel or "
            "defaultInt64Label", where=where))
    if labels_kind is not None:
        labels_are_int64 = labels_kind == "int64ClassLabels"
    findings += _check_classifier_outputs(spec, labels_are_int64, where)
    findings += _check_knn_index(knn.nearestNeighborsIndex, label_count, where)
    return findings


def _check_classifier_outputs(spec, labels_are_int64: bool, where: str) -> list[Finding]:
    description = spec.description
    predicted = description.predictedFeatureName
    if not predicted:
        return [KNN_INTERFACE.finding(
            "predictedFeatureName is empty; set it to the name of the label output", where=where)]
    findings = []
    expected = "int64Type" if labels_are_int64 else "stringType"
    findings += _output_of_type(description, predicted, (expected,), "predicted label", where)
    if description.predictedProbabilitiesName:
        findings += _output_of_type(description, description.predictedProbabilitiesName,
                                    ("multiArrayType", "dictionaryType"), "probabilities", where)
    return findings


def _output_of_type(description, name: str, kinds: tuple[str, ...], role: str, where: str) -> list[Finding]:
    output = next((o for o in description.output if o.name == name), None)
    if output is None:
        return [KNN_INTERFACE.finding(
            f"the {role} feature '{name}' is not among the model outputs; add it or fix the name", where=where)]
    kind = output.type.WhichOneof("Type")
    if kind not in kinds:
        return [KNN_INTERFACE.finding(
            f"the {role} output '{name}' has type {kind or 'unset'}, expected {' or '.join(kinds)}", where=where)]
    return []


def _check_knn_index(index, label_count: int, where: str) -> list[Finding]:
    findings = []
    samples = index.floatSamples
    if len(samples) != label_count:
        what = "no stored samples" if not samples else f"{len(samples)} stored samples"
        findings.append(KNN_NO_SAMPLES.finding(
            f"the k-NN index has {what} for {label_count} class labels; store one sample per label", where=where))
    else:
        wrong = [position for position, sample in enumerate(samples)
                 if len(sample.vector) != index.numberOfDimensions]
        if wrong:
            findings.append(KNN_SAMPLE_DIMENSION.finding(
                f"sample {wrong[0]} has {len(samples[wrong[0]].vector)} values but numberOfDimensions is "
                f"{index.numberOfDimensions}; make them agree", where=where))
    index_type = index.WhichOneof("IndexType")
    if index_type is None:
        findings.append(KNN_INDEX.finding(
            "the k-NN index has no type; set linearIndex or singleKdTreeIndex", where=where))
    elif index_type == "singleKdTreeIndex" and index.singleKdTreeIndex.leafSize <= 0:
        findings.append(KNN_INDEX.finding(
            f"the kd-tree leaf size is {index.singleKdTreeIndex.leafSize}; set a positive leafSize", where=where))
    if index.WhichOneof("DistanceFunction") is None:
        findings.append(KNN_INDEX.finding(
            "the k-NN index sets no distance function; set squaredEuclideanDistance", where=where))
    return findings
