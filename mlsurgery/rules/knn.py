"""Checks of k-nearest-neighbours classifiers (MLS060–MLS066), the updatable model type besides networks.

Upstream: mlmodel/src/Validation/KNearestNeighborsClassifierValidator.cpp.
"""

from __future__ import annotations

from .base import Finding, Rule, define_rule
from .updatable import check_int64_parameter

_KNN = "mlmodel/src/Validation/KNearestNeighborsClassifierValidator.cpp"

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

RULES: list[Rule] = [KNN_WEIGHTING, KNN_DEFAULT_LABEL_TYPE, KNN_NO_LABELS, KNN_INTERFACE, KNN_NO_SAMPLES,
                     KNN_SAMPLE_DIMENSION, KNN_INDEX]


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
