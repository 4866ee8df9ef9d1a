"""Checks of the feature-engineering models (MLS440–MLS450): encoders, scalers, imputers, vectorizers, mappings.

Upstream: mlmodel/src/Validation/OneHotEncoderValidator.cpp, ScalarValidator.cpp (the scaler),
NormalizerValidator.cpp, ImputerValidator.cpp, FeatureVectorizerValidator.cpp, DictVectorizerValidator.cpp,
ArrayFeatureExtractorValidator.cpp and CategoricalMappingValidator.cpp. Each first checks how many inputs and
outputs of which types the model has (``rules.other_models``: MLS400, MLS401), then its parameters.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..coreml import FEATURE_TYPE_NAMES
from .base import Check, Problem, Rule, define_rule
from .other_models import features_problem, kind_of, model_check

_VALIDATION = "mlmodel/src/Validation/"

SCALAR_OR_ARRAY = ("int64Type", "doubleType", "multiArrayType")
# Imputer.ImputedValue case -> (input types it fits, replace values it accepts); replace values are optional.
_IMPUTED = {
    "imputedDoubleValue": (("doubleType", "multiArrayType"), ("replaceDoubleValue",)),
    "imputedInt64Value": (("int64Type",), ("replaceInt64Value",)),
    "imputedDoubleArray": (("multiArrayType",), ("replaceDoubleValue",)),
    "imputedStringValue": (("stringType",), ("replaceStringValue",)),
    "imputedInt64Array": (("multiArrayType",), ("replaceInt64Value",)),
    "imputedStringDictionary": (("dictionaryType",), ()),
    "imputedInt64Dictionary": (("dictionaryType",), ()),
}
# CategoricalMapping.MappingType case -> (input type, output type, refused ValueOnUnknown case).
_MAPPINGS = {
    "stringToInt64Map": ("stringType", "int64Type", "strValue"),
    "int64ToStringMap": ("int64Type", "stringType", "int64Value"),
}


OUTPUT_TYPE = define_rule(
    "MLS440", "transform-output-type", "A scaler's or imputer's output must have its input's type.",
    "A scaler or imputer maps a feature onto the same kind of feature: \"Type of input feature does not match "
    "the output type feature.\" (a scaler may also turn an Int64 into a Double).",
    "Give the output the input's type.", _VALIDATION + "ScalarValidator.cpp, ImputerValidator.cpp")

ARRAY_SHAPE = define_rule(
    "MLS441", "transform-array-shape", "A scaler's or imputer's arrays must be 1-D and of equal length.",
    "With a multi-array input, the input and the output must both be one-dimensional and of the same length: "
    "\"Shape of output array does not match shape of input array.\"",
    "Give input and output the same 1-D shape.", _VALIDATION + "ScalarValidator.cpp, ImputerValidator.cpp")

ONE_HOT_CATEGORIES = define_rule(
    "MLS442", "one-hot-categories", "A one-hot encoder must list its categories.",
    "stringCategories or int64Categories must be set: \"OneHotEncoder parameter incorrect type\".",
    "Set the categories the encoder maps to positions.", _VALIDATION + "OneHotEncoderValidator.cpp")

SCALER_PARAMETERS = define_rule(
    "MLS443", "scaler-parameters", "A scaler's shift or scale values do not fit its input.",
    "shiftValue and scaleValue each hold nothing, one value, or (for an array input) one value per element: "
    "\"specified shift values must be empty, a scalar, or a vector of the matching length\".",
    "Give as many shift and scale values as the input has elements (or one, or none).",
    _VALIDATION + "ScalarValidator.cpp")

NORMALIZER_NORM = define_rule(
    "MLS444", "normalizer-norm", "A normalizer's norm type is unknown.",
    "normType must be LMax, L1 or L2: \"NormalizerValidator normLx invalid\".",
    "Set normType to LMax, L1 or L2.", _VALIDATION + "NormalizerValidator.cpp")

IMPUTER_VALUES = define_rule(
    "MLS445", "imputer-values", "An imputer's imputed or replaced value does not fit its input.",
    "An imputed value must be set and match the input type (Double: a Double or array input; Int64: Int64; "
    "String: String; arrays: an array input of the same length; dictionaries: a dictionary input), and the "
    "replace value, when set, must be of the imputed value's kind (none is allowed for dictionaries).",
    "Set the imputed (and replace) value of the input's type.", _VALIDATION + "ImputerValidator.cpp")

VECTORIZER_DIMENSIONS = define_rule(
    "MLS446", "feature-vectorizer-dimensions", "A feature vectorizer input has zero dimensions.",
    "Every entry of inputList needs inputDimensions > 0: \"Dimension size must be greater tha zero.\"",
    "Set inputDimensions to the number of values each input contributes.",
    _VALIDATION + "FeatureVectorizerValidator.cpp")

DICT_VECTORIZER_MAP = define_rule(
    "MLS447", "dict-vectorizer-map", "A dictionary vectorizer must set its key-to-index map.",
    "stringToIndex or int64ToIndex must be set: \"DictVectorizerValidator parameter not set\".",
    "Set the keys, in index order.", _VALIDATION + "DictVectorizerValidator.cpp")

EXTRACTOR_INDICES = define_rule(
    "MLS448", "array-extractor-indices", "An array feature extractor with a Double output must extract one index.",
    "If the output is a Double, extractIndex must hold exactly one index.",
    "Extract a single index, or make the output a multi-array.", _VALIDATION + "ArrayFeatureExtractorValidator.cpp")

CATEGORICAL_MAPPING = define_rule(
    "MLS449", "categorical-mapping", "A categorical mapping's map or unknown-value default is missing or mistyped.",
    "stringToInt64Map or int64ToStringMap must be set (\"Mapping not set.\"), and the value for unknown keys must "
    "be of the mapped-to type (an Int64 default for a string-to-Int64 map, a string default otherwise).",
    "Set the map and give the unknown-value default the output's type.",
    _VALIDATION + "CategoricalMappingValidator.cpp")

CATEGORICAL_SEQUENCE = define_rule(
    "MLS450", "categorical-mapping-sequence", "A categorical mapping over sequences has mistyped sequences.",
    "A categorical mapping applied to a sequence input must output a sequence, and both sequences must hold the "
    "map's key and value types.",
    "Make input and output sequences of the map's key and value types.",
    _VALIDATION + "CategoricalMappingValidator.cpp")

RULES: list[Rule] = [OUTPUT_TYPE, ARRAY_SHAPE, ONE_HOT_CATEGORIES, SCALER_PARAMETERS, NORMALIZER_NORM,
                     IMPUTER_VALUES, VECTORIZER_DIMENSIONS, DICT_VECTORIZER_MAP, EXTRACTOR_INDICES,
                     CATEGORICAL_MAPPING, CATEGORICAL_SEQUENCE]


def _one_in_one_out(spec, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> Problem | None:
    """One input and one output, each of the given types (``validateDescriptionsContainFeatureWithTypes``)."""
    kind = spec.WhichOneof("Type")
    return (features_problem(spec.description.input, inputs, kind, "input", limit=1)
            or features_problem(spec.description.output, outputs, kind, "output", limit=1))


def _array_shape_problem(kind: str, source, target) -> Problem | None:
    if len(source.type.multiArrayType.shape) != 1:
        return (ARRAY_SHAPE, f"input '{source.name}' has rank {len(source.type.multiArrayType.shape)}; the {kind} "
                             "only takes 1-D arrays")
    if list(target.type.multiArrayType.shape) != list(source.type.multiArrayType.shape):
        return (ARRAY_SHAPE, f"output '{target.name}' has shape {list(target.type.multiArrayType.shape)} but input "
                             f"'{source.name}' has {list(source.type.multiArrayType.shape)}; give both the same "
                             "1-D shape")
    return None


@model_check
def one_hot_problems(spec) -> Iterator[Problem]:
    """``validate<oneHotEncoder>``: an Int64 or String in, an array (a dictionary if sparse) out, categories set."""
    output = "dictionaryType" if spec.oneHotEncoder.outputSparse else "multiArrayType"
    problem = _one_in_one_out(spec, ("int64Type", "stringType"), (output,))
    if problem is not None:
        yield problem
    elif spec.oneHotEncoder.WhichOneof("CategoryType") is None:
        yield (ONE_HOT_CATEGORIES, "the one-hot encoder sets no categories; set stringCategories or int64Categories")


@model_check
def scaler_problems(spec) -> Iterator[Problem]:
    """``validate<scaler>``: matching input and output types and shapes, then the shift and scale counts."""
    problem = _one_in_one_out(spec, SCALAR_OR_ARRAY, SCALAR_OR_ARRAY)
    if problem is not None:
        yield problem
        return
    source, target = spec.description.input[0], spec.description.output[0]
    source_kind, target_kind = source.type.WhichOneof("Type"), target.type.WhichOneof("Type")
    allowed = ("int64Type", "doubleType") if source_kind == "int64Type" else (source_kind,)
    if target_kind not in allowed:
        wanted = " or ".join(FEATURE_TYPE_NAMES[kind] for kind in allowed)
        yield (OUTPUT_TYPE, f"the scaler's input '{source.name}' is {kind_of(source)} but its output "
                            f"'{target.name}' is {kind_of(target)}; make the output {wanted}")
        return
    scaler = spec.scaler
    if source_kind == "multiArrayType":
        problem = _array_shape_problem("scaler", source, target)
        if problem is not None:
            yield problem
            return
        length = source.type.multiArrayType.shape[0]
        counts = (0, 1, length)
    else:
        counts = (0, 1)
    for field in ("shiftValue", "scaleValue"):
        count = len(getattr(scaler, field))
        if count not in counts:
            wanted = f"none, one or {length}" if len(counts) == 3 else "none or one"
            yield (SCALER_PARAMETERS, f"the scaler has {count} {field}s; give {wanted}")
            return


@model_check
def normalizer_problems(spec) -> Iterator[Problem]:
    """``validate<normalizer>``: an array in, an array out, a known norm."""
    problem = _one_in_one_out(spec, ("multiArrayType",), ("multiArrayType",))
    if problem is not None:
        yield problem
        return
    norms = type(spec.normalizer).NormType
    if spec.normalizer.normType not in norms.values():
        yield (NORMALIZER_NORM, f"normType is {spec.normalizer.normType}; use LMax, L1 or L2")


@model_check
def imputer_problems(spec) -> Iterator[Problem]:
    """``validate<imputer>``: matching input and output, then the imputed and replace values against the input."""
    problem = _one_in_one_out(spec, SCALAR_OR_ARRAY + ("stringType", "dictionaryType"),
                              SCALAR_OR_ARRAY + ("stringType", "dictionaryType"))
    if problem is not None:
        yield problem
        return
    source, target = spec.description.input[0], spec.description.output[0]
    source_kind = source.type.WhichOneof("Type")
    if target.type.WhichOneof("Type") != source_kind:
        yield (OUTPUT_TYPE, f"the imputer's input '{source.name}' is {kind_of(source)} but its output "
                            f"'{target.name}' is {kind_of(target)}; give both the same type")
        return
    if source_kind == "multiArrayType":
        problem = _array_shape_problem("imputer", source, target)
        if problem is not None:
            yield problem
            return
    imputer = spec.imputer
    imputed = imputer.WhichOneof("ImputedValue")
    if imputed is None:
        yield (IMPUTER_VALUES, "the imputer sets no imputed value; set the value that replaces missing ones")
        return
    inputs, replacements = _IMPUTED[imputed]
    replace = imputer.WhichOneof("ReplaceValue")
    if source_kind not in inputs:
        yield (IMPUTER_VALUES, f"{imputed} does not fit input '{source.name}' of type {kind_of(source)}; use an "
                               "imputed value of the input's type")
    elif replace is not None and replace not in replacements:
        yield (IMPUTER_VALUES, f"{replace} does not fit {imputed}; use "
                               f"{replacements[0] if replacements else 'no replace value'}")
    elif imputed in ("imputedDoubleArray", "imputedInt64Array"):
        length = len(getattr(imputer, imputed).vector)
        if source.type.multiArrayType.shape[0] != length:
            yield (IMPUTER_VALUES, f"{imputed} has {length} values but input '{source.name}' has "
                                   f"{source.type.multiArrayType.shape[0]}; give one value per element")


@model_check
def feature_vectorizer_problems(spec) -> Iterator[Problem]:
    """``validate<featureVectorizer>``: any number of numeric or dictionary inputs, one array out, sizes > 0."""
    description = spec.description
    problem = (features_problem(description.input, SCALAR_OR_ARRAY + ("dictionaryType",),
                                "featureVectorizer", "input")
               or features_problem(description.output, ("multiArrayType",), "featureVectorizer", "output", limit=1))
    if problem is not None:
        yield problem
        return
    empty = next((column for column in spec.featureVectorizer.inputList if column.inputDimensions == 0), None)
    if empty is not None:
        yield (VECTORIZER_DIMENSIONS, f"input column '{empty.inputColumn}' has inputDimensions 0; set the number "
                                      "of values it contributes")


@model_check
def dict_vectorizer_problems(spec) -> Iterator[Problem]:
    """``validate<dictVectorizer>``: a dictionary in and (as the validator is written) a dictionary out, map set."""
    problem = _one_in_one_out(spec, ("dictionaryType",), ("dictionaryType",))
    if problem is not None:
        yield problem
    elif spec.dictVectorizer.WhichOneof("Map") is None:
        yield (DICT_VECTORIZER_MAP, "the dictionary vectorizer sets no map; set stringToIndex or int64ToIndex")


@model_check
def array_extractor_problems(spec) -> Iterator[Problem]:
    """``validate<arrayFeatureExtractor>``: an array in, one value or array out; a Double takes one index."""
    problem = _one_in_one_out(spec, ("multiArrayType",), SCALAR_OR_ARRAY)
    if problem is not None:
        yield problem
        return
    indices = len(spec.arrayFeatureExtractor.extractIndex)
    if spec.description.output[0].type.WhichOneof("Type") == "doubleType" and indices != 1:
        yield (EXTRACTOR_INDICES, f"the output is a Double but {indices} indices are extracted; extract one index "
                                  "or output a multi-array")


@model_check
def categorical_mapping_problems(spec) -> Iterator[Problem]:
    """``validate<categoricalMapping>``: the map and its default first, then the (sequence) feature types."""
    mapping = spec.categoricalMapping
    map_kind = mapping.WhichOneof("MappingType")
    if map_kind is None:
        yield (CATEGORICAL_MAPPING, "the categorical mapping sets no map; set stringToInt64Map or int64ToStringMap")
        return
    source_kind, target_kind, refused_default = _MAPPINGS[map_kind]
    if mapping.WhichOneof("ValueOnUnknown") == refused_default:
        yield (CATEGORICAL_MAPPING, f"{map_kind} produces {FEATURE_TYPE_NAMES[target_kind]} values but the "
                                    f"unknown-value default is {refused_default}; give a default of the output type")
        return
    problem = _one_in_one_out(spec, (source_kind, "sequenceType"), (target_kind, "sequenceType"))
    if problem is not None:
        yield problem
        return
    source, target = spec.description.input[0], spec.description.output[0]
    if source.type.WhichOneof("Type") != "sequenceType":
        return
    if source.type.sequenceType.WhichOneof("Type") != source_kind:
        yield (CATEGORICAL_SEQUENCE, f"input sequence '{source.name}' must hold "
                                     f"{FEATURE_TYPE_NAMES[source_kind]} values for {map_kind}")
    elif target.type.WhichOneof("Type") != "sequenceType":
        yield (CATEGORICAL_SEQUENCE, f"the input is a sequence, so output '{target.name}' must be a sequence too")
    elif target.type.sequenceType.WhichOneof("Type") != target_kind:
        yield (CATEGORICAL_SEQUENCE, f"output sequence '{target.name}' must hold "
                                     f"{FEATURE_TYPE_NAMES[target_kind]} values for {map_kind}")


CHECKS: dict[str, Check] = {
    "oneHotEncoder": one_hot_problems,
    "scaler": scaler_problems,
    "normalizer": normalizer_problems,
    "imputer": imputer_problems,
    "featureVectorizer": feature_vectorizer_problems,
    "dictVectorizer": dict_vectorizer_problems,
    "arrayFeatureExtractor": array_extractor_problems,
    "categoricalMapping": categorical_mapping_problems,
}
