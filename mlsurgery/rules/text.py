"""Checks of the Create ML text models (MLS470–MLS473): word taggers, text classifiers, gazetteers, embeddings.

Upstream: mlmodel/src/Validation/WordTaggerValidator.cpp, TextClassifierValidator.cpp, GazetteerValidator.cpp
and WordEmbeddingValidator.cpp. Each takes one String input; the model itself is an opaque blob
(modelParameterData) with a revision number, which the validators check is set.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..coreml import FEATURE_TYPE_NAMES
from .base import Check, Problem, Rule, define_rule
from .other_models import NAMED_FEATURE_MISSING, UNCLAIMED_FEATURE, features_problem, model_check

_VALIDATION = "mlmodel/src/Validation/"
# WordTagger output roles: (parameter naming the output, element type of its sequence); tags first, as Core ML.
_TAGGER_OUTPUTS = (("tokenTagsOutputFeatureName", "stringType"), ("tokensOutputFeatureName", "stringType"),
                   ("tokenLocationsOutputFeatureName", "int64Type"), ("tokenLengthsOutputFeatureName", "int64Type"))
# Model type -> (output type, lowest accepted revision, has class labels).
_TEXT_MODELS = {
    "textClassifier": ("stringType", 1, True),
    "gazetteer": ("stringType", 2, True),
    "wordEmbedding": ("multiArrayType", 2, False),
}


TAGGER_OUTPUT_TYPES = define_rule(
    "MLS470", "word-tagger-output-types", "A word tagger's output sequences hold the wrong element type.",
    "Token tags and tokens are sequences of String, token locations and lengths sequences of Int64: "
    "\"Unsupported type ... for feature ... Should be: ...\".",
    "Declare each word-tagger output as a sequence of the listed element type.",
    _VALIDATION + "WordTaggerValidator.cpp")

TEXT_REVISION = define_rule(
    "MLS471", "text-model-revision", "A Create ML text model's revision number is missing or too low.",
    "revision must be at least 1 for word taggers and text classifiers and at least 2 for gazetteers and word "
    "embeddings: \"Model revision number not set. Must be >= 1\".",
    "Re-export the model with Create ML (or set the revision the model data was written with).",
    _VALIDATION + "WordTaggerValidator.cpp, TextClassifierValidator.cpp, GazetteerValidator.cpp, "
    "WordEmbeddingValidator.cpp")

TEXT_LABELS = define_rule(
    "MLS472", "text-model-labels", "A word tagger, text classifier or gazetteer has no tags or class labels.",
    "Word taggers need stringTags and text classifiers and gazetteers stringClassLabels, with at least one "
    "entry: \"Model output tags not set. Must have at least one tag\".",
    "Set the tags or class labels the model predicts.",
    _VALIDATION + "WordTaggerValidator.cpp, TextClassifierValidator.cpp, GazetteerValidator.cpp")

TEXT_DATA = define_rule(
    "MLS473", "text-model-data", "A Create ML text model has no model data.",
    "modelParameterData holds the trained model; it must not be empty: \"Model parameter data not set\".",
    "Re-export the model; the data cannot be reconstructed by hand.",
    _VALIDATION + "WordTaggerValidator.cpp, TextClassifierValidator.cpp, GazetteerValidator.cpp, "
    "WordEmbeddingValidator.cpp")

RULES: list[Rule] = [TAGGER_OUTPUT_TYPES, TEXT_REVISION, TEXT_LABELS, TEXT_DATA]


def _parameter_problem(kind: str, model, lowest_revision: int, labels_field: str | None) -> Problem | None:
    """The revision, then the tags or labels, then the model data."""
    if model.revision < lowest_revision:
        return (TEXT_REVISION, f"the {kind} has revision {model.revision}; it must be at least {lowest_revision} "
                               "(re-export the model)")
    if labels_field is not None and not len(getattr(model, labels_field).vector):
        return (TEXT_LABELS, f"the {kind} has no {labels_field}; set at least one")
    if not model.modelParameterData:
        return (TEXT_DATA, f"the {kind} has no modelParameterData; re-export the model")
    return None


@model_check
def word_tagger_problems(spec) -> Iterator[Problem]:
    """``validate<wordTagger>``: outputs bound by name, one String input, sequence outputs, then parameters."""
    tagger = spec.wordTagger
    outputs = spec.description.output
    named = [field for field, _ in _TAGGER_OUTPUTS if getattr(tagger, field)]
    if len(outputs) != len(named):
        # One Core ML message for both directions; too few outputs means a named one is missing.
        rule = UNCLAIMED_FEATURE if len(outputs) > len(named) else NAMED_FEATURE_MISSING
        yield (rule, f"the model declares {len(outputs)} outputs but the word tagger names {len(named)} "
                     f"({', '.join(named) or 'none'}); declare exactly the named outputs")
        return
    positions = {}
    for position, output in enumerate(outputs):
        fields = [field for field, _ in _TAGGER_OUTPUTS if getattr(tagger, field) == output.name]
        if not fields:
            yield (UNCLAIMED_FEATURE, f"output '{output.name}' is not one of the word tagger's outputs; name it in "
                                      "a token output field or remove it")
            return
        positions.update(dict.fromkeys(fields, position))
    if "tokenTagsOutputFeatureName" not in positions:
        name = tagger.tokenTagsOutputFeatureName
        if name:
            yield (NAMED_FEATURE_MISSING, f"the token tags output '{name}' (set by tokenTagsOutputFeatureName) is "
                                          "not among the model outputs; declare it")
        else:
            yield (NAMED_FEATURE_MISSING, "tokenTagsOutputFeatureName is empty; name the output that gives the tags")
        return
    problem = (features_problem(spec.description.input, ("stringType",), "wordTagger", "input", limit=1)
               or features_problem(outputs, ("sequenceType",), "wordTagger", "output"))
    if problem is not None:
        yield problem
        return
    for field, element in _TAGGER_OUTPUTS:
        if field in positions:
            output = outputs[positions[field]]
            if output.type.sequenceType.WhichOneof("Type") != element:
                yield (TAGGER_OUTPUT_TYPES, f"output '{output.name}' ({field}) must be a sequence of "
                                            f"{FEATURE_TYPE_NAMES[element]}")
                return
    problem = _parameter_problem("wordTagger", tagger, 1, "stringTags")
    if problem is not None:
        yield problem


@model_check
def text_model_problems(spec) -> Iterator[Problem]:
    """``validate<textClassifier>``, ``validate<gazetteer>``, ``validate<wordEmbedding>``."""
    kind = spec.WhichOneof("Type")
    output, lowest_revision, has_labels = _TEXT_MODELS[kind]
    problem = (features_problem(spec.description.input, ("stringType",), kind, "input", limit=1)
               or features_problem(spec.description.output, (output,), kind, "output", limit=1)
               or _parameter_problem(kind, getattr(spec, kind), lowest_revision,
                                     "stringClassLabels" if has_labels else None))
    if problem is not None:
        yield problem


CHECKS: dict[str, Check] = {
    "wordTagger": word_tagger_problems,
    "textClassifier": text_model_problems,
    "gazetteer": text_model_problems,
    "wordEmbedding": text_model_problems,
}
