"""What every matcher shares: a ``Match`` (where a rewrite applies, or why it cannot) and the network facts
``find`` reads (layers, producers, consumers, exact blob shapes)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..coreml import CONTROL_FLOW_KINDS, REGROUPING_KINDS, exact_rank_arrays
from ..edit import all_layers, nested_networks
from ..network import LayerGraph, trainable_network
from ..shapes.nd import Shape, blob_shapes


def before_trailing_regrouping(graph: LayerGraph, blob: str) -> str:
    """``blob``, or the blob a chain of reshape-like layers writing it starts from, when a layer writes that one:
    Core ML does not backpropagate through reshapes, and they only regroup the values."""
    current = blob
    producer = graph.blob_producer.get(current)
    while producer is not None and producer.kind in REGROUPING_KINDS and len(producer.inputs) == 1 and (
            producer.inputs[0] in graph.blob_producer):
        current = producer.inputs[0]
        producer = graph.blob_producer.get(current)
    return current


@dataclass(frozen=True)
class Match:
    """One place a rewrite applies: the layer it is about, and what the rewrite would do or why it cannot."""

    code: str  # the code of the validation rule that reports this rewrite
    layer: str
    fixable: bool
    detail: str


class NetworkFacts:
    """The graph of one network plus the exact shape of each blob (``None`` where it cannot be inferred)."""

    def __init__(self, graph: LayerGraph):
        self.graph = graph
        self._reaching: dict[frozenset[str] | tuple[str, ...], list[bool]] = {}  # kinds → by layer index, see ``reaches``

    @classmethod
    def of_spec(cls, spec) -> "NetworkFacts":
        return cls(LayerGraph(trainable_network(spec)))

    @cached_property
    def shapes(self) -> dict[str, Shape | None]:
        return blob_shapes(self.graph.model, self.graph.network)

    @property
    def exact_ranks(self) -> bool:
        return exact_rank_arrays(self.graph.network)

    def shape(self, blob: str) -> Shape | None:
        return self.shapes.get(blob)

    @cached_property
    def _has_control_flow(self) -> bool:
        """Some layer nests networks (most have none, and then the walks below need not look inside layers)."""
        return any(kind in self._layers_by_kind for kind in CONTROL_FLOW_KINDS)

    @cached_property
    def writer_counts(self) -> dict[str, int]:
        """How many layers write each blob, counting layers nested in loops and branches."""
        counts: dict[str, int] = {}
        network = self.graph.network
        for layer in all_layers(network) if self._has_control_flow else network.layers:
            for blob in layer.output:
                counts[blob] = counts.get(blob, 0) + 1
        return counts

    @cached_property
    def nested_blobs(self) -> frozenset[str]:
        """Blobs read or written inside a loop or branch body (rewriting them would need those bodies too)."""
        if not self._has_control_flow:
            return frozenset()
        names: set[str] = set()
        for layer in self.graph.network.layers:
            for nested in nested_networks(layer):
                for inner in all_layers(nested):
                    names.update(inner.input)
                    names.update(inner.output)
        return frozenset(names)

    @cached_property
    def _layers_by_kind(self) -> dict[str, list]:
        index: dict[str, list] = {}
        for layer in self.graph.layers:
            index.setdefault(layer.kind, []).append(layer)
        return index

    def layers_of(self, *kinds: str) -> list:
        """The layers of these kinds in the network's order: a matcher's candidates, found without visiting
        every layer once per matcher (validating a 10,000-layer network runs them all)."""
        found = [layer for kind in kinds for layer in self._layers_by_kind.get(kind, ())]
        return sorted(found, key=lambda layer: layer.index) if len(kinds) > 1 else found

    def trains_upstream(self, layer) -> bool:
        """Some layer a user may train lies upstream of ``layer`` (else opening the gradient path gains nothing)."""
        producer = self.graph.blob_producer
        return self.reaches([producer[blob] for blob in layer.inputs if blob in producer], TRAINABLE_AFTER_FIX)

    def reaches(self, layers: list, kinds: frozenset[str] | tuple[str, ...]) -> bool:
        """One of ``layers``, or a layer upstream of one of them, is of one of ``kinds``."""
        if kinds not in self._reaching:
            # One pass in layer order (a layer's producers come before it) instead of a walk upstream from each
            # candidate, which is quadratic on deep networks (the 757-layer pose model has 280 candidates).
            reach: list[bool] = []
            for layer in self.graph.layers:
                reach.append(layer.kind in kinds or any(reach[p.index] for p in layer.producers))
            self._reaching[kinds] = reach
        reach = self._reaching[kinds]
        return any(reach[layer.index] for layer in layers)

    def written_once(self, blob: str) -> bool:
        return self.writer_counts.get(blob, 0) <= 1 and blob not in self.nested_blobs


# --- what the rewrites into frozen convolutions share ----------------------------------------------------------

# The kinds a user may train (with batchedMatmul, which MLS501 turns into innerProduct): a rewrite that only
# opens the gradient path is worth making when one of them lies upstream.
TRAINABLE_AFTER_FIX = frozenset({"convolution", "innerProduct", "uniDirectionalLSTM", "batchedMatmul"})


def channels_of(facts: NetworkFacts, blob: str) -> tuple[int | None, str]:
    """The channel count of ``blob`` as a convolution sees it (axis -3), or ``None`` and why not.

    A rank-5 (legacy) network's blobs are ``[S, B, C, H, W]``; in an exact-rank network a convolution needs a
    rank-4 or rank-5 ``[..., C, H, W]`` input (NeuralNetwork.proto, ConvolutionLayerParams)."""
    shape = facts.shape(blob)
    if shape is None:
        return None, f"the shape of {blob!r} cannot be inferred"
    if facts.exact_ranks and len(shape) < 4:
        return None, f"{blob!r} has rank {len(shape)}, and a convolution needs a rank-4 or rank-5 input"
    return int(shape[-3]), ""
