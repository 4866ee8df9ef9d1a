"""``make-knn``: a feature extractor followed by an empty, updatable k-nearest-neighbours classifier.

The on-device personalization the "On-device training with Core ML" series recommends first: a network cut at a
feature blob extracts features, and a KNearestNeighborsClassifier (mlmodel/format/NearestNeighbors.proto) memorizes
the user's examples. The result is a ``pipelineClassifier`` (specification version ≥ 4, Core ML 3) whose last
stage, the k-NN, is the only updatable model (PipelineValidator.cpp), with the training inputs MLUpdateTask
needs: the model's inputs and the true label.

What the hand-written recipe (hollance/coreml-training make_knn.py, coremltools #2205) gets wrong by accident is
done from the graph here: the cut keeps exactly the layers the feature blob depends on (not "the last two
layers"), the image preprocessing moves with them, the k-NN dimension is the blob's size from Core ML's shape
inference (a blob that is not a vector is refused: hollance/coreml-training#4), and the stage between them is
declared with the very feature type the k-NN reads (Core ML compares them exactly).

A pipeline whose last stage is a classifier without a network (a Create ML GLM behind a VisionFeaturePrint, an
SVM, a tree ensemble, an earlier k-NN) keeps every stage before it and puts the k-NN on that stage's input; a
pipeline ending in a network classifier is cut inside that network.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._proto import model_pb2
from ..coreml import MIN_UPDATABLE_SPEC_VERSION, NETWORK_KINDS, PIPELINE_KINDS, pipeline_message
from ..errors import ModelLoadError, SurgeryError, UsageError
from ..network import LayerGraph, NetworkLocation, pipeline_stages
from .changes import Changes
from .features import (array_type, blob_shape, check_blob, default_feature_blob, feature_extractor, layers_up_to,
                       require_vector)

WEIGHTINGS = ("uniform", "inverse")
INDEXES = ("linear", "kd-tree")
LABEL_TYPES = ("string", "int")
# coremltools' KNearestNeighborsClassifierBuilder defaults (coremltools/models/nearest_neighbors/builder.py).
DEFAULT_K_RANGE = (1, 1000)
DEFAULT_LEAF_SIZE = 30
DEFAULT_LABELS = {"string": "unknown", "int": -1}

# Classifier stages that hold no network: make-knn replaces them, keeping the stages before them.
HEAD_CLASSIFIER_KINDS = ("glmClassifier", "supportVectorClassifier", "treeEnsembleClassifier",
                         "kNearestNeighborsClassifier")


@dataclass(frozen=True)
class KnnSettings:
    """The k-NN classifier's parameters; invalid combinations raise ``UsageError`` (exit 2) on construction."""

    k: int = 3
    k_range: tuple[int, int] = DEFAULT_K_RANGE
    weighting: str = "uniform"
    index: str = "linear"
    leaf_size: int = DEFAULT_LEAF_SIZE
    labels: str | None = None  # "string" | "int"; default: the classifier's own label type, else string
    default_label: str | None = None

    def __post_init__(self):
        low, high = self.k_range
        if low < 1 or high < low:
            raise UsageError(f"k range [{low}, {high}] must have 1 ≤ minimum ≤ maximum")
        if not low <= self.k <= high:
            raise UsageError(f"k {self.k} is outside its allowed range [{low}, {high}]; choose k in the range "
                             "or widen it with --k-range MIN,MAX")
        for value, allowed, what in ((self.weighting, WEIGHTINGS, "weighting"), (self.index, INDEXES, "index"),
                                     (self.labels, LABEL_TYPES + (None,), "labels")):
            if value not in allowed:
                raise UsageError(f"unknown {what} {value!r}; choose one of {', '.join(a for a in allowed if a)}")
        if self.index == "kd-tree" and self.leaf_size <= 0:
            raise UsageError(f"kd-tree leaf size {self.leaf_size} must be positive")
        if self.labels == "int" and self.default_label is not None:
            try:
                int(self.default_label)
            except ValueError:
                raise UsageError(f"default label {self.default_label!r} is not an integer, but the labels are "
                                 "int") from None


@dataclass
class _Source:
    """What goes in front of the k-NN: the stages kept as they are, and the network to cut (if any)."""

    leading: list
    network: NetworkLocation | None
    head_input: object | None  # the FeatureDescription the replaced classifier read (no network to cut)
    names: list[str]


def make_knn(spec, features: str | None = None, settings: KnnSettings = KnnSettings(), *,
             source: str = "model") -> Changes:
    """Turn ``spec`` (in place) into a pipeline classifier: feature extractor + empty updatable k-NN.

    ``features`` names the blob to cut at (default: the input of the classifier's innerProduct); ``source``
    names the file in error messages. Returns what changed; validate the result with
    ``mlsurgery.validate.validate_spec``.
    """
    changes = Changes("make-knn")
    found = _source(spec, source)
    stages = list(found.leading)
    names = list(found.names)
    if found.network is not None:
        graph = LayerGraph(found.network)
        blob = features or default_feature_blob(graph)
        check_blob(graph, blob)
        if blob in graph.blob_producer:
            shape = blob_shape(found.network, blob)
            require_vector(shape)
            extractor = feature_extractor(found.network, blob, shape)
            stages.append(extractor)
            names.append(_free_name("featureExtractor", names))
            feature = extractor.description.output[0]
            kept = len(layers_up_to(graph, blob))
            preprocessing = ", image preprocessing kept" if extractor.neuralNetwork.preprocessing else ""
            reshaped = f" (the N-D blob {list(shape.dims)} reshaped to rank 1)" if feature.name != blob else ""
            changes.add(f"stage {len(stages)} {names[-1]}",
                        f"network cut after {blob!r}: {kept} of {len(graph.layers)} layers kept{preprocessing}, "
                        f"output {feature.name!r} FLOAT32 [{shape.size}]{reshaped}")
        else:
            feature = next(f for f in found.network.model.description.input if f.name == blob)
            if not stages:
                raise UsageError(f"blob {blob!r} is the model input itself; name a blob the network computes "
                                 "with --features")
            changes.add(f"stage {len(stages) + 1}", f"network stage dropped: the k-NN reads its input {blob!r}")
    else:
        if features is not None:
            raise UsageError(f"--features {features!r}: the last stage is not a network, so there is no blob to "
                             f"cut at; the k-NN reads that stage's input {found.head_input.name!r}")
        feature = found.head_input
    dimension = _vector_length(feature)
    label_kind = settings.labels or _label_kind(spec)
    label_name, probabilities_name = _output_names(spec, {feature.name} | {f.name for f in spec.description.input})

    knn_stage = _knn_stage(feature, dimension, settings, label_kind, label_name, probabilities_name)
    stages.append(knn_stage)
    names.append(_free_name("kNearestNeighbors", names))
    changes.add(f"stage {len(stages)} {names[-1]}", _describe(settings, dimension, label_kind, knn_stage))

    pipeline = _pipeline(spec, stages, names, knn_stage)
    changes.add("model", f"{spec.WhichOneof('Type')} → pipelineClassifier, specificationVersion "
                         f"{spec.specificationVersion} → {pipeline.specificationVersion}, updatable")
    changes.add("training inputs", str([f.name for f in pipeline.description.trainingInput]))
    spec.CopyFrom(pipeline)
    return changes


def _source(spec, source: str) -> _Source:
    kind = spec.WhichOneof("Type")
    if kind in NETWORK_KINDS:
        return _Source([], NetworkLocation(spec, kind), None, [])
    if kind not in PIPELINE_KINDS:
        raise ModelLoadError(f"{source}: model type '{kind}' has no neural network (or pipeline) to extract "
                             "features with; make-knn needs a network, or a pipeline with a feature extractor")
    stages = pipeline_stages(spec)
    if not stages:
        raise ModelLoadError(f"{source}: the pipeline has no stages")
    names = list(pipeline_message(spec).names)
    if stages[-1].WhichOneof("Type") in PIPELINE_KINDS:
        # A pipeline ending in a pipeline runs the same stages in the same order as one flat pipeline.
        stages, names = _flattened(stages), []
        if not stages:
            raise ModelLoadError(f"{source}: the pipeline has no stages")
    leading = [_frozen_copy(stage) for stage in stages[:-1]]
    names = names[:-1] if len(names) == len(stages) else []
    last = stages[-1]
    last_kind = last.WhichOneof("Type")
    if last_kind in NETWORK_KINDS:
        return _Source(leading, NetworkLocation(last, last_kind, (len(stages) - 1,)), None, names)
    if last_kind in HEAD_CLASSIFIER_KINDS and leading:
        inputs = list(last.description.input)
        if len(inputs) != 1 or inputs[0].type.WhichOneof("Type") != "multiArrayType":
            raise SurgeryError(f"{source}: the {last_kind} stage reads {len(inputs)} features "
                               f"({', '.join(f.name for f in inputs)}); a k-NN needs one feature vector — put a "
                               "featureVectorizer stage before it")
        return _Source(leading, None, inputs[0], names)
    raise ModelLoadError(f"{source}: the pipeline ends in a '{last_kind}' stage with no feature extractor or "
                         "network before it; make-knn needs a network, or a pipeline whose last stage is a "
                         "classifier behind a feature extractor")


def _flattened(stages) -> list:
    flat = []
    for stage in stages:
        flat.extend(_flattened(pipeline_stages(stage)) if stage.WhichOneof("Type") in PIPELINE_KINDS else [stage])
    return flat


def _frozen_copy(stage):
    copy = model_pb2().Model()
    copy.CopyFrom(stage)
    copy.isUpdatable = False
    return copy


def _vector_length(feature) -> int:
    array = feature.type.multiArrayType
    if feature.type.WhichOneof("Type") != "multiArrayType" or len(array.shape) != 1:
        shape = list(array.shape) if feature.type.WhichOneof("Type") == "multiArrayType" else None
        raise SurgeryError(f"feature {feature.name!r} is {'a multi-array of shape ' + str(shape) if shape else 'not a multi-array'}, "
                           "not a feature vector; a k-NN needs a 1-D multi-array")
    return int(array.shape[0])


def _label_kind(spec) -> str:
    description = spec.description
    output = next((o for o in description.output if o.name == description.predictedFeatureName), None)
    if output is not None and output.type.WhichOneof("Type") == "int64Type":
        return "int"
    return "string"


def _output_names(spec, taken: set[str]) -> tuple[str, str]:
    """The classifier's own label and probability output names (so app code keeps working), else the names
    Apple's examples use."""
    description = spec.description
    label = description.predictedFeatureName or "label"
    probabilities = description.predictedProbabilitiesName or f"{label}Probability"
    label = _free_name(label, taken)
    return label, _free_name(probabilities, taken | {label})


def _free_name(name: str, taken) -> str:
    candidate, suffix = name, 1
    while candidate in taken:
        candidate, suffix = f"{name}_{suffix}", suffix + 1
    return candidate


def _label_features(label_kind: str, label_name: str, probabilities_name: str):
    from .._proto import feature_types_pb2

    FeatureType = feature_types_pb2().FeatureType
    label_type, probabilities_type = FeatureType(), FeatureType()
    if label_kind == "int":
        label_type.int64Type.SetInParent()
        probabilities_type.dictionaryType.int64KeyType.SetInParent()
    else:
        label_type.stringType.SetInParent()
        probabilities_type.dictionaryType.stringKeyType.SetInParent()
    return (label_name, label_type), (probabilities_name, probabilities_type)


def _knn_stage(feature, dimension: int, settings: KnnSettings, label_kind: str, label_name: str,
               probabilities_name: str):
    stage = model_pb2().Model()
    stage.specificationVersion = MIN_UPDATABLE_SPEC_VERSION
    stage.isUpdatable = True
    description = stage.description
    description.input.add().CopyFrom(feature)
    (label, label_type), (probabilities, probabilities_type) = _label_features(label_kind, label_name,
                                                                                probabilities_name)
    for name, feature_type in ((label, label_type), (probabilities, probabilities_type)):
        output = description.output.add()
        output.name = name
        output.type.CopyFrom(feature_type)
    description.predictedFeatureName = label
    description.predictedProbabilitiesName = probabilities
    description.trainingInput.add().CopyFrom(feature)
    target = description.trainingInput.add()
    target.name = label
    target.type.CopyFrom(label_type)

    knn = stage.kNearestNeighborsClassifier
    index = knn.nearestNeighborsIndex
    index.numberOfDimensions = dimension
    index.squaredEuclideanDistance.SetInParent()
    if settings.index == "kd-tree":
        index.singleKdTreeIndex.leafSize = settings.leaf_size
    else:
        index.linearIndex.SetInParent()
    knn.numberOfNeighbors.defaultValue = settings.k
    knn.numberOfNeighbors.range.minValue, knn.numberOfNeighbors.range.maxValue = settings.k_range
    if settings.weighting == "inverse":
        knn.inverseDistanceWeighting.SetInParent()
    else:
        knn.uniformWeighting.SetInParent()
    # Empty label list of the chosen type plus a default label: what Core ML returns before any training.
    default = settings.default_label if settings.default_label is not None else DEFAULT_LABELS[label_kind]
    if label_kind == "int":
        knn.int64ClassLabels.SetInParent()
        knn.defaultInt64Label = int(default)
    else:
        knn.stringClassLabels.SetInParent()
        knn.defaultStringLabel = str(default)
    return stage


def _pipeline(spec, stages: list, names: list[str], knn_stage):
    pipeline = model_pb2().Model()
    pipeline.specificationVersion = max(spec.specificationVersion, MIN_UPDATABLE_SPEC_VERSION,
                                        *(stage.specificationVersion for stage in stages))
    pipeline.isUpdatable = True
    description = pipeline.description
    description.metadata.CopyFrom(spec.description.metadata)
    description.input.extend(spec.description.input)
    description.output.extend(knn_stage.description.output)
    description.predictedFeatureName = knn_stage.description.predictedFeatureName
    description.predictedProbabilitiesName = knn_stage.description.predictedProbabilitiesName
    description.trainingInput.extend(spec.description.input)
    description.trainingInput.add().CopyFrom(knn_stage.description.trainingInput[-1])
    models = pipeline.pipelineClassifier.pipeline
    for stage in stages:
        models.models.add().CopyFrom(stage)
    if len(names) == len(stages):
        models.names.extend(names)
    return pipeline


def _describe(settings: KnnSettings, dimension: int, label_kind: str, stage) -> str:
    knn = stage.kNearestNeighborsClassifier
    default = knn.defaultInt64Label if label_kind == "int" else repr(knn.defaultStringLabel)
    index = f"kd-tree (leaf size {settings.leaf_size})" if settings.index == "kd-tree" else "linear"
    weighting = "inverse-distance" if settings.weighting == "inverse" else "uniform"
    return (f"empty updatable k-NN: {dimension} dimensions, k {settings.k} in {list(settings.k_range)}, "
            f"{weighting} weighting, {index} index, squared Euclidean distance, "
            f"{'Int64' if label_kind == 'int' else 'String'} labels (default {default})")
