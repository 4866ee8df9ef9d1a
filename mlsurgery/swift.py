"""Swift source for an app that trains a model on device, generated from the model's training contract.

``swift_source(contract, prefix)`` takes what ``mlsurgery.contract.training_contract`` returns and fills the
templates in ``mlsurgery/templates/``: an example type and an ``MLBatchProvider`` for the training inputs, a
parameters type that accepts only the allowed values, and a trainer around ``MLUpdateTask`` that reports the loss
and saves the result atomically. Names come from the model's feature names, made into valid Swift identifiers.
"""

from __future__ import annotations

import math
import re
import textwrap
from importlib import resources
from pathlib import PurePath
from string import Template

# Swift's reserved words (The Swift Programming Language, Lexical Structure: keywords used in declarations,
# statements, expressions and types, and those reserved in particular contexts that cannot be a stored property).
SWIFT_KEYWORDS = frozenset("""
associatedtype borrowing class consuming deinit enum extension fileprivate func import init inout internal let
nonisolated open operator private precedencegroup protocol public rethrows static struct subscript typealias var
break case catch continue default defer do else fallthrough for guard if in repeat return throw switch where while
Any as await false is nil self Self super throws true try _ associativity convenience didSet dynamic final get
indirect infix lazy left mutating none nonmutating optional override postfix precedence prefix Protocol required
right set some Type unowned weak willSet async actor any package macro each
""".split())
# Names a backtick does not make usable as a stored property or enum case everywhere; they get a suffix instead.
_NOT_BACKTICKABLE = frozenset({"self", "Self", "super", "init", "deinit", "subscript", "Type", "Protocol", "_"})

_TEMPLATES = "templates"

# How Core ML reads a batch provider (the part-4 article's measurements for a network; a k-NN update reads each
# example once). An empty feature provider is the one way to report a loading error.
_NETWORK_PROVIDER_NOTE = (
    "Core ML builds the mini-batches itself: it asks for one example per index (shuffled when `shuffle` is on), "
    "starts again from the first example to fill the last mini-batch of an epoch, may ask for the first example "
    "twice, and reads `count` often, so keep `count` cheap. An example that fails to load is returned as an empty "
    "feature provider, which makes Core ML end training with state `.failed`.")
_KNN_PROVIDER_NOTE = (
    "Core ML adds every example to the k-NN classifier, asking for each by index, and reads `count` often, so keep "
    "`count` cheap. An example that fails to load is returned as an empty feature provider, which makes Core ML "
    "end the update with state `.failed`.")

# What the part-4 article measured: only optimizer settings can change once training runs (through
# context.task.resume(withParameters:)); shuffle, mini-batch size and epochs are fixed when it starts.
_CHANGEABLE_DURING_TRAINING = frozenset({"learningRate", "momentum", "beta1", "beta2", "eps"})
_FIXED_DURING_TRAINING = frozenset({"miniBatchSize", "epochs", "shuffle"})


def swift_identifier(name: str) -> str:
    """A Swift identifier for a feature name: kept as it is when already valid, else invalid characters become
    ``_`` and a leading digit gets a ``_`` before it; keywords are backticked (or suffixed where that fails)."""
    identifier = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_") if not _is_plain_identifier(name) else name
    if not identifier:
        identifier = "feature"
    if identifier[0].isdigit():
        identifier = "_" + identifier
    if identifier in _NOT_BACKTICKABLE:
        return identifier + "_"
    if identifier in SWIFT_KEYWORDS:
        return f"`{identifier}`"
    return identifier


def swift_type_name(name: str) -> str:
    """An UpperCamelCase Swift type-name prefix for a model file name such as ``hands-turi_v2``."""
    words = [word for word in re.split(r"[^0-9A-Za-z]+", name) if word]
    prefix = "".join(word[0].upper() + word[1:] for word in words) or "Model"
    if prefix[0].isdigit():
        prefix = "Model" + prefix
    return prefix + "Model" if prefix in SWIFT_KEYWORDS else prefix


def swift_string(text: str) -> str:
    """A Swift string literal holding ``text`` exactly."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif char.isprintable() and char not in "\u2028\u2029":
            escaped.append(char)
        else:
            escaped.append(f"\\u{{{ord(char):x}}}")
    return '"' + "".join(escaped) + '"'


def swift_source(contract: dict, prefix: str) -> str:
    """The Swift file for a training contract; ``prefix`` starts every generated type name."""
    model_file = PurePath(contract["path"]).name if contract["path"] else "the model"
    names = _unique_identifiers([feature["name"] for feature in contract["training_inputs"]])
    parameters = [_Parameter(key, value) for key, value in contract["parameters"].items()]
    scope = contract["updatable_model"]["scope"]
    is_knn = contract["updatable_model"]["type"] == "kNearestNeighborsClassifier"
    fields = {
        "prefix": prefix,
        "header": _header(contract, prefix, model_file),
        "save_function": f"save{prefix}ModelAtomically",
        "example_properties": "\n".join(_example_property(feature, name)
                                        for feature, name in zip(contract["training_inputs"], names)),
        "feature_values": "\n".join(f"                {swift_string(feature['name'])}: {_feature_value(feature, name)},"
                                    for feature, name in zip(contract["training_inputs"], names)),
        "parameter_enums": "".join(parameter.enum() for parameter in parameters),
        "parameter_properties": "\n".join(parameter.property() for parameter in parameters) + ("\n" if parameters
                                                                                               else ""),
        "init_parameters": (",\n" + " " * 9).join(parameter.init_parameter() for parameter in parameters),
        "init_body": "\n".join(parameter.assignment() for parameter in parameters) or "        // nothing to set",
        "dictionary_body": _dictionary_body(parameters, scope),
        "provider_note": _doc_comment(_KNN_PROVIDER_NOTE if is_knn else _NETWORK_PROVIDER_NOTE, ""),
    }
    trainer = "knn_trainer" if is_knn else "network_trainer"
    return _template("common").substitute(fields) + _template(trainer).substitute(fields)


def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath(_TEMPLATES, f"{name}.swift.tmpl").read_text("utf-8"))


def _is_plain_identifier(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None


def _unique_identifiers(names: list[str]) -> list[str]:
    """Identifiers for ``names``, numbered when two names would map to the same one (``a-b`` and ``a_b``)."""
    result, seen = [], set()
    for name in names:
        identifier = swift_identifier(name)
        candidate, number = identifier, 2
        while candidate.strip("`") in seen:
            candidate = f"{identifier.strip('`')}{number}"
            number += 1
        seen.add(candidate.strip("`"))
        result.append(candidate)
    return result


def _comment_text(text: str) -> str:
    """Text safe inside a ``//`` comment: one line, no characters that end or confuse a comment."""
    return re.sub(r"\s+", " ", "".join(c if c.isprintable() else " " for c in text)).replace("*/", "* /").strip()


def _header(contract: dict, prefix: str, model_file: str) -> str:
    stage = contract["updatable_model"]
    trained = f"the {stage['type']} at {stage['where']} (named {stage['scope']!r})" if stage["where"] else \
        f"this {stage['type']}"
    layers = contract["updatable_layers"]
    if layers:
        shown = ", ".join(layers[:6]) + (f" and {len(layers) - 6} more" if len(layers) > 6 else "")
        trained = f"layers {shown} of {trained}"
    text = (f"Generated by `mlsurgery contract --swift` from {model_file} ({contract['model_type']}): Core ML "
            f"trains {trained}. The allowed values below are copied from the model: regenerate this file whenever "
            "the model changes.")
    return f"// {_comment_text(prefix)}: on-device training of {_comment_text(model_file)}\n//\n" + \
        _doc_comment(text, "", "//")


def _doc_comment(text: str, indent: str = "    ", marker: str = "///") -> str:
    """``text`` as comment lines of at most 116 characters."""
    lines = textwrap.wrap(_comment_text(text), width=116 - len(indent) - len(marker) - 1,
                          break_long_words=False, break_on_hyphens=False)
    return "\n".join(f"{indent}{marker} {line}" for line in lines)


def _example_property(feature: dict, identifier: str) -> str:
    swift = feature["swift"]
    if swift["type"] == "CVPixelBuffer":
        detail = f"{swift['width']}×{swift['height']} pixels, {swift['pixel_format']}"
    elif swift["type"] == "MLMultiArray":
        detail = f"`MLMultiArray(shape: {swift['shape']}, dataType: .{swift['data_type']})`"
    else:
        detail = swift["type"]
    role = "the true value (target) the loss compares with" if feature["role"] == "target" else "a model input"
    description = f" {feature['description'].rstrip('.')}." if feature["description"] else ""
    comment = _doc_comment(f"{swift_string(feature['name'])}: {role}; {detail}.{description}")
    return f"{comment}\n    var {identifier}: {swift['type']}"


def _feature_value(feature: dict, identifier: str) -> str:
    swift = feature["swift"]
    value = f"example.{identifier}"
    constructor = swift["feature_value"]
    if constructor is None:
        return value
    if constructor == "dictionary":
        return (f"try MLFeatureValue(dictionary: Dictionary(uniqueKeysWithValues: {value}.map "
                "{ (AnyHashable($0.key), NSNumber(value: $0.value)) }))")
    return f"MLFeatureValue({constructor}: {value})"


def _dictionary_body(parameters: list["_Parameter"], scope: str | None) -> str:
    if not parameters:
        return "        return [:]"
    entries = "\n".join(parameter.dictionary_entry(scope) for parameter in parameters)
    note = ("        // Parameters of a pipeline stage are scoped to the stage's name (MLParameterKey.scoped(to:)).\n"
            if scope is not None else "")
    return f"{note}        return [\n{entries}\n        ]"


class _Parameter:
    """One MLParameterKey: its stored property, the enum of its allowed set, its check and its dictionary entry."""

    # Case-name stems for the allowed values of integer sets: `.size8`, `.epochs10`, `.k3`.
    _CASE_STEMS = {"miniBatchSize": "size", "epochs": "epochs", "numberOfNeighbors": "k", "seed": "seed"}

    def __init__(self, key: str, described: dict):
        self.key = key
        self.described = described
        self.swift_type = described["swift_type"]
        self.is_enum = self.swift_type == "Int" and "allowed_values" in described

    @property
    def enum_name(self) -> str:
        return self.key[0].upper() + self.key[1:]

    def _case(self, value: int) -> str:
        stem = self._CASE_STEMS.get(self.key, "value")
        return f"{stem}{value}" if value >= 0 else f"{stem}Minus{-value}"

    def enum(self) -> str:
        if not self.is_enum:
            return ""
        cases = "\n".join(f"        case {self._case(value)} = {value}"
                          for value in dict.fromkeys(self.described["allowed_values"]))
        return (f"    /// The values of `{self.key}` the model allows.\n"
                f"    enum {self.enum_name}: Int, CaseIterable {{\n{cases}\n    }}\n\n")

    def _type(self) -> str:
        return self.enum_name if self.is_enum else self.swift_type

    def _literal(self, value) -> str:
        if self.is_enum:
            return f".{self._case(value)}"
        if self.swift_type == "Bool":
            return "true" if value else "false"
        if self.swift_type == "Double":
            return _double_literal(value)
        return str(int(value))

    def _allowed_text(self) -> str:
        if "allowed_range" in self.described:
            low, high = self.described["allowed_range"]
            return f"allowed {self._plain(low)} ... {self._plain(high)}"
        if "allowed_values" in self.described:
            return "allowed " + ", ".join(self._plain(v) for v in self.described["allowed_values"])
        return "any value allowed"

    def _plain(self, value) -> str:
        if self.swift_type == "Bool":
            return "true" if value else "false"
        return _double_literal(value) if self.swift_type == "Double" else str(value)

    def property(self) -> str:
        note = "; fixed once training starts" if self.key in _FIXED_DURING_TRAINING else (
            "; can change during training via context.task.resume(withParameters:)"
            if self.key in _CHANGEABLE_DURING_TRAINING else "")
        comment = _doc_comment(f"`MLParameterKey.{self.key}`: {self._allowed_text()}; model default "
                               f"{self._plain(self.described['default'])}{note}.")
        return f"{comment}\n    let {self.key}: {self._type()}"

    def init_parameter(self) -> str:
        return f"{self.key}: {self._type()} = {self._literal(self.described['default'])}"

    def assignment(self) -> str:
        if "allowed_range" in self.described and not self.is_enum and self.swift_type != "Bool":
            low, high = (self._literal(bound) for bound in self.described["allowed_range"])
            return (f"        self.{self.key} = try Self.checked({self.key}, {swift_string(self.key)}, "
                    f"in: {low} ... {high})")
        return f"        self.{self.key} = {self.key}"

    def dictionary_entry(self, scope: str | None) -> str:
        key = f"MLParameterKey.{self.key}" + (f".scoped(to: {swift_string(scope)})" if scope is not None else "")
        value = f"{self.key}.rawValue" if self.is_enum else self.key
        return f"            {key}: {value},"


def _double_literal(value: float) -> str:
    """A Swift Double literal for ``value`` (Swift has no literal for infinity or NaN)."""
    if math.isnan(value):
        return "Double.nan"
    if math.isinf(value):
        return "Double.infinity" if value > 0 else "-Double.infinity"
    return repr(float(value))
