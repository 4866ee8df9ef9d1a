"""What every rewrite shares: a ``Match`` (where it applies, or why it cannot), the ``Rewrite`` record, and the
network facts its ``find`` reads (layers, producers, consumers, exact blob shapes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from ...network import LayerGraph, trainable_network
from ...shapes.nd import Shape, blob_shapes
from ..changes import Changes

# Layers that only regroup the elements of their single input, in row-major order, without changing any value.
REGROUPING_KINDS = frozenset({"reshapeStatic", "reshape", "flattenTo2D", "squeeze", "expandDims"})


@dataclass(frozen=True)
class Match:
    """One place a rewrite applies: the layer it is about, and what the rewrite would do or why it cannot."""

    code: str  # the code of the validation rule that reports this rewrite
    layer: str
    fixable: bool
    detail: str


@dataclass(frozen=True)
class Rewrite:
    """A converter-output rewrite: ``find`` lists its matches in a network, ``apply`` carries one out."""

    code: str
    name: str
    find: Callable[["NetworkFacts"], list[Match]]
    apply: Callable[[object, Match], Changes]


class NetworkFacts:
    """The graph of one network plus the exact shape of each blob (``None`` where it cannot be inferred)."""

    def __init__(self, graph: LayerGraph):
        self.graph = graph

    @classmethod
    def of_spec(cls, spec) -> "NetworkFacts":
        return cls(LayerGraph(trainable_network(spec)))

    @cached_property
    def shapes(self) -> dict[str, Shape | None]:
        return blob_shapes(self.graph.model, self.graph.network)

    @property
    def exact_ranks(self) -> bool:
        return self.graph.network.arrayInputShapeMapping == 1

    def shape(self, blob: str) -> Shape | None:
        return self.shapes.get(blob)

    @cached_property
    def writer_counts(self) -> dict[str, int]:
        """How many layers write each blob, counting layers nested in loops and branches."""
        counts: dict[str, int] = {}
        for layer in _all_layers(self.graph.network.layers):
            for blob in layer.output:
                counts[blob] = counts.get(blob, 0) + 1
        return counts

    @cached_property
    def nested_blobs(self) -> frozenset[str]:
        """Blobs read or written inside a loop or branch body (rewriting them would need those bodies too)."""
        names: set[str] = set()
        for layer in self.graph.network.layers:
            for nested in _nested_layers(layer):
                names.update(nested.input)
                names.update(nested.output)
        return frozenset(names)

    def written_once(self, blob: str) -> bool:
        return self.writer_counts.get(blob, 0) <= 1 and blob not in self.nested_blobs


def _nested_layers(layer):
    kind = layer.WhichOneof("layer")
    bodies = []
    if kind == "loop":
        bodies = [layer.loop.conditionNetwork, layer.loop.bodyNetwork]
    elif kind == "branch":
        bodies = [layer.branch.ifBranch, layer.branch.elseBranch]
    for body in bodies:
        yield from _all_layers(body.layers)


def _all_layers(layers):
    for layer in layers:
        yield layer
        yield from _nested_layers(layer)


def unique_name(taken: set[str], wanted: str) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3``… whichever is not yet in ``taken`` (then added to it)."""
    name, suffix = wanted, 2
    while name in taken:
        name, suffix = f"{wanted}_{suffix}", suffix + 1
    taken.add(name)
    return name


def names_in_use(network) -> set[str]:
    taken: set[str] = set()
    for layer in _all_layers(network.layers):
        taken.add(layer.name)
        taken.update(layer.input)
        taken.update(layer.output)
    return taken
