"""A read-only view of the neural network inside a Core ML spec: layers, blobs, producers and consumers.

The view never copies weights: ``Layer.proto`` is the live protobuf layer, so operations that change a spec
look layers up here and edit ``proto`` directly, then build a fresh ``LayerGraph`` if they need one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cached_property

from .coreml import (
    BACKPROPAGABLE_ACTIVATIONS,
    BACKPROPAGABLE_LAYER_KINDS,
    NETWORK_KINDS,
    PIPELINE_KINDS,
    accepts_updatable,
    is_quantized,
    pipeline_message,
)
from .errors import ModelLoadError, UsageError, did_you_mean
from .weights import field_size

_WEIGHT_PARAMS = "CoreML.Specification.WeightParams"


def pipeline_stages(spec) -> list:
    """The models of a pipeline spec in order (empty for any other model type)."""
    pipeline = pipeline_message(spec)
    return list(pipeline.models) if pipeline is not None else []


@dataclass(frozen=True)
class NetworkLocation:
    """Where a neural network sits: the model message that holds it and the pipeline stages leading to it."""

    model: object
    kind: str
    stage_path: tuple[int, ...] = ()

    @property
    def network(self):
        return getattr(self.model, self.kind)

    @property
    def where(self) -> str:
        """Human-readable position, e.g. ``pipeline stage 2`` or ``stage 1 › stage 3``; empty at the root."""
        return " › ".join(f"pipeline stage {index + 1}" for index in self.stage_path)


def find_networks(spec, _stage_path: tuple[int, ...] = ()) -> list[NetworkLocation]:
    """Every neural network in the spec, including those nested inside (nested) pipelines, in order."""
    kind = spec.WhichOneof("Type")
    if kind in NETWORK_KINDS:
        return [NetworkLocation(spec, kind, _stage_path)]
    found: list[NetworkLocation] = []
    for index, stage in enumerate(pipeline_stages(spec)):
        found.extend(find_networks(stage, _stage_path + (index,)))
    return found


def trainable_network(spec, source: str = "model") -> NetworkLocation:
    """The network that can be made updatable: the root one, or the last stage of a (nested) pipeline.

    Core ML only lets the last model of a pipeline be updatable
    (upstream: mlmodel/src/Validation/PipelineValidator.cpp).
    """
    kind = spec.WhichOneof("Type")
    if kind in NETWORK_KINDS:
        return NetworkLocation(spec, kind)
    if kind in PIPELINE_KINDS:
        stages = pipeline_stages(spec)
        if not stages:
            raise ModelLoadError(f"{source}: the pipeline has no stages")
        last = trainable_network(stages[-1], source)
        return NetworkLocation(last.model, last.kind, (len(stages) - 1,) + last.stage_path)
    raise ModelLoadError(
        f"{source}: model type '{kind}' is not a neural network; only neuralNetwork, "
        "neuralNetworkClassifier and neuralNetworkRegressor models (or a pipeline ending in one) can be "
        "trained on device")


def weight_params(message, _prefix: str = "") -> list[tuple[str, object]]:
    """All ``WeightParams`` inside a layer's parameter message, as (field path, message) pairs."""
    found = []
    for path, item in message_fields(message, _prefix):
        if item.DESCRIPTOR.full_name == _WEIGHT_PARAMS:
            found.append((path, item))
        else:
            found.extend(weight_params(item, path + "."))
    return found


def message_fields(message, prefix: str = "") -> list[tuple[str, object]]:
    """The sub-messages set in ``message``, as (field path, message) pairs: singular ones (``name``), each item
    of a repeated one (``name[2]``) and each value of a map whose values are messages (``name['key']``).

    Scalars, strings, bytes, repeated scalars and maps of scalars hold no message and are left out: a walk over
    layer fields must not treat them as messages (a custom layer's ``parameters`` map once crashed one).
    """
    found = []
    for descriptor, value in message.ListFields():
        kind = descriptor.message_type
        if kind is None:
            continue
        path = f"{prefix}{descriptor.name}"
        if kind.GetOptions().map_entry:
            if kind.fields_by_name["value"].message_type is not None:
                found.extend((f"{path}[{key!r}]", value[key]) for key in sorted(value))
        elif descriptor.is_repeated:
            found.extend((f"{path}[{position}]", item) for position, item in enumerate(value))
        else:
            found.append((path, value))
    return found


def weight_storage(weights) -> str:
    """How one WeightParams stores its values: ``fp32``, ``fp16``, ``int8``, ``<n>-bit quantized`` or ``none``."""
    if is_quantized(weights):
        return f"{weights.quantization.numberOfBits}-bit quantized"
    if len(weights.floatValue):
        return "fp32"
    if weights.float16Value:
        return "fp16"
    if weights.int8RawValue:
        return "int8"
    if weights.rawValue:
        return "raw"
    return "none"


def weight_count(weights) -> int:
    if is_quantized(weights) and weights.quantization.numberOfBits:
        return field_size(weights, "rawValue") * 8 // weights.quantization.numberOfBits
    return field_size(weights, "floatValue") + field_size(weights, "float16Value") // 2 + field_size(
        weights, "int8RawValue") + field_size(weights, "rawValue") // 4


class Layer:
    """One layer of a ``LayerGraph``: its position, its proto, and the layers it reads from and writes to."""

    def __init__(self, index: int, proto, graph: "LayerGraph"):
        self.index = index
        self.proto = proto
        self._graph = graph
        self._consumers: list[Layer] = []
        self._producers: list[Layer] = []

    def __repr__(self) -> str:
        return f"Layer(index={self.index}, name={self.name!r}, kind={self.kind!r})"

    @property
    def consumers(self) -> list["Layer"]:
        """The later layers that read a blob this one writes (as Core ML resolves each name)."""
        self._graph._link()
        return self._consumers

    @property
    def producers(self) -> list["Layer"]:
        """The earlier layers whose blobs this one reads, one per input that some layer writes."""
        self._graph._link()
        return self._producers

    @property
    def name(self) -> str:
        return self.proto.name

    @property
    def kind(self) -> str:
        return self.proto.WhichOneof("layer") or "unset"

    @property
    def activation(self) -> str | None:
        if self.kind != "activation":
            return None
        return self.proto.activation.WhichOneof("NonlinearityType")

    @property
    def type_label(self) -> str:
        return f"activation/{self.activation}" if self.activation else self.kind

    @property
    def inputs(self) -> list[str]:
        return list(self.proto.input)

    @property
    def outputs(self) -> list[str]:
        return list(self.proto.output)

    @property
    def params(self):
        return getattr(self.proto, self.kind) if self.kind != "unset" else None

    @cached_property
    def weights(self) -> list[tuple[str, object]]:
        return weight_params(self.params) if self.params is not None else []

    @property
    def parameter_count(self) -> int:
        return sum(weight_count(w) for _, w in self.weights)

    @property
    def storage(self) -> str:
        kinds = sorted({weight_storage(w) for _, w in self.weights} - {"none"})
        return "+".join(kinds) if kinds else "none"

    @property
    def is_updatable(self) -> bool:
        return self.proto.isUpdatable

    @property
    def is_quantized(self) -> bool:
        """Some parameter of the layer carries quantization parameters."""
        return any(is_quantized(w) for _, w in self.weights)

    @property
    def can_be_updatable(self) -> bool:
        """Core ML accepts this layer as updatable (``mlsurgery.coreml.accepts_updatable``)."""
        return accepts_updatable(self.proto)

    @property
    def passes_gradients(self) -> bool:
        """Core ML backpropagates through this layer (softmax only when it feeds cross-entropy directly)."""
        if self.kind == "activation":
            return self.activation in BACKPROPAGABLE_ACTIVATIONS
        return self.kind in BACKPROPAGABLE_LAYER_KINDS


def ancestors(start: list[Layer]) -> list[Layer]:
    """Layers upstream of ``start`` (``start`` itself excluded), nearest first."""
    found, queue, seen = [], deque(start), {id(layer) for layer in start}
    while queue:
        for parent in queue.popleft().producers:
            if id(parent) not in seen:
                seen.add(id(parent))
                found.append(parent)
                queue.append(parent)
    return found


class LayerGraph:
    """Layers in spec order with, for each input blob, the layer that last produced it before that point.

    That is how Core ML resolves a blob name that several layers write: a consumer reads the most recent
    producer before it in the layer list.
    """

    def __init__(self, location: NetworkLocation):
        self.location = location
        self.layers: list[Layer] = [Layer(i, proto, self) for i, proto in enumerate(location.network.layers)]
        self._blob_producer: dict[str, Layer] | None = None
        self._blob_consumers: dict[str, list[Layer]] = {}

    def _link(self) -> None:
        """Producers and consumers of every layer and blob, found on first use: validation builds a graph of
        every network, and on most of them no check ever asks (a tenth of validating 10,000 layers)."""
        if self._blob_producer is not None:
            return
        producers: dict[str, Layer] = {}
        consumers = self._blob_consumers
        for layer in self.layers:
            for blob in layer.proto.input:  # the proto's own lists: ``inputs`` would copy them
                producer = producers.get(blob)
                if producer is not None:
                    layer._producers.append(producer)
                    producer._consumers.append(layer)
                consumers.setdefault(blob, []).append(layer)
            for blob in layer.proto.output:
                producers[blob] = layer
        self._blob_producer = producers

    @property
    def blob_producer(self) -> dict[str, Layer]:
        """Blob name → the last layer that writes it (the one a model output reads)."""
        self._link()
        return self._blob_producer

    @property
    def blob_consumers(self) -> dict[str, list[Layer]]:
        """Blob name → the layers that read it, in order."""
        self._link()
        return self._blob_consumers

    @cached_property
    def _by_name(self) -> dict[str, Layer]:
        by_name: dict[str, Layer] = {}
        for layer in self.layers:
            by_name.setdefault(layer.name, layer)
        return by_name

    @classmethod
    def trainable(cls, spec, source: str = "model") -> "LayerGraph":
        """The graph of the network that can be made updatable: the root one, or a (nested) pipeline's last stage
        (``trainable_network``). For every network of a spec use ``find_networks``."""
        return cls(trainable_network(spec, source))

    @property
    def network(self):
        return self.location.network

    @property
    def model(self):
        return self.location.model

    @property
    def is_classifier(self) -> bool:
        return self.location.kind == "neuralNetworkClassifier"

    @property
    def input_names(self) -> list[str]:
        return [feature.name for feature in self.model.description.input]

    @property
    def output_names(self) -> list[str]:
        return [feature.name for feature in self.model.description.output]

    def layer(self, name: str) -> Layer:
        """The layer called ``name``; an unknown name raises ``UsageError`` suggesting the closest names."""
        found = self._by_name.get(name)
        if found is None:
            raise UsageError(unknown_name_message("layer", name, [layer.name for layer in self.layers]))
        return found

    def has_layer(self, name: str) -> bool:
        return name in self._by_name

    def probabilities_blob(self) -> str | None:
        """For a classifier, the blob holding class probabilities (``labelProbabilityLayerName`` names a blob)."""
        if not self.is_classifier:
            return None
        blob = self.network.labelProbabilityLayerName or self.model.description.predictedProbabilitiesName
        if blob in self.blob_producer:
            return blob
        return self.layers[-1].outputs[0] if self.layers and self.layers[-1].outputs else None

    def probabilities_softmax(self) -> Layer | None:
        """For a classifier, the softmax layer that produces the class probabilities, if there is one."""
        blob = self.probabilities_blob()
        producer = self.blob_producer.get(blob) if blob else None
        if producer is not None and producer.kind == "softmax" and producer.outputs[0] == blob:
            return producer
        return None


def unknown_name_message(what: str, name: str, known: list[str]) -> str:
    hint = did_you_mean(name, known, cutoff=0.5) or "run `mlsurgery inspect MODEL` to list them"
    return f"no {what} named {name!r}; {hint}"
