"""Checks of the other model types (MLS4xx): their shared interface rules and the smaller model types.

After ``validateGeneric`` Core ML runs the validator of the model type (``validate<MLModelType_X>``, dispatched
in mlmodel/src/Model.cpp). This module holds what those validators share, as MLS400–MLS409: the helpers of
mlmodel/src/Validation/ValidatorUtils-inl.hpp (``validateSchemaTypes``,
``validateDescriptionsContainFeatureWithTypes``, ``validateDescriptionsContainFeatureWithNameAndType``),
Validators.hpp (``validateClassifierInterface``) and InterfaceValidators.cpp (``validateRegressorInterface``,
``validateClassifierFeatureDescriptions``). It also holds the validators of non-maximum suppression,
item-similarity recommenders, custom models, linked models, class-confidence thresholding and identity models
(MLS460–MLS469). The other families live in ``estimators`` (GLM, SVM, Bayesian probit), ``trees``,
``transforms`` (feature engineering), ``text`` and ``vision_audio``; each module maps the model types it
validates to their checks in ``CHECKS``.

Each check stops where Core ML's validator returns (tree ensembles report a list, as Core ML does). Checks that
cannot fail once ``validateGeneric`` has passed and the type is dispatched are left out: the repeated
``validateModelDescription`` / ``validateFeatureDescriptions`` calls (same policy, same result), the "Model not
a ..." guards, a linked model marked updatable (MLS051 comes first), and a label list of the other kind next to
the declared one (class labels are a oneof).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator

from ..coreml import FEATURE_TYPE_NAMES
from .base import Check, Finding, Problem, Rule, define_rule

_UTILS = "mlmodel/src/Validation/ValidatorUtils-inl.hpp"
_INTERFACE = "mlmodel/src/Validation/InterfaceValidators.cpp"
_NMS = "mlmodel/src/Validation/NonMaximumSuppressionValidator.cpp"
_RECOMMENDER = ("mlmodel/src/Validation/ItemSimilarityRecommenderValidator.cpp, "
                "mlmodel/src/ItemSimilarityRecommenderCommon.cpp")
_CUSTOM = "mlmodel/src/Validation/CustomModelValidator.cpp"
_LINKED = "mlmodel/src/Validation/LinkedModelValidator.cpp"
_THRESHOLDING = "mlmodel/src/Validation/ClassConfidenceThresholdingValidator.cpp"

_SPEC_VERSION_IOS14 = 5  # MLMODEL_SPECIFICATION_VERSION_IOS14 (mlmodel/src/Globals.hpp)


FEATURE_TYPE = define_rule(
    "MLS400", "model-feature-type", "An input or output has a feature type this model type does not accept.",
    "Each model type accepts only some feature types (for example a one-hot encoder takes an Int64 or String "
    "input and gives a multi-array, or a dictionary when outputSparse is set; a GLM regressor's outputs are "
    "Double); a classifier's predicted label must have the labels' type and a regressor's prediction must be "
    "Double or a multi-array: \"Unsupported type ... for feature ... Should be one of: ...\".",
    "Give the feature one of the types the message lists, or convert it in an earlier pipeline stage.", _UTILS)

FEATURE_COUNT = define_rule(
    "MLS401", "model-feature-count", "The model has more inputs or outputs than its type takes.",
    "Most feature-engineering and Create ML model types take exactly one input and give one output (a "
    "vision feature print of objects: two outputs); more are rejected: \"Feature descriptions exceeded N\".",
    "Keep one input (output) and move the others to their own models, e.g. stages of a pipeline.", _UTILS)

CLASSIFIER_LABELS = define_rule(
    "MLS402", "model-classifier-labels", "A GLM or SVM classifier has no class labels.",
    "validateClassifierInterface requires stringClassLabels or int64ClassLabels with at least one label: "
    "\"Classifier models must provide class labels.\"",
    "Set the class labels, one per class the classifier predicts.",
    "mlmodel/src/Validation/Validators.hpp (validateClassifierInterface)")

PREDICTED_FEATURE_MISSING = define_rule(
    "MLS403", "predicted-feature-name-missing", "A classifier or regressor does not name its predicted output.",
    "GLM and SVM classifiers and regressors must set description.predictedFeatureName: \"Specification is "
    "missing classifier predictedFeatureName\" (or regressor).",
    "Set description.predictedFeatureName to the name of the predicted output.", _INTERFACE)

NAMED_FEATURE_MISSING = define_rule(
    "MLS404", "named-feature-missing", "A feature the model names is not in its description.",
    "predictedFeatureName, predictedProbabilitiesName and the feature names inside the model's parameters "
    "(non-maximum suppression, word tagger, item-similarity recommender) must name declared inputs or "
    "outputs: \"Expected feature '...' to the model is not present in the model description.\"",
    "Rename the feature in the description or in the parameters so that both agree.",
    f"{_UTILS} (validateDescriptionsContainFeatureWithNameAndType)")

UNCLAIMED_FEATURE = define_rule(
    "MLS405", "unclaimed-feature", "The description declares a feature the model's parameters do not name.",
    "Non-maximum suppression, word taggers and vision feature prints of objects bind every input or output "
    "by name; a declared feature none of those names refers to is rejected (\"Input feature '...' was not "
    "requested by any of the input feature names\", \"More model output features than the output features of "
    "the word tagger model\", \"... is not declared in Vision Feature Print output\").",
    "Remove the extra feature from the description, or name it in the model's parameters.",
    f"{_NMS}, mlmodel/src/Validation/WordTaggerValidator.cpp, "
    "mlmodel/src/Validation/VisionFeaturePrintValidator.cpp")

NMS_THRESHOLDS = define_rule(
    "MLS460", "nms-thresholds", "Non-maximum suppression thresholds are out of range.",
    "iouThreshold must lie in [0, 1] and confidenceThreshold must not be negative (NaN fails both): "
    "\"iouThreshold must be a value between 0.0 and 1.0.\"",
    "Set iouThreshold within [0, 1] and confidenceThreshold ≥ 0 (0 keeps every prediction).", _NMS)

NMS_ELEMENT_TYPE = define_rule(
    "MLS461", "nms-element-type", "Non-maximum suppression confidence and coordinates need one float element type.",
    "The confidence and coordinates inputs and outputs must share one multi-array data type: DOUBLE, or from "
    "specification version 5 (iOS 14) DOUBLE or FLOAT32.",
    "Give all four arrays the same dataType (DOUBLE, or FLOAT32 with specificationVersion ≥ 5).", _NMS)

NMS_OUTPUT_SHAPES = define_rule(
    "MLS462", "nms-output-shapes", "Non-maximum suppression's output shapes are inconsistent.",
    "The confidence output's shape, when given, has two dimensions (boxes, classes), either as the "
    "(deprecated) shape, and then the coordinates output has a shape with the same number of boxes, or as a "
    "shape range, and then the coordinates output uses a shape range too; with class labels the class "
    "dimension (or its range) must fit the number of labels. Core ML checks the coordinates output only that "
    "far (its other coordinates checks compare the confidence output with itself), and its validator crashes "
    "on a shaped confidence output next to an unshaped coordinates output.",
    "Give the outputs shapes [boxes, classes] and [boxes, 4] (or 2-D shape ranges) matching the class labels.",
    _NMS)

RECOMMENDER_ITEM_IDS = define_rule(
    "MLS463", "recommender-item-ids", "An item-similarity recommender's item ids are inconsistent.",
    "Item ids are Int64 or String, not both; the id list must be long enough to index every item named in "
    "the similarities (Int64: more ids than the largest item index; String: at least as many) and hold no "
    "duplicates.",
    "Store one unique id per item, of one kind, covering every item index.", _RECOMMENDER)

RECOMMENDER_COLUMNS = define_rule(
    "MLS464", "recommender-columns", "An item-similarity recommender does not name its item input or any output.",
    "itemInputFeatureName may be empty only when the model has exactly one input (\"Name of column for item "
    "input data not specified.\"), and recommendedItemListOutputFeatureName or "
    "recommendedItemScoreOutputFeatureName must be set (\"No output columns specified.\").",
    "Set itemInputFeatureName and at least one of the recommended-item output names.", _RECOMMENDER)

CUSTOM_MODEL = define_rule(
    "MLS465", "custom-model-parameters", "A custom model has no class name or an incomplete parameter.",
    "className must name the MLCustomModel class, and every entry of parameters needs a non-empty key and a "
    "value.",
    "Set className and give every parameter a key and a value.", _CUSTOM)

LINKED_MODEL = define_rule(
    "MLS466", "linked-model-file", "A linked model does not name the model file it links.",
    "linkedModelFile must be set and its linkedModelFileName.defaultValue must not be empty (an empty search "
    "path is fine: it means the model's own folder).",
    "Set linkedModelFile.linkedModelFileName.defaultValue to the linked .mlmodelc file name.", _LINKED)

PRECISION_RECALL_CURVES = define_rule(
    "MLS467", "precision-recall-curves", "Class-confidence thresholding needs valid precision/recall curves.",
    "The model needs at least one precision-recall curve; in each, the precision values and their confidence "
    "thresholds (and the recall values and theirs) are non-empty lists of equal length, and every element is "
    "a finite number ≥ 0.",
    "Give every curve matching, non-empty value and threshold lists of finite non-negative numbers.",
    _THRESHOLDING)

RULES: list[Rule] = [FEATURE_TYPE, FEATURE_COUNT, CLASSIFIER_LABELS, PREDICTED_FEATURE_MISSING,
                     NAMED_FEATURE_MISSING, UNCLAIMED_FEATURE, NMS_THRESHOLDS, NMS_ELEMENT_TYPE, NMS_OUTPUT_SHAPES,
                     RECOMMENDER_ITEM_IDS, RECOMMENDER_COLUMNS, CUSTOM_MODEL, LINKED_MODEL,
                     PRECISION_RECALL_CURVES]


def model_check(problems_of: Callable[..., Iterable[Problem]]) -> Check:
    """Turn a generator of a model type's problems into a check ``(spec, where) -> findings``.

    Core ML runs these validators only on models with inputs and outputs (``validateGeneric`` refuses the others
    first: MLS004, MLS005), and they all read those features; without them there is nothing to check.
    """
    @functools.wraps(problems_of)
    def check(spec, where: str = "") -> list[Finding]:
        if not (len(spec.description.input) and len(spec.description.output)):
            return []
        return [rule.finding(message, where=where) for rule, message in problems_of(spec)]
    return check


def kind_of(feature) -> str:
    """A feature's type as Core ML names it in messages (``Double``, ``MultiArray``, ... or ``unset``)."""
    kind = feature.type.WhichOneof("Type")
    return FEATURE_TYPE_NAMES.get(kind, "unset")


def data_type_name(array) -> str:
    """A multi-array's dataType as its enum name (``FLOAT32``), or the bare number when it is not one."""
    names = type(array).ArrayDataType
    return names.Name(array.dataType) if array.dataType in names.values() else str(array.dataType)


def schema_type_problem(feature, allowed: tuple[str, ...], model_kind: str) -> Problem | None:
    """``validateSchemaTypes``: the feature's type is one of ``allowed`` (FeatureType oneof names)."""
    if feature.type.WhichOneof("Type") in allowed:
        return None
    wanted = " or ".join(FEATURE_TYPE_NAMES[kind] for kind in allowed)
    return (FEATURE_TYPE, f"feature '{feature.name}' is {kind_of(feature)}, but {model_kind} accepts only "
                          f"{wanted} here; change its type")


def features_problem(features, allowed: tuple[str, ...], model_kind: str, role: str,
                     limit: int = 0) -> Problem | None:
    """``validateDescriptionsContainFeatureWithTypes``: at most ``limit`` features (0: any number), allowed types."""
    if limit and len(features) > limit:
        return (FEATURE_COUNT, f"{model_kind} takes at most {limit} {role}(s) but the model declares "
                               f"{len(features)}; remove the extra {role}s")
    for feature in features:
        problem = schema_type_problem(feature, allowed, model_kind)
        if problem is not None:
            return problem
    return None


def named_feature_problem(features, name: str, allowed: tuple[str, ...], model_kind: str,
                          role: str) -> Problem | None:
    """``validateDescriptionsContainFeatureWithNameAndType``: the first feature called ``name`` has an allowed type."""
    feature = next((f for f in features if f.name == name), None)
    if feature is None:
        return (NAMED_FEATURE_MISSING, f"the {role} '{name}' is not among the model's features; declare it or "
                                       "fix the name")
    return schema_type_problem(feature, allowed, model_kind)


def regressor_interface_problem(spec) -> Problem | None:
    """``validateRegressorInterface``: predictedFeatureName names a Double or multi-array output."""
    description = spec.description
    if not description.predictedFeatureName:
        return (PREDICTED_FEATURE_MISSING, f"the {spec.WhichOneof('Type')} sets no predictedFeatureName; set it to "
                                           "the name of its output")
    return named_feature_problem(description.output, description.predictedFeatureName,
                                 ("doubleType", "multiArrayType"), spec.WhichOneof("Type"), "predicted output")


def classifier_interface_problem(spec, parameters) -> Problem | None:
    """``validateClassifierInterface`` without empty labels: labels, then predicted label and probabilities."""
    model_kind = spec.WhichOneof("Type")
    labels = parameters.WhichOneof("ClassLabels")
    if labels is None or not len(getattr(parameters, labels).vector):
        return (CLASSIFIER_LABELS, f"the {model_kind} has no class labels; set stringClassLabels or "
                                   "int64ClassLabels")
    description = spec.description
    if not description.predictedFeatureName:
        return (PREDICTED_FEATURE_MISSING, f"the {model_kind} sets no predictedFeatureName; set it to the name of "
                                           "its predicted-label output")
    label_kind = "int64Type" if labels == "int64ClassLabels" else "stringType"
    problem = named_feature_problem(description.output, description.predictedFeatureName, (label_kind,),
                                    model_kind, "predicted label")
    if problem is None and description.predictedProbabilitiesName:
        problem = named_feature_problem(description.output, description.predictedProbabilitiesName,
                                        ("multiArrayType", "dictionaryType"), model_kind, "probabilities output")
    return problem


@model_check
def identity_problems(spec) -> Iterator[Problem]:
    """``validate<identity>``: every identity model is valid."""
    return iter(())


@model_check
def nms_problems(spec) -> Iterator[Problem]:
    """``validate<nonMaximumSuppression>`` (NonMaximumSuppressionValidator.cpp)."""
    nms = spec.nonMaximumSuppression
    description = spec.description
    inputs = {}
    input_names = {"confidence": nms.confidenceInputFeatureName, "coordinates": nms.coordinatesInputFeatureName,
                   "iouThreshold": nms.iouThresholdInputFeatureName,
                   "confidenceThreshold": nms.confidenceThresholdInputFeatureName}
    for position, feature in enumerate(description.input):
        roles = [role for role, name in input_names.items() if name == feature.name]
        if not roles:
            yield (UNCLAIMED_FEATURE, f"input '{feature.name}' is named by none of the NMS input feature names; "
                                      "remove it or set e.g. confidenceInputFeatureName to it")
            return
        inputs.update(dict.fromkeys(roles, position))
    missing = next((role for role in ("confidence", "coordinates") if role not in inputs), None)
    if missing is not None:
        yield (NAMED_FEATURE_MISSING, f"the {missing} input '{input_names[missing]}' (set by {missing}InputFeature"
                                      "Name) is not among the model inputs; declare it or fix the name")
        return
    outputs = {}
    output_names = {"confidence": nms.confidenceOutputFeatureName,
                    "coordinates": nms.coordinatesOutputFeatureName}
    for position, feature in enumerate(description.output):
        roles = [role for role, name in output_names.items() if name == feature.name]
        if not roles:
            yield (UNCLAIMED_FEATURE, f"output '{feature.name}' is named by neither confidenceOutputFeatureName "
                                      "nor coordinatesOutputFeatureName; remove it or name it there")
            return
        outputs.update(dict.fromkeys(roles, position))
    missing = next((role for role in ("confidence", "coordinates") if role not in outputs), None)
    if missing is not None:
        yield (NAMED_FEATURE_MISSING, f"the {missing} output '{output_names[missing]}' (set by {missing}Output"
                                      "FeatureName) is not among the model outputs; declare it or fix the name")
        return
    array, double = ("multiArrayType",), ("doubleType",)
    # Core ML looks the features up by name again here (the first of that name); below it uses the positions found
    # above (the last of that name).
    named = [(description.input, nms.confidenceInputFeatureName, array, "confidence input"),
             (description.input, nms.coordinatesInputFeatureName, array, "coordinates input")]
    named += [(description.input, input_names[role], double, f"{role} input")
              for role in ("iouThreshold", "confidenceThreshold") if role in inputs]
    named += [(description.output, nms.confidenceOutputFeatureName, array, "confidence output"),
              (description.output, nms.coordinatesOutputFeatureName, array, "coordinates output")]
    for features, name, kinds, role in named:
        problem = named_feature_problem(features, name, kinds, "nonMaximumSuppression", role)
        if problem is not None:
            yield problem
            return
    if not 0.0 <= nms.iouThreshold <= 1.0:
        yield (NMS_THRESHOLDS, f"iouThreshold is {nms.iouThreshold}; set a value between 0.0 and 1.0")
        return
    if not nms.confidenceThreshold >= 0.0:
        yield (NMS_THRESHOLDS, f"confidenceThreshold is {nms.confidenceThreshold}; set a value ≥ 0.0 (0.0 keeps "
                               "every prediction)")
        return
    arrays = {"input confidence": description.input[inputs["confidence"]].type.multiArrayType,
              "output confidence": description.output[outputs["confidence"]].type.multiArrayType,
              "input coordinates": description.input[inputs["coordinates"]].type.multiArrayType,
              "output coordinates": description.output[outputs["coordinates"]].type.multiArrayType}
    problem = _nms_data_type_problem(spec, arrays) or _nms_output_shape_problem(spec, arrays)
    if problem is not None:
        yield problem


def _nms_data_type_problem(spec, arrays: dict) -> Problem | None:
    data_types = {role: array.dataType for role, array in arrays.items()}
    names = type(arrays["input confidence"]).ArrayDataType
    described = ", ".join(f"{role} {data_type_name(array)}" for role, array in arrays.items())
    if len(set(data_types.values())) > 1:
        return (NMS_ELEMENT_TYPE, f"confidence and coordinates must share one dataType ({described}); make them "
                                  "equal")
    allowed = {names.Value("DOUBLE")}
    if spec.specificationVersion >= _SPEC_VERSION_IOS14:
        allowed.add(names.Value("FLOAT32"))
    if data_types["input confidence"] not in allowed:
        hint = ("DOUBLE or FLOAT32" if len(allowed) == 2
                else f"DOUBLE (FLOAT32 needs specificationVersion ≥ {_SPEC_VERSION_IOS14})")
        return (NMS_ELEMENT_TYPE, f"confidence and coordinates must be {hint} ({described}); change their dataType")
    return None


def _nms_output_shape_problem(spec, arrays: dict) -> Problem | None:
    confidence, coordinates = arrays["output confidence"], arrays["output coordinates"]
    flexibility = confidence.WhichOneof("ShapeFlexibility")
    if flexibility == "enumeratedShapes":
        # An empty list only passes the generic checks below specification version 3; count it as no rank.
        shapes = confidence.enumeratedShapes.shapes
        flexible_rank = len(shapes[0].shape) if len(shapes) else 0
    else:
        flexible_rank = len(confidence.shapeRange.sizeRanges)
    rank = len(confidence.shape)
    uses_shape, uses_flexible = (rank, flexible_rank) == (2, 0), (rank, flexible_rank) == (0, 2)
    if not (uses_shape or uses_flexible or (rank, flexible_rank) == (0, 0)):
        return (NMS_OUTPUT_SHAPES, f"the confidence output has a {rank}-D shape and a {flexible_rank}-D flexible "
                                   "shape; give 2 dimensions (boxes, classes) with exactly one of them, or neither")
    if uses_shape and (not coordinates.shape or coordinates.shape[0] != confidence.shape[0]):
        # Without a coordinates shape Core ML's validator reads past the end of the list (it crashes).
        given = list(coordinates.shape) if coordinates.shape else "no shape"
        return (NMS_OUTPUT_SHAPES, f"the confidence output has shape {list(confidence.shape)} but the coordinates "
                                   f"output has {given}; give coordinates the same number of boxes (dimension 0)")
    if uses_flexible and not (flexibility == "shapeRange"
                              and coordinates.WhichOneof("ShapeFlexibility") == "shapeRange"):
        return (NMS_OUTPUT_SHAPES, "the confidence output has a flexible shape, so both outputs must use shape "
                                   "ranges (not enumerated shapes or a fixed shape)")
    nms = spec.nonMaximumSuppression
    labels = nms.WhichOneof("ClassLabels")
    label_count = len(getattr(nms, labels).vector) if labels else 0
    if not label_count:
        return None
    if uses_shape and confidence.shape[1] != label_count:
        return (NMS_OUTPUT_SHAPES, f"the confidence output has {confidence.shape[1]} classes (dimension 1) but "
                                   f"there are {label_count} class labels; make them agree")
    if uses_flexible:
        classes = confidence.shapeRange.sizeRanges[1]
        if label_count < classes.lowerBound or 0 <= classes.upperBound < label_count:
            return (NMS_OUTPUT_SHAPES, f"the confidence output's class dimension ranges over "
                                       f"[{classes.lowerBound}, {classes.upperBound}], which excludes the "
                                       f"{label_count} class labels; widen the range")
    return None


@model_check
def recommender_problems(spec) -> Iterator[Problem]:
    """``validate<itemSimilarityRecommender>`` (constructAndValidateItemSimilarityRecommenderFromSpec)."""
    recommender = spec.itemSimilarityRecommender
    largest_item = 0
    for similar in recommender.itemItemSimilarities:
        largest_item = max([largest_item, similar.itemId] + [item.itemId for item in similar.similarItemList])
    int64_ids = recommender.itemInt64Ids.vector
    string_ids = recommender.itemStringIds.vector
    if len(int64_ids):
        if len(string_ids):
            yield (RECOMMENDER_ITEM_IDS, "the recommender sets both itemInt64Ids and itemStringIds; keep one kind")
            return
        # Int64 ids must outnumber the largest item index; String ids need only reach it (upstream asymmetry).
        if len(int64_ids) <= largest_item:
            yield (RECOMMENDER_ITEM_IDS, f"item index {largest_item} is used but only {len(int64_ids)} Int64 item "
                                         "ids are given; give one id per item")
            return
        if len(set(int64_ids)) != len(int64_ids):
            yield (RECOMMENDER_ITEM_IDS, "itemInt64Ids contains duplicates; make the ids unique")
            return
    elif len(string_ids):
        if len(string_ids) < largest_item:
            yield (RECOMMENDER_ITEM_IDS, f"item index {largest_item} is used but only {len(string_ids)} String item "
                                         "ids are given; give one id per item")
            return
        if len(set(string_ids)) != len(string_ids):
            yield (RECOMMENDER_ITEM_IDS, "itemStringIds contains duplicates; make the ids unique")
            return
    description = spec.description
    item_input = recommender.itemInputFeatureName
    if not item_input:
        if len(description.input) != 1:
            yield (RECOMMENDER_COLUMNS, "itemInputFeatureName is empty and the model has "
                                        f"{len(description.input)} inputs; name the item input")
            return
        item_input = description.input[0].name
    kind = "itemSimilarityRecommender"
    named = [(description.input, item_input, ("dictionaryType", "sequenceType", "multiArrayType"), "item input")]
    if recommender.numRecommendationsInputFeatureName:
        named.append((description.input, recommender.numRecommendationsInputFeatureName, ("int64Type",),
                      "number-of-recommendations input"))
    for name, role in ((recommender.itemExclusionInputFeatureName, "item exclusion input"),
                       (recommender.itemRestrictionInputFeatureName, "item restriction input")):
        if name:
            named.append((description.input, name, ("sequenceType", "multiArrayType"), role))
    if recommender.recommendedItemScoreOutputFeatureName:
        named.append((description.output, recommender.recommendedItemScoreOutputFeatureName, ("dictionaryType",),
                      "item score output"))
    if recommender.recommendedItemListOutputFeatureName:
        named.append((description.output, recommender.recommendedItemListOutputFeatureName, ("sequenceType",),
                      "item list output"))
    for features, name, kinds, role in named:
        problem = named_feature_problem(features, name, kinds, kind, role)
        if problem is not None:
            yield problem
            return
    if not (recommender.recommendedItemScoreOutputFeatureName or recommender.recommendedItemListOutputFeatureName):
        yield (RECOMMENDER_COLUMNS, "the recommender names no output; set recommendedItemListOutputFeatureName or "
                                    "recommendedItemScoreOutputFeatureName")


@model_check
def custom_model_problems(spec) -> Iterator[Problem]:
    """``validate<customModel>``: a class name, then non-empty keys with values."""
    custom = spec.customModel
    if not custom.className:
        yield (CUSTOM_MODEL, "the custom model has no className; set the name of its MLCustomModel class")
        return
    # Core ML iterates a hash map, so which bad parameter it names first is unspecified; we take key order.
    for key in sorted(custom.parameters):
        if not key:
            yield (CUSTOM_MODEL, "a custom model parameter has an empty key; give every parameter a name")
            return
        if custom.parameters[key].WhichOneof("value") is None:
            yield (CUSTOM_MODEL, f"custom model parameter '{key}' has no value; set one")
            return


@model_check
def linked_model_problems(spec) -> Iterator[Problem]:
    """``validate<linkedModel>`` (marking it updatable is already refused by the generic checks, MLS051)."""
    linked = spec.linkedModel
    if linked.WhichOneof("LinkType") is None:
        yield (LINKED_MODEL, "the linked model sets no link type; set linkedModelFile")
    elif not linked.linkedModelFile.linkedModelFileName.defaultValue:
        yield (LINKED_MODEL, "linkedModelFile.linkedModelFileName.defaultValue is empty; name the linked model file")


@model_check
def thresholding_problems(spec) -> Iterator[Problem]:
    """``validate<classConfidenceThresholding>``: at least one curve, each with consistent non-negative values."""
    curves = spec.classConfidenceThresholding.precisionRecallCurves
    if not len(curves):
        yield (PRECISION_RECALL_CURVES, "the model has no precisionRecallCurves; add one per class")
        return
    for position, curve in enumerate(curves):
        for values, thresholds in (("precisionValues", "precisionConfidenceThresholds"),
                                   ("recallValues", "recallConfidenceThresholds")):
            count, threshold_count = len(getattr(curve, values).vector), len(getattr(curve, thresholds).vector)
            if count == 0 or count != threshold_count:
                yield (PRECISION_RECALL_CURVES, f"curve {position} has {count} {values} and {threshold_count} "
                                                f"{thresholds}; give both the same non-zero length")
                return
        for field in ("precisionValues", "precisionConfidenceThresholds", "recallValues",
                      "recallConfidenceThresholds"):
            bad = next((value for value in getattr(curve, field).vector
                        if not math.isfinite(value) or value < 0.0), None)
            if bad is not None:
                yield (PRECISION_RECALL_CURVES, f"curve {position} has {field} element {bad}; every element must "
                                                "be a finite number ≥ 0")
                return


CHECKS: dict[str, Check] = {
    "identity": identity_problems,
    "nonMaximumSuppression": nms_problems,
    "itemSimilarityRecommender": recommender_problems,
    "customModel": custom_model_problems,
    "linkedModel": linked_model_problems,
    "classConfidenceThresholding": thresholding_problems,
}
