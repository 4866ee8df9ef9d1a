"""Cut a network at a blob: the feature extractor up to it, the head after it, and the blob's exact shape.

Shared by ``make-knn`` (feature extractor + k-NN) and ``split`` (frozen feature extractor + trainable head). Both
put the blob between two pipeline stages, where Core ML compares the two stages' feature descriptions exactly
(PipelineValidator.cpp, ``isEquivalent``: same shape, same rank). The shape declared there must also be the shape
the blob really has at run time: a rank-5 network hands a blob of shape (1, 1, C, 1, 1) to a stage expecting [C]
only because the declared output shape [C] tells Core ML how to present it; a blob that is really 1 × 7 × 1024
declared as [1024] reaches the next stage as (1, 1, 1, 7, 1024) and prediction fails
(hollance/coreml-training#4). So the shape is never guessed from a layer nearby: it comes from Core ML's own shape
inference for rank-5 networks (``mlsurgery.shapes``), and a blob whose size it cannot pin down is refused. N-D networks
(iOS 13+ layers, as coremltools converts PyTorch models) have no static shape inference in Core ML: there the shape
is measured by running the network on the engine (``mlsurgery.engine``, PyTorch) with its declared input shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._proto import feature_types_pb2, model_pb2
from ..coreml import nd_array_interpretation
from ..errors import SurgeryError, UsageError
from ..network import Layer, LayerGraph, NetworkLocation, ancestors, unknown_name_message, weight_params
from ..shapes import Shaper, ShapeError

# Layers between a classifier's innerProduct and its probabilities that keep one value per class.
_PER_CLASS_LAYERS = frozenset({"softmax", "softmaxND", "activation"})
_LINEAR_LAYERS = frozenset({"innerProduct", "batchedMatmul"})
# Layers whose output is class scores, not features.
_SCORE_LAYERS = _LINEAR_LAYERS | {"softmax", "softmaxND"}


@dataclass(frozen=True)
class BlobShape:
    """The shape a blob has at run time, as a stage description declares it. Rank-5 networks: (C,) for a vector,
    else (C, H, W); N-D networks: the blob's own shape, of any rank (``nd``)."""

    blob: str
    dims: tuple[int, ...]
    nd: bool = False

    @property
    def is_vector(self) -> bool:
        """Rank-5: the values are all channels (C, 1, 1). N-D: one axis holds every value ([1, 512] is reshaped to
        rank 1 for the next stage)."""
        if not self.nd:
            return len(self.dims) == 1
        return sum(1 for dim in self.dims if dim != 1) <= 1

    @property
    def size(self) -> int:
        total = 1
        for dim in self.dims:
            total *= dim
        return total

    def __str__(self) -> str:
        return " × ".join(str(dim) for dim in self.dims)


def default_feature_blob(graph: LayerGraph) -> str:
    """The features a network offers: a classifier's are the input of the linear layer (innerProduct or
    batchedMatMul) whose outputs reach the class probabilities; a network with one multi-array output that no
    linear or softmax layer writes (an embedding) offers that output; otherwise the input of its last linear
    layer."""
    outputs = graph.model.description.output
    if graph.location.kind == "neuralNetwork" and len(outputs) == 1 \
            and outputs[0].type.WhichOneof("Type") == "multiArrayType" and outputs[0].name in graph.blob_producer \
            and graph.blob_producer[outputs[0].name].kind not in _SCORE_LAYERS:
        return outputs[0].name
    probabilities = graph.probabilities_blob()
    layer = graph.blob_producer.get(probabilities) if probabilities else None
    while layer is not None and layer.kind in _PER_CLASS_LAYERS and len(layer.producers) == 1:
        layer = layer.producers[0]
    if layer is None or layer.kind not in _LINEAR_LAYERS:
        layer = next((candidate for candidate in reversed(graph.layers) if candidate.kind in _LINEAR_LAYERS), None)
    if layer is None:
        raise UsageError("the network has no innerProduct (classifier) layer to take the features from; name the "
                         "feature blob with --features BLOB (`mlsurgery inspect MODEL` lists the layer outputs)")
    return layer.inputs[0]


def check_blob(graph: LayerGraph, blob: str) -> None:
    """Refuse a blob the network neither takes as input nor produces, suggesting the closest names."""
    if blob in graph.blob_producer or blob in graph.input_names:
        return
    known = list(graph.input_names) + [out for layer in graph.layers for out in layer.outputs]
    raise UsageError(f"the network has {unknown_name_message('blob', blob, known)}")


def blob_shape(location: NetworkLocation, blob: str) -> BlobShape:
    """The run-time shape of ``blob`` by Core ML's rank-5 shape inference; refuses what it cannot pin down."""
    network = location.network
    if nd_array_interpretation(network):
        return _nd_shape(location, blob)
    try:
        shapes = Shaper(location.model.description, network.layers).shapes
    except ShapeError as error:
        raise SurgeryError(f"blob {blob!r}: Core ML's shape inference fails on this network ({error}); "
                           "fix the network's shapes first (mlsurgery validate MODEL)") from None
    constraint = shapes.get(blob)
    axes = {axis: constraint[axis] for axis in ("sequence", "channel", "height", "width")} if constraint else {}
    if not axes or not all(axes[axis].is_fixed() for axis in ("channel", "height", "width")):
        raise SurgeryError(f"blob {blob!r} has no fixed size (it depends on a flexible input size); give the "
                           "model input a fixed size first")
    # The shaper leaves the sequence axis open unless an input fixes it; only a fixed sequence of several steps
    # means several vectors per example.
    if axes["sequence"].minimum_value() > 1:
        raise SurgeryError(f"blob {blob!r} is a sequence (of {axes['sequence']} steps), not one feature "
                           "vector per example; take the features after the sequence is reduced")
    channel, height, width = (axes[axis].minimum_value() for axis in ("channel", "height", "width"))
    dims = (channel,) if height == width == 1 else (channel, height, width)
    return BlobShape(blob, dims)


def _nd_shape(location: NetworkLocation, blob: str) -> BlobShape:
    """An N-D network's blob shape, as a stage declares it: propagated through the layers from the declared inputs
    (``mlsurgery.shapes.nd``), or, past a layer that propagation does not know, measured on the engine."""
    from ..shapes.nd import blob_shapes, feature_shape

    shape = blob_shapes(location.model, location.network).get(blob)
    if shape is None:
        shape = _measured_shape(location, blob)
    exact = location.network.arrayInputShapeMapping == 1
    return BlobShape(blob, tuple(feature_shape(tuple(shape), exact)), nd=True)


def _measured_shape(location: NetworkLocation, blob: str) -> tuple[int, ...]:
    """A blob's tensor shape from one run of the network on the engine with seeded inputs of the declared shapes
    (Core ML computes N-D shapes only at run time)."""
    from ..engine.errors import require_torch

    require_torch()
    from ..engine.features import random_inputs
    from ..engine.models import NeuralNetworkModel

    model = NeuralNetworkModel(location.model)
    example = random_inputs(location.model, 0)[0]
    import torch

    with torch.no_grad():
        blobs = model.blobs({name: model._one(name, value) for name, value in example.items()}, 1)
    if blob not in blobs:
        raise SurgeryError(f"blob {blob!r} was not computed when the network ran; name a blob on the way to the "
                           "outputs")
    return tuple(int(dim) for dim in blobs[blob].shape[1:])


def require_vector(shape: BlobShape) -> None:
    if not shape.is_vector:
        raise SurgeryError(
            f"blob {shape.blob!r} is {shape} (channels × height × width), not a feature vector; take the "
            "features after a flatten or global pooling layer, e.g. the input of the classifier's innerProduct")


def array_type(dims, data_type: str = "FLOAT32"):
    """A multi-array FeatureType of ``dims`` (``FLOAT32`` or ``DOUBLE``)."""
    feature_type = feature_types_pb2().FeatureType()
    feature_type.multiArrayType.shape.extend(dims)
    feature_type.multiArrayType.dataType = getattr(feature_types_pb2().ArrayFeatureType, data_type)
    return feature_type


def layers_up_to(graph: LayerGraph, blob: str) -> list[Layer]:
    """The layers ``blob`` depends on, in network order (none when it is a model input)."""
    producer = graph.blob_producer.get(blob)
    if producer is None:
        return []
    needed = {id(layer) for layer in ancestors([producer])} | {id(producer)}
    return [layer for layer in graph.layers if id(layer) in needed]


def feature_extractor(location: NetworkLocation, blob: str, shape: BlobShape):
    """A plain ``neuralNetwork`` model: the network cut after ``blob`` (``mlsurgery.edit.cut_after``: the layers
    ``blob`` is computed from), with the network's inputs and image preprocessing, and one output, ``blob`` declared
    as ``shape`` (FLOAT32). Nothing in it is updatable."""
    from ..edit import cut_after

    source = location.model
    stage = model_pb2().Model()
    stage.specificationVersion = source.specificationVersion
    stage.description.input.extend(source.description.input)
    stage.description.output.extend(source.description.output)
    network = stage.neuralNetwork
    for field in ("layers", "preprocessing"):
        getattr(network, field).extend(getattr(location.network, field))
    for field in ("arrayInputShapeMapping", "imageInputShapeMapping"):
        setattr(network, field, getattr(location.network, field))
    declared = array_type((shape.size,) if shape.nd else shape.dims)
    cut_after(NetworkLocation(stage, "neuralNetwork"), blob, declared)
    # An output the model already had keeps its name and description but gets the exact shape: converters often
    # declare outputs without one.
    stage.description.output[0].type.CopyFrom(declared)
    for layer in network.layers:
        layer.isUpdatable = False
        for _, weights in _weights_of(layer):
            weights.isUpdatable = False
    if shape.nd and len(shape.dims) != 1:
        # An N-D network hands its blob on in the blob's own rank; a k-NN reads exactly rank 1.
        output = stage.description.output[0]
        output.name = _free_blob_name(f"{blob}_vector", network)
        reshape = network.layers.add()
        reshape.name = output.name
        reshape.input.append(blob)
        reshape.output.append(output.name)
        reshape.reshapeStatic.targetShape.append(shape.size)
    return stage


def _free_blob_name(name: str, network) -> str:
    taken = {layer.name for layer in network.layers} | {out for layer in network.layers for out in layer.output}
    candidate, suffix = name, 1
    while candidate in taken:
        candidate, suffix = f"{name}_{suffix}", suffix + 1
    return candidate


def _weights_of(layer_proto):
    kind = layer_proto.WhichOneof("layer")
    return weight_params(getattr(layer_proto, kind)) if kind else []
