"""Pipeline checks (MLS3xx): stage wiring, stage types, and which stage may be updatable.

Upstream: mlmodel/src/Validation/PipelineValidator.cpp (the check order below is its order); feature type
equality is Comparison.cpp's ``isEquivalent`` / ``operator==(FeatureType)``.
"""

from __future__ import annotations

from collections.abc import Callable

from .._proto import enum_name
from ..coreml import pipeline_message
from ..network import pipeline_stages
from .base import ERROR, Finding, Rule, define_rule

_UPSTREAM = "mlmodel/src/Validation/PipelineValidator.cpp"

EMPTY_PIPELINE = define_rule(
    code="MLS300", name="empty-pipeline", severity=ERROR,
    summary="A pipeline must contain at least one model.",
    explanation="Core ML rejects a pipeline whose models list is empty (\"Pipeline must contain one or more "
                "models.\").",
    fix="Add the stage models, or save the single model on its own instead of as a pipeline.",
    upstream=_UPSTREAM)

STAGE_INPUT_MISSING = define_rule(
    code="MLS301", name="stage-input-not-available", severity=ERROR,
    summary="Every stage input must be a pipeline input or an output of an earlier stage.",
    explanation="Core ML walks the stages in order, keeping a table of the features available so far (the "
                "pipeline's inputs, then each stage's outputs). A stage input that is not in that table is "
                "rejected: \"the input ... does not present in pipeline input or previous model\".",
    fix="Rename the stage input to the feature an earlier stage produces, or add it to the pipeline inputs.",
    upstream=_UPSTREAM)

STAGE_INPUT_TYPE = define_rule(
    code="MLS302", name="stage-input-type-mismatch", severity=ERROR,
    summary="A stage input must have the same type as the feature it reads.",
    explanation="The stage input's type must equal (Core ML's isEquivalent: same kind; for multi-arrays the "
                "same data type and rank, and the same shape unless either side is flexible; for images the "
                "same width, height and color space) the pipeline input or earlier stage output of that name. "
                "Optional flags and descriptions are ignored.",
    fix="Make the stage's input description match the producer's output description exactly.",
    upstream=_UPSTREAM)

PIPELINE_OUTPUT_MISSING = define_rule(
    code="MLS303", name="pipeline-output-not-produced", severity=ERROR,
    summary="Every pipeline output must be a pipeline input or an output of some stage.",
    explanation="After the stages, Core ML checks each pipeline output against the table of available "
                "features: \"Pipeline output ... not present in pipeline input or a contained model.\"",
    fix="Rename the pipeline output to a stage output, or remove it.",
    upstream=_UPSTREAM)

PIPELINE_OUTPUT_TYPE = define_rule(
    code="MLS304", name="pipeline-output-type-mismatch", severity=ERROR,
    summary="A pipeline output must have the same type as the feature that produces it.",
    explanation="Same equality as for stage inputs: the pipeline's output description must match the last "
                "stage output (or pipeline input) of that name.",
    fix="Copy the producing stage's output description into the pipeline's outputs.",
    upstream=_UPSTREAM)

EARLY_STAGE_UPDATABLE = define_rule(
    code="MLS305", name="updatable-stage-not-last", severity=ERROR,
    summary="In an updatable pipeline only the last model may be updatable.",
    explanation="For a pipeline marked updatable Core ML requires isUpdatable to be false on every model but "
                "the last: \"Only the last model in the pipeline can be updatable.\" A feature extractor in "
                "front of the trainable model must stay frozen.",
    fix="Clear isUpdatable on the earlier stages (and their layers); train only the last stage.",
    upstream=_UPSTREAM)

LAST_STAGE_NOT_UPDATABLE = define_rule(
    code="MLS306", name="updatable-pipeline-last-stage-frozen", severity=ERROR,
    summary="An updatable pipeline's last model must be updatable.",
    explanation="A pipeline marked updatable must end in an updatable model: \"Last model in an updatable "
                "pipeline model should be marked as updatable.\" A nested pipeline as the last model counts "
                "when it is itself marked updatable.",
    fix="Make the last stage updatable (mlsurgery make-updatable), or clear isUpdatable on the pipeline.",
    upstream=_UPSTREAM)

UPDATABLE_STAGE_IN_FROZEN_PIPELINE = define_rule(
    code="MLS307", name="updatable-stage-in-frozen-pipeline", severity=ERROR,
    summary="A pipeline that is not updatable must not contain an updatable model.",
    explanation="When the pipeline itself is not marked updatable, Core ML rejects any stage marked "
                "updatable: \"Found an updatable model at ... inside a non-updatable pipeline.\" This applies "
                "at every level of nested pipelines.",
    fix="Mark the pipeline (and every enclosing pipeline) updatable too, or clear isUpdatable on the stage.",
    upstream=_UPSTREAM)

STAGE_NAMES_COUNT = define_rule(
    code="MLS308", name="stage-names-count", severity=ERROR,
    summary="Pipeline stage names, when given, must name every model.",
    explanation="Pipeline.names is optional, but when it is not empty it must have exactly one name per model.",
    fix="Give one name per stage, or clear Pipeline.names.",
    upstream=_UPSTREAM)

STAGE_NAMES_UNIQUE = define_rule(
    code="MLS309", name="stage-names-unique", severity=ERROR,
    summary="Pipeline stage names must be unique.",
    explanation="Core ML rejects a stage name used by an earlier stage of the same pipeline.",
    fix="Rename the duplicated stage.",
    upstream=_UPSTREAM)

RULES: list[Rule] = [EMPTY_PIPELINE, STAGE_INPUT_MISSING, STAGE_INPUT_TYPE, PIPELINE_OUTPUT_MISSING,
                     PIPELINE_OUTPUT_TYPE, EARLY_STAGE_UPDATABLE, LAST_STAGE_NOT_UPDATABLE,
                     UPDATABLE_STAGE_IN_FROZEN_PIPELINE, STAGE_NAMES_COUNT, STAGE_NAMES_UNIQUE]


def stage_where(where: str, index: int) -> str:
    """The position of stage ``index`` (0-based) of a pipeline located at ``where``."""
    here = f"pipeline stage {index + 1}"
    return f"{where} › {here}" if where else here


def check_pipeline(spec, where: str, check_model: Callable[[object, str], list[Finding]]) -> list[Finding]:
    """Core ML's pipeline validation; ``check_model(stage, where)`` validates each stage as a whole model.

    The recursion goes through ``check_model`` (mlsurgery.validate), like PipelineValidator calling
    Model::validate for each stage, so nested pipelines are checked at every level.
    """
    stages = pipeline_stages(spec)
    if not stages:
        return [EMPTY_PIPELINE.finding(
            "pipeline contains no models; Core ML requires one or more (add the stage models)", where=where)]
    findings: list[Finding] = []
    available = {feature.name: feature for feature in spec.description.input}
    for index, stage in enumerate(stages):
        here = stage_where(where, index)
        for feature in stage.description.input:
            known = available.get(feature.name)
            if known is None:
                findings.append(STAGE_INPUT_MISSING.finding(
                    f"input '{feature.name}' of stage {index + 1} is neither a pipeline input nor an output of an "
                    "earlier stage; rename it to an available feature", where=here))
            elif not features_equivalent(feature, known):
                findings.append(STAGE_INPUT_TYPE.finding(
                    f"input '{feature.name}' of stage {index + 1} is {describe_type(feature.type)}, but the feature "
                    f"it reads is {describe_type(known.type)}; make the two descriptions match", where=here))
        findings.extend(check_model(stage, here))
        available.update((feature.name, feature) for feature in stage.description.output)
    for feature in spec.description.output:
        known = available.get(feature.name)
        if known is None:
            findings.append(PIPELINE_OUTPUT_MISSING.finding(
                f"pipeline output '{feature.name}' is not a pipeline input nor produced by any stage; rename or "
                "remove it", where=where))
        elif not features_equivalent(feature, known):
            findings.append(PIPELINE_OUTPUT_TYPE.finding(
                f"pipeline output '{feature.name}' is {describe_type(feature.type)}, but the stage producing it "
                f"says {describe_type(known.type)}; copy the stage's output description", where=where))
    findings.extend(_updatable_flags(spec, stages, where))
    findings.extend(_stage_names(spec, len(stages), where))
    return findings


def _updatable_flags(spec, stages: list, where: str) -> list[Finding]:
    if spec.isUpdatable:
        findings = [EARLY_STAGE_UPDATABLE.finding(
            f"stage {index + 1} is marked updatable, but only the last model of an updatable pipeline may be; "
            "clear its isUpdatable", where=stage_where(where, index))
            for index, stage in enumerate(stages[:-1]) if stage.isUpdatable]
        if not stages[-1].isUpdatable:
            findings.append(LAST_STAGE_NOT_UPDATABLE.finding(
                f"the pipeline is marked updatable but its last model (stage {len(stages)}) is not; make that "
                "stage updatable or clear the pipeline's isUpdatable", where=where))
        return findings
    return [UPDATABLE_STAGE_IN_FROZEN_PIPELINE.finding(
        f"stage {index + 1} is marked updatable inside a pipeline that is not; mark the pipeline updatable too "
        "(it must be the last stage) or clear the stage's isUpdatable", where=stage_where(where, index))
        for index, stage in enumerate(stages) if stage.isUpdatable]


def _stage_names(spec, stage_count: int, where: str) -> list[Finding]:
    names = list(pipeline_message(spec).names)
    if not names:
        return []
    if len(names) != stage_count:
        return [STAGE_NAMES_COUNT.finding(
            f"the pipeline names {len(names)} stages but has {stage_count} models; give one name per model or "
            "clear Pipeline.names", where=where)]
    findings, seen = [], set()
    for index, name in enumerate(names):
        if name in seen:
            findings.append(STAGE_NAMES_UNIQUE.finding(
                f"stage name '{name}' (stage {index + 1}) is already used by an earlier stage; rename it",
                where=where))
        seen.add(name)
    return findings


# --- Feature description equality (upstream: mlmodel/src/Comparison.cpp) ---------------------------------

def features_equivalent(a, b) -> bool:
    """Core ML's ``isEquivalent(FeatureDescription)``: same name and equal types (descriptions ignored)."""
    return a.name == b.name and feature_types_equal(a.type, b.type)


def feature_types_equal(a, b) -> bool:
    """Core ML's ``operator==(FeatureType)``; ``isOptional`` is deliberately not compared (upstream comment)."""
    kind = a.WhichOneof("Type")
    if kind != b.WhichOneof("Type"):
        return False
    if kind == "multiArrayType":
        return _arrays_equal(a.multiArrayType, b.multiArrayType, compare_flexible_shapes=False)
    if kind == "dictionaryType":
        return a.dictionaryType.WhichOneof("KeyType") == b.dictionaryType.WhichOneof("KeyType")
    if kind == "imageType":
        x, y = a.imageType, b.imageType
        return (x.width, x.height, x.colorSpace) == (y.width, y.height, y.colorSpace)
    if kind == "sequenceType":
        return a.sequenceType.WhichOneof("Type") == b.sequenceType.WhichOneof("Type")
    if kind == "stateType":
        return _arrays_equal(a.stateType.arrayType, b.stateType.arrayType, compare_flexible_shapes=True)
    return True  # double, int64, string, and unset types are equal to their own kind


def _arrays_equal(x, y, *, compare_flexible_shapes: bool) -> bool:
    if x.dataType != y.dataType or _rank(x) != _rank(y):
        return False
    flexible = x.WhichOneof("ShapeFlexibility") or y.WhichOneof("ShapeFlexibility")
    if flexible and not compare_flexible_shapes:
        return True
    # Core ML compares x's default shape element by element against y's.
    return all(index < len(y.shape) and value == y.shape[index] for index, value in enumerate(x.shape))


def _rank(array) -> int:
    flexibility = array.WhichOneof("ShapeFlexibility")
    if flexibility == "enumeratedShapes":
        shapes = array.enumeratedShapes.shapes
        # Core ML reads shapes[0] without checking (inputs were validated to have one); treat none as rank 0.
        return len(shapes[0].shape) if shapes else 0
    if flexibility == "shapeRange":
        return len(array.shapeRange.sizeRanges)
    return len(array.shape)


def describe_type(feature_type) -> str:
    """A short human description of a FeatureType, e.g. ``FLOAT32 multi-array [1, 3]`` or ``String``."""
    kind = feature_type.WhichOneof("Type")
    optional = "optional " if feature_type.isOptional else ""
    if kind == "multiArrayType":
        array = feature_type.multiArrayType
        data_type = enum_name(type(array).ArrayDataType, array.dataType)
        return f"{optional}{data_type} multi-array {list(array.shape)}{_array_flexibility(array)}"
    if kind == "imageType":
        image = feature_type.imageType
        return f"{optional}{image.width}×{image.height} {enum_name(type(image).ColorSpace, image.colorSpace)} image"
    if kind == "dictionaryType":
        key = feature_type.dictionaryType.WhichOneof("KeyType") or "unset"
        return f"{optional}dictionary keyed by {key.replace('KeyType', '')}"
    names = {"int64Type": "Int64", "doubleType": "Double", "stringType": "String", "sequenceType": "sequence",
             "stateType": "state", None: "untyped"}
    return optional + names.get(kind, kind)


def _array_flexibility(array) -> str:
    # Two descriptions can differ only in their flexible shapes, so those must show in the message.
    flexibility = array.WhichOneof("ShapeFlexibility")
    if flexibility == "enumeratedShapes":
        shapes = [list(shape.shape) for shape in array.enumeratedShapes.shapes]
        return f" with enumerated shapes {shapes}" if shapes else " with an empty enumeratedShapes list"
    if flexibility == "shapeRange":
        ranges = [[size.lowerBound, size.upperBound] for size in array.shapeRange.sizeRanges]
        return f" with shape ranges {ranges}"
    return ""
