"""Model-level and interface checks Core ML runs on every model (MLS0xx).

Upstream: mlmodel/src/Model.cpp (``validateGeneric``), mlmodel/src/Validation/InterfaceValidators.cpp
(``validateModelDescription``, ``validateFeatureDescription``) and
mlmodel/src/Validation/Validators.hpp (``validateFeatureDescriptions``).

Core ML's order inside ``validateGeneric`` is: specification version → model description (this module) →
updatable model-level checks → ``validateOptional`` (both in ``rules.generic``).

Core ML stops at its first failed check; we keep going where the later checks are still meaningful (each
feature is checked on its own), so the first finding is Core ML's message and the rest are extra.
Core ML does NOT reject duplicate feature names here, so neither do we.
"""

from __future__ import annotations

from .._proto import feature_types_pb2
from ..coreml import NETWORK_KINDS, PIPELINE_KINDS, int32, int64
from .base import Finding, Problem, Rule, define_rule

# Specification versions (upstream: mlmodel/src/Globals.hpp).
SPEC_VERSION_IOS12 = 3
SPEC_VERSION_IOS16 = 7
SPEC_VERSION_IOS18 = 9
SPEC_VERSION_IOS26 = 10
# MLMODEL_SPECIFICATION_VERSION: the newest version the validator accepts.
NEWEST_SPEC_VERSION = SPEC_VERSION_IOS26

# Model.cpp modelTypeAllowsEmptyInput / modelTypeAllowsMultipleFunctions.
_ALLOWS_EMPTY_INPUT = frozenset(NETWORK_KINDS + PIPELINE_KINDS + ("mlProgram",))
_ALLOWS_MULTIPLE_FUNCTIONS = frozenset({"mlProgram"})

_UPSTREAM_INTERFACE = "mlmodel/src/Validation/InterfaceValidators.cpp"
_UPSTREAM_FEATURES = f"{_UPSTREAM_INTERFACE} (validateFeatureDescription)"


SPEC_VERSION_MISSING = define_rule(
    "MLS001", "spec-version-missing", "The model's specificationVersion is 0 (missing).",
    "Core ML refuses a model whose specificationVersion field is 0: it reads that as a missing or corrupt "
    "version (\"Model specification version field missing or corrupt\").",
    "Set spec.specificationVersion to the lowest version that supports the model's features (1 for a plain "
    "iOS 11 neural network, 4 for an updatable one).",
    "mlmodel/src/Model.cpp (validateGeneric)")
SPEC_VERSION_TOO_NEW = define_rule(
    "MLS002", "spec-version-too-new", "The model's specificationVersion is newer than Core ML supports.",
    f"The validator accepts specification versions up to {NEWEST_SPEC_VERSION} (MLMODEL_SPECIFICATION_VERSION); "
    "a higher version is \"intended for a newer version of Xcode\" and is rejected.",
    f"Lower spec.specificationVersion to at most {NEWEST_SPEC_VERSION}, or re-export with the coremltools "
    "version that matches your deployment target.",
    "mlmodel/src/Model.cpp (validateGeneric), mlmodel/src/Globals.hpp")
MULTI_FUNCTION = define_rule(
    "MLS003", "multi-function-description", "The model description uses multi-function syntax incorrectly.",
    "A description with `functions` or `defaultFunctionName` is a multi-function description: only ML "
    "Programs of specification version ≥ 9 may use it, its top-level inputs/outputs/states and predicted "
    "names must be empty, and the default function must be one of the functions.",
    "Remove `functions` and `defaultFunctionName` from a neural network's description, or fix the function list.",
    f"{_UPSTREAM_INTERFACE} (validateModelDescription, validateMultiFunctionDescription)")
NO_INPUTS = define_rule(
    "MLS004", "no-inputs", "The model declares no inputs where Core ML requires some.",
    "Only neural networks, pipelines and ML Programs may have no inputs, and only from specification "
    "version 9 (iOS 18); every other model needs at least one input.",
    "Declare the model's input features in spec.description.input.",
    "mlmodel/src/Validation/Validators.hpp (validateFeatureDescriptions)")
NO_OUTPUTS = define_rule(
    "MLS005", "no-outputs", "The model declares no outputs.",
    "Every model must declare at least one output feature (\"Models must have one or more outputs\").",
    "Declare the model's outputs in spec.description.output.",
    "mlmodel/src/Validation/Validators.hpp (validateFeatureDescriptions)")
FEATURE_NAME_MISSING = define_rule(
    "MLS006", "feature-name-missing", "A feature description has an empty name.",
    "Every input, output and state feature needs a non-empty name.",
    "Give the feature a name (for a neural network, the name of the blob it feeds or reads).",
    _UPSTREAM_FEATURES)
FEATURE_TYPE_MISSING = define_rule(
    "MLS007", "feature-type-missing", "A feature description has no (or an unknown) type.",
    "Every feature must set exactly one of the FeatureType kinds (int64, double, string, image, multiArray, "
    "dictionary, sequence, state).",
    "Set the feature's type, e.g. type.multiArrayType with a shape and a dataType.",
    _UPSTREAM_FEATURES)
STATE_FEATURE_PLACEMENT = define_rule(
    "MLS008", "state-feature-placement", "A state feature is declared as an output, or a non-state as a state.",
    "State features belong in description.state (inputs are tolerated for backward compatibility); the "
    "state list may hold only state features.",
    "Move the feature to the right list.",
    _UPSTREAM_FEATURES)
MULTIARRAY_SHAPE = define_rule(
    "MLS009", "multiarray-shape", "A multi-array feature's shape or flexible-shape constraints are invalid.",
    "A multi-array input needs a shape (or enumerated shapes / shape ranges from specification version 3); "
    "enumerated shapes must be non-empty and contain the default shape; shape ranges must be ordered and "
    "contain the default shape; no dimension may be negative.",
    "Fix the feature's shape, e.g. type.multiArrayType.shape[:] = [1, 28, 28], and keep flexible shapes "
    "consistent with it.",
    _UPSTREAM_FEATURES)
MULTIARRAY_DATA_TYPE = define_rule(
    "MLS010", "multiarray-data-type", "A multi-array feature has no, an invalid, or a too-new dataType.",
    "Multi-array features must state their element type: DOUBLE, FLOAT32 or INT32; FLOAT16 needs "
    "specification version 7 (iOS 16) and INT8 version 10. Surgery that builds a FeatureDescription by hand "
    "often forgets dataType (it defaults to INVALID_ARRAY_DATA_TYPE).",
    "Set type.multiArrayType.dataType, usually ArrayFeatureType.FLOAT32 (or DOUBLE for classic models).",
    _UPSTREAM_FEATURES)
DEFAULT_OPTIONAL_VALUE = define_rule(
    "MLS011", "default-value-type", "A multi-array's default optional value does not match its dataType.",
    "A multi-array's default optional value must match its dataType: doubleDefaultValue for DOUBLE, "
    "floatDefaultValue for FLOAT32/FLOAT16, intDefaultValue for INT32 (or INT8 within [-128, 127]). Which model "
    "types and versions may use defaults at all is validateOptional's business (MLS052, MLS053).",
    "Use the default-value field that matches the dataType.",
    _UPSTREAM_FEATURES)
DICTIONARY_KEY_TYPE = define_rule(
    "MLS012", "dictionary-key-type", "A dictionary feature has no key type.",
    "Dictionary features (e.g. a classifier's class probabilities) must use Int64 or String keys.",
    "Set type.dictionaryType.stringKeyType (string class labels) or int64KeyType (integer labels).",
    _UPSTREAM_FEATURES)
IMAGE_SIZE = define_rule(
    "MLS013", "image-size", "An image feature's size or flexible-size constraints are invalid.",
    "An image needs a positive width and height (or, from specification version 3, enumerated sizes / size "
    "ranges that provide one); the default size must be one of the enumerated sizes or inside the ranges.",
    "Set type.imageType.width/height to the size the network expects and keep flexible sizes consistent.",
    _UPSTREAM_FEATURES)
IMAGE_COLOR_SPACE = define_rule(
    "MLS014", "image-color-space", "An image feature has a missing or invalid color space.",
    "Image color space must be GRAYSCALE, RGB or BGR (GRAYSCALE_FLOAT16 from specification version 7).",
    "Set type.imageType.colorSpace, e.g. ImageFeatureType.RGB.",
    _UPSTREAM_FEATURES)
SEQUENCE_TYPE = define_rule(
    "MLS015", "sequence-type", "A sequence feature is invalid.",
    "Sequence features need specification version ≥ 3, a valid size range and an Int64 or String element type.",
    "Set type.sequenceType.int64Type or stringType and a valid sizeRange, and specificationVersion ≥ 3.",
    _UPSTREAM_FEATURES)
STATE_TYPE = define_rule(
    "MLS016", "state-type", "A state feature is invalid.",
    "State features need specification version ≥ 9 and a fixed, non-negative FLOAT16 (or INT8) array shape, "
    "and cannot be optional, flexible or have a default value.",
    "Fix the state's array type or remove the state feature.",
    _UPSTREAM_FEATURES)

RULES: list[Rule] = [
    SPEC_VERSION_MISSING, SPEC_VERSION_TOO_NEW, MULTI_FUNCTION, NO_INPUTS, NO_OUTPUTS, FEATURE_NAME_MISSING,
    FEATURE_TYPE_MISSING, STATE_FEATURE_PLACEMENT, MULTIARRAY_SHAPE, MULTIARRAY_DATA_TYPE, DEFAULT_OPTIONAL_VALUE,
    DICTIONARY_KEY_TYPE, IMAGE_SIZE, IMAGE_COLOR_SPACE, SEQUENCE_TYPE, STATE_TYPE,
]

# (rule, message) for one problem; turned into a Finding by the caller that knows where it is.


def check_model_description(spec, where: str = "") -> list[Finding]:
    """validateGeneric's first two steps for any model type: specification version, then the model description.

    The version checks stop the run: every later check depends on a meaningful version.
    """
    return check_spec_version(spec, where) or check_feature_descriptions(spec, where)


def check_spec_version(spec, where: str = "") -> list[Finding]:
    version = spec.specificationVersion
    if version == 0:
        return [SPEC_VERSION_MISSING.finding(
            "specificationVersion is 0: Core ML says the \"model specification version field [is] missing or "
            "corrupt\"; set it to the version the model needs (1 for a plain network, 4 if updatable)",
            where=where)]
    if version > NEWEST_SPEC_VERSION:
        return [SPEC_VERSION_TOO_NEW.finding(
            f"specificationVersion {version} is newer than Core ML supports ({NEWEST_SPEC_VERSION}); lower it "
            "to the version your features need", where=where)]
    return []


def check_feature_descriptions(spec, where: str = "") -> list[Finding]:
    """validateModelDescription: the inputs, outputs and states, or the functions of a multi-function model."""
    description = spec.description
    kind = spec.WhichOneof("Type")
    version = spec.specificationVersion
    if len(description.functions) or description.defaultFunctionName:
        problems = _multi_function_problems(description, version, kind)
    else:
        problems = feature_description_problems(description, version, kind)
    return [rule.finding(message, where=where) for rule, message in problems]


def feature_description_problems(description, version: int, kind: str | None) -> list[Problem]:
    """validateFeatureDescriptions for a ModelDescription or FunctionDescription (one problem per feature)."""
    problems: list[Problem] = []
    if not len(description.input):
        if kind not in _ALLOWS_EMPTY_INPUT:
            problems.append((NO_INPUTS, f"the model has no inputs; Core ML requires one or more inputs for a "
                                        f"{kind or 'untyped'} model — declare them in description.input"))
        elif version < SPEC_VERSION_IOS18:
            problems.append((NO_INPUTS, f"the model has no inputs, which Core ML allows only from specification "
                                        f"version {SPEC_VERSION_IOS18} (this model has {version}); declare an "
                                        "input or raise specificationVersion"))
    if not len(description.output):
        problems.append((NO_OUTPUTS, "the model has no outputs; Core ML requires one or more — declare them in "
                                     "description.output"))
    for role, features in (("input", description.input), ("output", description.output),
                           ("state", description.state)):
        for feature in features:
            problem = feature_problem(feature, version, role)
            if problem is not None:
                problems.append(problem)
    return problems


def _multi_function_problems(description, version: int, kind: str | None) -> list[Problem]:
    top_level = (("input", len(description.input)), ("output", len(description.output)),
                 ("state", len(description.state)), ("predictedFeatureName", description.predictedFeatureName),
                 ("predictedProbabilitiesName", description.predictedProbabilitiesName),
                 ("trainingInput", len(description.trainingInput)))
    for field, used in top_level:
        if used:
            return [(MULTI_FUNCTION, f"the description has functions but also a top-level {field}; Core ML says "
                                     "a multi-function model must not use top-level feature descriptions — move "
                                     "it into the functions or drop the functions")]
    if kind not in _ALLOWS_MULTIPLE_FUNCTIONS:
        return [(MULTI_FUNCTION, f"a {kind or 'untyped'} model cannot have multiple functions (description.functions / "
                                 "defaultFunctionName); remove them and describe inputs and outputs at the top level")]
    if version < SPEC_VERSION_IOS18:
        return [(MULTI_FUNCTION, f"multi-function descriptions need specification version {SPEC_VERSION_IOS18} "
                                 f"(this model has {version}); raise specificationVersion")]
    problems: list[Problem] = []
    for function in description.functions:
        problems += feature_description_problems(function, version, kind)
    names = [function.name for function in description.functions]
    if description.defaultFunctionName not in names:
        problems.append((MULTI_FUNCTION, f"default function '{description.defaultFunctionName}' is not one of the "
                                         f"functions ({', '.join(names)}); set defaultFunctionName to one of them"))
    return problems


def feature_problem(feature, version: int, role: str) -> Problem | None:
    """The first problem Core ML finds in one feature description (role: input, output or state)."""
    name = feature.name
    if not name:
        return FEATURE_NAME_MISSING, f"an {role} feature has an empty name; give it the name of the blob it carries"
    if not feature.HasField("type"):
        return FEATURE_TYPE_MISSING, f"{role} '{name}' has no type; set its FeatureType"
    kind = feature.type.WhichOneof("Type")
    if kind == "stateType":
        if role == "output":
            return STATE_FEATURE_PLACEMENT, (f"output '{name}' is a state feature; Core ML says state features "
                                             "belong only in description.state")
    elif role == "state":
        return STATE_FEATURE_PLACEMENT, (f"state '{name}' is not a state feature; description.state may declare "
                                         "only state features")
    if kind is None:
        return FEATURE_TYPE_MISSING, (f"{role} '{name}' has an unspecified or invalid type; set one of the "
                                      "FeatureType kinds")
    check = _TYPE_CHECKS.get(kind)
    return check(feature, version, role) if check is not None else None


def _size_range_problem(size_range) -> str | None:
    # upperBound < 0 means unbounded; the comparison is unsigned, as upstream.
    if size_range.upperBound > 0 and size_range.lowerBound > size_range.upperBound:
        return (f"size range ({size_range.lowerBound}, {size_range.upperBound}) has its lower bound above its upper "
                "bound")
    return None


def _multiarray_problem(feature, version: int, role: str) -> Problem | None:
    name, array = feature.name, feature.type.multiArrayType
    label = f"{role} '{name}'"
    default_shape = list(array.shape)
    has_explicit_default = bool(default_shape)
    has_implicit_default = False
    if version >= SPEC_VERSION_IOS12:
        flexibility = array.WhichOneof("ShapeFlexibility")
        if flexibility == "enumeratedShapes":
            has_implicit_default = True
            shapes = [list(shape.shape) for shape in array.enumeratedShapes.shapes]
            if not shapes:
                return MULTIARRAY_SHAPE, f"{label}: enumeratedShapes lists no shapes; add at least one or remove it"
            if any(not shape for shape in shapes):
                return MULTIARRAY_SHAPE, f"{label}: enumeratedShapes contains a shape with zero dimensions; remove it"
            if has_explicit_default and default_shape not in shapes:
                return MULTIARRAY_SHAPE, (f"{label}: default shape {default_shape} is not one of the enumerated "
                                          "shapes; add it to enumeratedShapes or change shape")
        elif flexibility == "shapeRange":
            has_implicit_default = True
            ranges = list(array.shapeRange.sizeRanges)
            for dimension, size_range in enumerate(ranges):
                problem = _size_range_problem(size_range)
                if problem:
                    return MULTIARRAY_SHAPE, f"{label}: dimension {dimension} {problem}; fix the shape range"
            if has_explicit_default:
                if len(default_shape) != len(ranges):
                    return MULTIARRAY_SHAPE, (f"{label}: default shape has {len(default_shape)} dimensions but the "
                                              f"shape range has {len(ranges)}; make them agree")
                for size, size_range in zip(default_shape, ranges):
                    if size < int32(size_range.lowerBound) or (0 <= size_range.upperBound < size):
                        return MULTIARRAY_SHAPE, (f"{label}: default shape {default_shape} is outside the shape "
                                                  "range; change shape or widen the range")
    if role == "input" and not has_explicit_default and not has_implicit_default:
        return MULTIARRAY_SHAPE, (f"{label}: multi-array has no shape (Core ML: \"missing shape constraints\"); "
                                  "set type.multiArrayType.shape")
    for position, size in enumerate(default_shape):
        if size < 0:
            return MULTIARRAY_SHAPE, (f"{label}: shape element {position} is negative ({size}); use the real "
                                      "size, and flexible shapes for variable sizes")
    problem = _array_data_type_problem(array.dataType, version, label)
    if problem:
        return problem
    return _array_default_value_problem(array, label)


def _array_data_type_problem(data_type: int, version: int, label: str) -> Problem | None:
    array_type = feature_types_pb2().ArrayFeatureType
    if data_type in (array_type.DOUBLE, array_type.FLOAT32, array_type.INT32):
        return None
    if data_type == array_type.FLOAT16:
        if version < SPEC_VERSION_IOS16:
            return MULTIARRAY_DATA_TYPE, (f"{label}: FLOAT16 multi-arrays need specification version "
                                          f"{SPEC_VERSION_IOS16} (this model has {version}); use FLOAT32 or raise "
                                          "specificationVersion")
        return None
    if data_type == array_type.INT8:
        if version < SPEC_VERSION_IOS26:
            return MULTIARRAY_DATA_TYPE, (f"{label}: INT8 multi-arrays need specification version "
                                          f"{SPEC_VERSION_IOS26} (this model has {version}); use INT32 or raise "
                                          "specificationVersion")
        return None
    return MULTIARRAY_DATA_TYPE, (f"{label}: multi-array dataType is invalid or unspecified ({data_type}); set "
                                  "type.multiArrayType.dataType to FLOAT32, DOUBLE or INT32")


def _array_default_value_problem(array, label: str) -> Problem | None:
    array_type = feature_types_pb2().ArrayFeatureType
    which = array.WhichOneof("defaultOptionalValue")
    mismatch = (DEFAULT_OPTIONAL_VALUE, f"{label}: the default optional value's type does not match dataType; "
                                        "use doubleDefaultValue for DOUBLE, floatDefaultValue for FLOAT32/FLOAT16, "
                                        "intDefaultValue for INT32")
    if which == "doubleDefaultValue" and array.dataType != array_type.DOUBLE:
        return mismatch
    if which == "floatDefaultValue" and array.dataType not in (array_type.FLOAT32, array_type.FLOAT16):
        return mismatch
    if which == "intDefaultValue":
        if array.dataType == array_type.INT8:
            if not -128 <= array.intDefaultValue <= 127:
                return DEFAULT_OPTIONAL_VALUE, (f"{label}: default optional value {array.intDefaultValue} is out "
                                                "of range for INT8; use a value in [-128, 127]")
        elif array.dataType != array_type.INT32:
            return mismatch
    return None


def _dictionary_problem(feature, version: int, role: str) -> Problem | None:
    if feature.type.dictionaryType.WhichOneof("KeyType") is None:
        return DICTIONARY_KEY_TYPE, (f"{role} '{feature.name}': dictionary has no key type; set "
                                     "type.dictionaryType.stringKeyType or int64KeyType")
    return None


def _image_problem(feature, version: int, role: str) -> Problem | None:
    name, image = feature.name, feature.type.imageType
    label = f"{role} '{name}'"
    width, height = image.width, image.height
    has_default = width > 0 and height > 0
    if version >= SPEC_VERSION_IOS12:
        flexibility = image.WhichOneof("SizeFlexibility")
        if flexibility == "enumeratedSizes":
            sizes = list(image.enumeratedSizes.sizes)
            if not sizes:
                return IMAGE_SIZE, f"{label}: enumeratedSizes lists no sizes; add at least one or remove it"
            if not has_default:
                width, height = int64(sizes[0].width), int64(sizes[0].height)
            elif not any(width == int64(size.width) and height == int64(size.height) for size in sizes):
                return IMAGE_SIZE, (f"{label}: default size {width} × {height} is not one of the enumerated sizes; "
                                    "add it or change width/height")
        elif flexibility == "imageSizeRange":
            width_range, height_range = image.imageSizeRange.widthRange, image.imageSizeRange.heightRange
            for axis, size_range in (("width", width_range), ("height", height_range)):
                problem = _size_range_problem(size_range)
                if problem:
                    return IMAGE_SIZE, f"{label}: flexible {axis} {problem}; fix the range"
            if not has_default:
                width, height = int64(width_range.lowerBound), int64(height_range.lowerBound)
            else:
                for axis, size, size_range in (("width", width, width_range), ("height", height, height_range)):
                    if size < int64(size_range.lowerBound) or (0 <= size_range.upperBound < size):
                        return IMAGE_SIZE, (f"{label}: default {axis} {size} is outside the flexible {axis} range; "
                                            f"change {axis} or widen the range")
    if width <= 0:
        return IMAGE_SIZE, f"{label}: image width {image.width} is missing or not positive; set type.imageType.width"
    if height <= 0:
        return IMAGE_SIZE, (f"{label}: image height {image.height} is missing or not positive; set "
                            "type.imageType.height")
    image_type = feature_types_pb2().ImageFeatureType
    if image.colorSpace in (image_type.GRAYSCALE, image_type.RGB, image_type.BGR):
        return None
    if image.colorSpace == image_type.GRAYSCALE_FLOAT16:
        if version < SPEC_VERSION_IOS16:
            return IMAGE_COLOR_SPACE, (f"{label}: GRAYSCALE_FLOAT16 needs specification version {SPEC_VERSION_IOS16} "
                                       f"(this model has {version}); use GRAYSCALE or raise specificationVersion")
        return None
    return IMAGE_COLOR_SPACE, (f"{label}: image color space is missing or invalid ({image.colorSpace}); set "
                               "type.imageType.colorSpace to RGB, BGR or GRAYSCALE")


def _sequence_problem(feature, version: int, role: str) -> Problem | None:
    label = f"{role} '{feature.name}'"
    sequence = feature.type.sequenceType
    if version < SPEC_VERSION_IOS12:
        return SEQUENCE_TYPE, (f"{label}: sequence features need specification version {SPEC_VERSION_IOS12} (this "
                               f"model has {version}); raise specificationVersion")
    problem = _size_range_problem(sequence.sizeRange)
    if problem:
        return SEQUENCE_TYPE, f"{label}: sequence {problem}; fix sizeRange"
    if sequence.WhichOneof("Type") is None:
        return SEQUENCE_TYPE, f"{label}: sequence has no element type; set sequenceType.int64Type or stringType"
    return None


def _state_problem(feature, version: int, role: str) -> Problem | None:
    label = f"{role} '{feature.name}'"
    if version < SPEC_VERSION_IOS18:
        return STATE_TYPE, (f"{label}: state features need specification version {SPEC_VERSION_IOS18} (this model "
                            f"has {version}); raise specificationVersion or remove the state")
    if feature.type.isOptional:
        return STATE_TYPE, f"{label}: a state feature cannot be optional; clear type.isOptional"
    array = feature.type.stateType.arrayType
    if not len(array.shape):
        return STATE_TYPE, f"{label}: state has no shape (missing shape constraints); set arrayType.shape"
    for position, size in enumerate(array.shape):
        if size < 0:
            return STATE_TYPE, f"{label}: state shape element {position} is negative ({size}); use the real size"
    array_type = feature_types_pb2().ArrayFeatureType
    if array.dataType not in (array_type.FLOAT16, array_type.INT8):
        return STATE_TYPE, f"{label}: state dataType is invalid or unspecified; set arrayType.dataType to FLOAT16"
    if array.WhichOneof("ShapeFlexibility") is not None:
        return STATE_TYPE, f"{label}: a state feature cannot have a flexible shape; remove the flexibility"
    if array.WhichOneof("defaultOptionalValue") is not None:
        return STATE_TYPE, f"{label}: a state feature cannot have a default optional value; remove it"
    return None


# Non-parametric kinds (int64, double, string) need no further checks.
_TYPE_CHECKS = {
    "multiArrayType": _multiarray_problem,
    "dictionaryType": _dictionary_problem,
    "imageType": _image_problem,
    "sequenceType": _sequence_problem,
    "stateType": _state_problem,
}
