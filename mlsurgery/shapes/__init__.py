"""Core ML's shape inference for iOS 11/12-style networks (the rank-5 ``NeuralNetworkShaper``), ported exactly.

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkShapes.cpp and mlmodel/src/LayerShapeConstraints.cpp.

Core ML runs it at the end of validateNeuralNetworkTopLevel for networks *without* N-D array interpretation.
Every blob gets a range for each of its five axes (sequence, batch, channel, height, width); each layer
intersects the ranges of its inputs and outputs, forwards then backwards, until every blob has been reached from
every model input. A contradiction (an empty intersection, a fixed value outside a range) makes the shaper throw.
Core ML's validator then returns a result that still counts as *valid* ("potentially invalid neural network
shapes") but skips the updatable-model checks, so the only outcome is a warning plus that skip.

The arithmetic mirrors the C++ overloads: ``size_t`` values wrap modulo 2^64, subtracting below zero clamps to 0,
``int`` arguments may be negative, and an unbounded value is ``None``.
"""

from __future__ import annotations

from ..coreml import NETWORK_KINDS, nd_array_interpretation
from .layers import IDEMPOTENT_SHAPES, LAYER_SHAPES
from .ranges import Constraint, ShapeError, size_t


def shape_inference_failure(spec) -> str | None:
    """Why Core ML's shape inference fails for this network, or None (also for N-D networks, where it never runs)."""
    kind = spec.WhichOneof("Type")
    if kind not in NETWORK_KINDS:
        return None
    network = getattr(spec, kind)
    if nd_array_interpretation(network):
        return None
    return rank5_shape_failure(spec.description, network.layers)


def rank5_shape_failure(description, layers) -> str | None:
    """Why the rank-5 shaper fails for these layers, or None; for a caller that knows the network is not N-D."""
    try:
        Shaper(description, layers)
    except ShapeError as error:
        return str(error)
    return None


class Shaper:
    """NeuralNetworkShaper with input and output constraints; raises ShapeError where upstream throws."""

    def __init__(self, description, layers):
        self.shapes: dict[str, Constraint] = {}
        # Upstream's blob colors (the set of model inputs that reach a blob) as bit masks: input i is bit i.
        self.colors: dict[str, int] = {}
        self._read: dict[int, object] = {}  # see read_once
        inputs = list(description.input)
        for position, feature in enumerate(inputs):
            constraint = self.shape(feature.name)
            self.colors[feature.name] = self.colors.get(feature.name, 0) | 1 << position
            try:
                constraint.constrain_to(feature.type)
            except ShapeError as error:
                raise ShapeError(f"model input '{feature.name}': {error}") from None
        every_input = (1 << len(inputs)) - 1
        # Each layer is read from the proto once, not on every pass.
        steps = [_Step(layer, kind, LAYER_SHAPES.get(kind) if kind else None)
                 for layer, kind in ((layer, layer.WhichOneof("layer")) for layer in layers)]
        while True:
            before = dict(self.colors)
            for step in steps:
                self._pass_colors(step.sources, step.targets)
                if step.blobs is None or step.blobs[0].version + step.blobs[1].version != step.versions:
                    self._process(step)
            for step in reversed(steps):
                self._pass_colors(step.targets, step.sources)
                if step.blobs is None or step.blobs[0].version + step.blobs[1].version != step.versions:
                    self._process(step)
            done = all(colors == every_input for colors in self.colors.values())
            if done or before == self.colors:
                break
        self._constrain_outputs(description)

    def shape(self, blob: str) -> Constraint:
        """``blobShapes[blob]``: creates an unconstrained entry for an unknown blob."""
        constraint = self.shapes.get(blob)
        if constraint is None:
            constraint = self.shapes[blob] = Constraint(blob)
        return constraint

    def read_once(self, layer, read):
        """``read(layer)``, computed on the first call for this layer: a handler runs on every pass, forwards and
        backwards, but the layer's parameters do not change. (Keyed by identity: the steps below hold each layer,
        so no other object takes its id while this shaper runs.)"""
        key = id(layer)
        value = self._read.get(key)
        if value is None:
            value = self._read[key] = read(layer)
        return value

    # Upstream names a blob's constraint only when a layer writes it; here every constraint carries its name
    # (it only appears in messages).
    output = shape

    def _pass_colors(self, sources, targets) -> None:
        all_colors = self.colors
        for source in sources:
            colors = all_colors.get(source)
            if colors is None:
                colors = all_colors[source] = 0
            for target in targets:
                all_colors[target] = all_colors.get(target, 0) | colors

    def _constrain_outputs(self, description) -> None:
        special = (description.predictedProbabilitiesName, description.predictedFeatureName)
        for feature in description.output:
            if feature.name in special or feature.name not in self.shapes:
                continue
            try:
                self._constrain_output(self.shapes[feature.name], feature)
            except ShapeError as error:
                raise ShapeError(f"model output '{feature.name}': {error}") from None

    @staticmethod
    def _constrain_output(constraint: Constraint, feature) -> None:
        if feature.type.WhichOneof("Type") == "imageType":
            image = feature.type.imageType
            constraint.set("channel", 1 if image.colorSpace in (10, 40) else 3)
            constraint.set("height", size_t(image.height))
            constraint.set("width", size_t(image.width))
            return
        shape = list(feature.type.multiArrayType.shape)
        if len(shape) == 3:
            for axis, size in zip(("channel", "height", "width"), shape):
                constraint.set(axis, size_t(size))
        elif len(shape) == 1:
            constraint.set("channel", size_t(shape[0]))
            constraint.set("height", 1)
            constraint.set("width", 1)

    def _process(self, step: "_Step") -> None:
        """Run the layer's handler (the loop above skips an idempotent layer whose blobs are as it left them: it
        would leave them so again)."""
        if step.kind is None:
            raise ShapeError("layer type not found")
        if step.handler is None:
            raise ShapeError(f"shape inference not implemented for layer type {step.kind}")
        try:
            step.handler(self, step.layer)
        except ShapeError as error:
            raise ShapeError(f"at {step.kind} layer '{step.layer.name}': {error}") from None
        if step.handler in IDEMPOTENT_SHAPES:
            if step.blobs is None:  # what those handlers read and write: the first input and the first output
                step.blobs = (self.shapes[step.sources[0]], self.shapes[step.targets[0]])
            # Versions only grow, so an equal sum later means neither blob changed in between.
            step.versions = step.blobs[0].version + step.blobs[1].version


class _Step:
    """One layer as the shaper visits it, read from the proto once."""

    __slots__ = ("layer", "kind", "handler", "sources", "targets", "blobs", "versions")

    def __init__(self, layer, kind: str | None, handler):
        self.layer, self.kind, self.handler = layer, kind, handler
        self.sources, self.targets = tuple(layer.input), tuple(layer.output)
        self.blobs = None  # the constraints of its blobs, once an idempotent layer has been processed
        self.versions = -1


