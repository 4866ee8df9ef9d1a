"""Where gradients flow in a Core ML neural network, decided exactly as Core ML's validator decides it.

Core ML checks the path between the loss and the updatable layers with one breadth-first walk backwards
from each loss layer (upstream: mlmodel/src/Validation/NeuralNetwork/UpdatableNeuralNetworkValidator.cpp,
``isTrainingConfigurationSupported``; the graph it walks is NeuralNetworkValidatorGraph.hpp). Its facts:

* a node's parents are, for each of its inputs in order, the layer that last wrote that blob before it
  (for a loss layer: the last writer of its input blob in the whole network);
* one set of visited layer names is shared by the whole walk (and by all loss layers), so a layer is
  judged once, at its first discovery;
* a single flag per loss layer turns on the moment the walk discovers any layer that does not pass
  gradients (softmax is forgiven only when it directly feeds a cross-entropy loss) and never turns off;
* an updatable layer discovered while that flag is on is rejected, and Core ML's message names the most
  recent gradient-blocking layer discovered before it (the variable is called "first", but it is overwritten
  every time).

So Core ML's verdict for a layer depends on visiting order, not only on the paths above it. This module
reproduces that walk (``coreml_walk``), and also answers the per-path question "does any path from this
layer to the loss pass only through layers that pass gradients?" (``clean_path``) so callers can say when
the two differ. ``trainable_frontier`` and ``blocking_layer`` are what ``make-updatable`` uses to pick or
refuse layers; nothing here imports the CLI.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .coreml import LossKind
from .network import Layer, LayerGraph, trainable_network

# The synthetic loss node used when a caller asks about a loss that is not (yet) in the spec. Its name
# cannot collide with a layer name because a NUL character never appears in a real name.
_PROPOSED_LOSS_NAME = "\0proposed loss"


@dataclass(frozen=True)
class LossNode:
    """A loss layer as Core ML's graph sees it: a node with (at most) one input blob and no outputs."""

    name: str
    kind: LossKind | None  # None for an unset/unknown loss type
    input: str | None  # None for an unknown loss type: Core ML then gives the node no inputs at all
    target: str | None

    @classmethod
    def from_proto(cls, loss) -> LossNode:
        field = loss.WhichOneof("LossLayerType")
        kind = LossKind.from_field(field)
        if kind is None:
            return cls(loss.name, None, None, None)
        params = getattr(loss, field)
        return cls(loss.name, kind, params.input, params.target)

    @classmethod
    def proposed(cls, loss_input: str, loss: LossKind | str = LossKind.CROSS_ENTROPY) -> LossNode:
        """A loss that would read ``loss_input``; ``loss`` is a ``LossKind`` or its name (``"mse"``, …)."""
        return cls(_PROPOSED_LOSS_NAME, LossKind.parse(loss), loss_input, None)


def loss_nodes(network) -> list[LossNode]:
    """The loss layers declared in a network's ``updateParams``, in order."""
    return [LossNode.from_proto(loss) for loss in network.updateParams.lossLayers]


def passes_gradient_from(layer: Layer, child: Layer | LossNode) -> bool:
    """Core ML backpropagates through ``layer`` when reached from ``child`` (softmax only into cross-entropy)."""
    if layer.passes_gradients:
        return True
    return layer.kind == "softmax" and isinstance(child, LossNode) and child.kind is LossKind.CROSS_ENTROPY


def _parents(graph: LayerGraph, node: Layer | LossNode) -> list[Layer]:
    if isinstance(node, LossNode):
        producer = graph.blob_producer.get(node.input) if node.input is not None else None
        return [producer] if producer is not None else []
    return node.producers


@dataclass(frozen=True)
class Discovery:
    """One layer as Core ML's walk first meets it."""

    layer: Layer
    via: Layer | LossNode  # the node whose parent list revealed the layer
    loss: LossNode
    blocked: bool  # Core ML's "non-backpropagable layer seen" flag was already on
    blocker: Layer | None  # the gradient-blocking layer Core ML's message would name (None when not blocked)


@dataclass
class CoreMLWalk:
    """The result of Core ML's breadth-first walk back from the loss layer(s), in its visiting order."""

    graph: LayerGraph
    losses: list[LossNode]
    discoveries: list[Discovery] = field(default_factory=list)

    def __post_init__(self):
        self._by_layer = {id(d.layer): d for d in self.discoveries}

    def discovery(self, layer: Layer) -> Discovery | None:
        """How the walk first met ``layer``; None when the layer is not upstream of any loss."""
        return self._by_layer.get(id(layer))

    def path_to(self, layer: Layer) -> list[Layer]:
        """The walk's route from the loss to ``layer``: the loss's input producer first, ``layer`` last."""
        path = []
        found = self.discovery(layer)
        while found is not None:
            path.append(found.layer)
            found = self.discovery(found.via) if isinstance(found.via, Layer) else None
        return path[::-1]

    @property
    def rejected(self) -> list[Discovery]:
        """Updatable layers Core ML rejects, in the order it would meet them (it reports only the first)."""
        return [d for d in self.discoveries if d.blocked and d.layer.is_updatable]


def coreml_walk(graph: LayerGraph, losses: list[LossNode]) -> CoreMLWalk:
    """Replay Core ML's walk for ``losses`` over ``graph`` without stopping at the first rejection.

    Layer names are assumed unique (Core ML refuses name collisions before it walks).
    """
    visited: set[int] = set()
    discoveries: list[Discovery] = []
    for loss in losses:
        queue: deque = deque([loss])
        blocked = False
        blocker: Layer | None = None
        while queue:
            current = queue.popleft()
            for parent in _parents(graph, current):
                if id(parent) in visited:
                    continue
                visited.add(id(parent))
                queue.append(parent)
                discoveries.append(Discovery(parent, current, loss, blocked, blocker if blocked else None))
                if not passes_gradient_from(parent, current):
                    blocked = True
                    blocker = parent
    return CoreMLWalk(graph, list(losses), discoveries)


def clean_path(graph: LayerGraph, layer: Layer, loss: LossNode) -> list[Layer] | None:
    """A shortest path from ``loss`` back to ``layer`` on which every layer passes gradients, or None.

    This is the per-path truth Core ML's single-flag walk approximates: the layer gets a gradient when such
    a path exists. The path runs from the loss's input producer to ``layer``.
    """
    came_from: dict[int, Layer | LossNode] = {}
    queue: deque = deque([loss])
    seen: set[int] = set()
    while queue:
        current = queue.popleft()
        for parent in _parents(graph, current):
            if id(parent) in seen:
                continue
            seen.add(id(parent))
            came_from[id(parent)] = current
            if parent is layer:
                path = [parent]
                step = current
                while isinstance(step, Layer):
                    path.append(step)
                    step = came_from[id(step)]
                return path[::-1]
            if passes_gradient_from(parent, current):
                queue.append(parent)
    return None


@dataclass(frozen=True)
class LayerTrace:
    """Everything the explainer says about one layer and one loss."""

    layer: Layer
    loss: LossNode
    reachable: bool  # the layer is upstream of the loss (otherwise it can never receive a gradient)
    path: list[Layer]  # Core ML's walk route from the loss's input producer to the layer ([] if unreachable)
    first_blocker: Layer | None  # first layer on ``path`` (from the loss side) that blocks gradients
    coreml_accepts: bool  # Core ML's verdict were this layer updatable
    coreml_blocker: Layer | None  # the layer Core ML's message names when it rejects
    gradient_path: list[Layer] | None  # a path that truly carries a gradient, if any

    @property
    def verdict_differs_from_paths(self) -> bool:
        """Core ML's verdict disagrees with "some path carries a gradient to this layer"."""
        return self.reachable and self.coreml_accepts != (self.gradient_path is not None)


def trace_layer(graph: LayerGraph, layer: Layer, loss: LossNode, walk: CoreMLWalk | None = None) -> LayerTrace:
    """Explain how gradients from ``loss`` reach ``layer`` (``walk`` may be passed to reuse one)."""
    walk = walk if walk is not None else coreml_walk(graph, [loss])
    found = walk.discovery(layer)
    if found is None:
        return LayerTrace(layer, loss, False, [], None, True, None, None)
    path = walk.path_to(layer)
    first_blocker = None
    child: Layer | LossNode = found.loss
    for step in path[:-1]:
        if not passes_gradient_from(step, child):
            first_blocker = step
            break
        child = step
    return LayerTrace(layer, found.loss, True, path, first_blocker, not found.blocked, found.blocker,
                      clean_path(graph, layer, found.loss))


def explain_updatable_layers(spec_or_graph) -> list[LayerTrace]:
    """For each updatable layer of the trainable network: its path from the (first) loss and what blocks it.

    Uses the network's own loss layers; a network without one has nothing to explain (empty list).
    """
    graph = _as_graph(spec_or_graph)
    losses = [loss for loss in loss_nodes(graph.network) if loss.input is not None]
    if not losses:
        return []
    walk = coreml_walk(graph, losses)
    return [trace_layer(graph, layer, losses[0], walk) for layer in graph.layers if layer.is_updatable]


def trainable_frontier(graph_or_spec, loss_input_blob: str, *,
                       loss: LossKind | str = LossKind.CROSS_ENTROPY) -> list[Layer]:
    """Layers that can legally be updatable, together, for a loss reading ``loss_input_blob``.

    ``graph_or_spec`` is a ``LayerGraph`` or a ``Model`` spec (then its trainable network: the root one or a
    pipeline's last stage). ``loss`` is a ``LossKind`` or its name. The result is every layer Core ML accepts
    as updatable (``Layer.can_be_updatable``) that its
    walk from the loss meets before any gradient-blocking layer, in walk order: nearest to the loss first.
    Marking layers updatable never changes the walk, so any subset of the frontier is accepted.
    """
    graph = _as_graph(graph_or_spec)
    proposed = LossNode.proposed(loss_input_blob, loss)
    walk = coreml_walk(graph, [proposed])
    return [d.layer for d in walk.discoveries if not d.blocked and d.layer.can_be_updatable]


def blocking_layer(graph_or_spec, layer: Layer | str, loss_input_blob: str, *,
                   loss: LossKind | str = LossKind.CROSS_ENTROPY) -> Layer | None:
    """The layer to name when refusing to make ``layer`` updatable for this loss, or None if nothing blocks it.

    ``layer`` is a ``Layer`` or a layer name (an unknown name raises ``UsageError`` with suggestions). Returns
    the first gradient-blocking layer on Core ML's route from the loss to ``layer``; when that route is clean
    but Core ML still rejects the layer (its walk had met a blocker on another branch first), the blocker
    Core ML's own message names. Returns None when Core ML accepts the layer, and also when the layer is not
    upstream of the loss at all: check ``layer in trainable_frontier(...)`` to refuse those too.
    """
    graph = _as_graph(graph_or_spec)
    target = graph.layer(layer) if isinstance(layer, str) else layer
    trace = trace_layer(graph, target, LossNode.proposed(loss_input_blob, loss))
    if trace.coreml_accepts:
        return None
    return trace.first_blocker or trace.coreml_blocker


def _as_graph(graph_or_spec) -> LayerGraph:
    if isinstance(graph_or_spec, LayerGraph):
        return graph_or_spec
    return LayerGraph(trainable_network(graph_or_spec))
