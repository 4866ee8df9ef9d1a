"""Model-level checks (MLS050–MLS057): which models may be updatable, optional features, a model type set.

Upstream: mlmodel/src/Model.cpp (``validateGeneric``'s updatable part and ``validate``'s model-type switch) and
mlmodel/src/Validation/InterfaceValidators.cpp (``validateCanModelBeUpdatable``, ``validateOptional``).
"""

from __future__ import annotations

from ..coreml import MIN_UPDATABLE_SPEC_VERSION, NETWORK_KINDS, PIPELINE_KINDS
from .base import Finding, Rule, define_rule

_MODEL = "mlmodel/src/Model.cpp"
_INTERFACE = "mlmodel/src/Validation/InterfaceValidators.cpp"

DEFAULT_OPTIONAL_MIN_VERSION = 5  # MLMODEL_SPECIFICATION_VERSION_IOS14

UPDATABLE_TYPES = NETWORK_KINDS + ("kNearestNeighborsClassifier",) + PIPELINE_KINDS
_NETWORK_LIKE = NETWORK_KINDS + ("serializedModel", "mlProgram")
# validateOptional lets these model types take optional inputs without any check.
_OPTIONAL_INPUTS_UNCHECKED = ("imputer", "treeEnsembleRegressor", "treeEnsembleClassifier", *PIPELINE_KINDS,
                              "itemSimilarityRecommender", "identity")


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

RULES: list[Rule] = [UPDATABLE_SPEC_VERSION, UPDATABLE_MODEL_TYPE, DEFAULT_OPTIONAL_MODEL_TYPE,
                     DEFAULT_OPTIONAL_VERSION, ALL_INPUTS_OPTIONAL, OPTIONAL_INPUT_NOT_ALLOWED, OPTIONAL_OUTPUT,
                     MODEL_TYPE_UNSET]


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
