"""What each box of the picture means: a layer's training role, Core ML's backprop route, and folded runs.

Roles, decided with Core ML's own backprop walk (``mlsurgery.backprop.coreml_walk``) from the network's loss
layers — or, for a network that has none yet, from the loss ``make-updatable`` would attach by default:

* ``updatable``: the layer is marked updatable;
* ``trainable``: not marked, but Core ML would accept it as updatable with this loss (its walk reaches it before
  any layer that blocks gradients), so ``make-updatable --layers`` could add it;
* ``blocking``: the layer where Core ML's walk stops passing gradients (the one its "blocked" flag turns on at,
  and any layer Core ML's message names when it rejects an updatable layer);
* ``frozen``: everything else (its weights never change on device).

The route is every layer the walk reaches while gradients still flow, with the edge it came along. Long runs of
consecutive frozen layers (in spec order, which is data-flow order) fold into one box; contracting a run that is
contiguous in a topological order never creates a cycle, so the folded graph is still a DAG.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backprop import LossNode, coreml_walk, loss_nodes, passes_gradient_from
from ..errors import MLSurgeryError
from ..network import Layer, LayerGraph

UPDATABLE, TRAINABLE, BLOCKING, FROZEN = "updatable", "trainable", "blocking", "frozen"
ROLES = (UPDATABLE, TRAINABLE, BLOCKING, FROZEN)

# Runs shorter than this stay unfolded; longer runs fold in pieces of at most FOLD_MAX layers so an opened fold
# is still readable (the 757-layer pose model becomes a chain of folds rather than one box hiding everything).
FOLD_MIN = 6
FOLD_MAX = 80


@dataclass
class NetworkRoles:
    """Roles, the backprop route and the losses of one network."""

    role: dict[int, str]  # layer index → role
    reason: dict[int, str]  # layer index → why it has that role (shown on hover)
    route: set[int] = field(default_factory=set)  # layers gradients flow through (Core ML's walk, unblocked)
    route_edges: set[tuple[int, int | str]] = field(default_factory=set)  # (producer index, consumer index|loss)
    blocked_edges: set[tuple[int, int | str]] = field(default_factory=set)  # where the flow stops
    losses: list[LossNode] = field(default_factory=list)
    proposed_loss: bool = False  # the losses are make-updatable's default, not the spec's


def network_roles(graph: LayerGraph, *, trains: bool) -> NetworkRoles:
    """Roles for ``graph``; ``trains`` is False for a pipeline stage Core ML never trains (not the last one)."""
    losses, proposed = ([], False)
    if trains:
        losses = [loss for loss in loss_nodes(graph.network) if loss.input is not None]
        if not losses and not graph.model.isUpdatable:
            losses, proposed = _proposed_losses(graph), True
    roles = NetworkRoles({layer.index: FROZEN for layer in graph.layers},
                         {layer.index: _frozen_reason(layer, trains) for layer in graph.layers},
                         losses=losses, proposed_loss=proposed)
    for layer in graph.layers:
        if layer.is_updatable:
            roles.role[layer.index] = UPDATABLE
            roles.reason[layer.index] = "marked updatable: Core ML trains its weights on device"
    if not losses:
        return roles
    walk = coreml_walk(graph, losses)
    for found in walk.discoveries:
        layer, via = found.layer, found.via
        target = via.name if isinstance(via, LossNode) else via.index
        if found.blocked:
            if layer.is_updatable and found.blocker is not None:
                roles.reason[layer.index] = (f"marked updatable, but Core ML rejects it: gradients are blocked by "
                                             f"{found.blocker.name!r}")
                _mark_blocking(roles, found.blocker, "Core ML names it when it rejects an updatable layer")
            continue
        if not passes_gradient_from(layer, via):
            roles.blocked_edges.add((layer.index, target))
            _mark_blocking(roles, layer, f"Core ML does not backpropagate through {layer.type_label}: no layer "
                                         "before it can be trained from this loss")
            continue
        roles.route.add(layer.index)
        roles.route_edges.add((layer.index, target))
        if roles.role[layer.index] == FROZEN and layer.can_be_updatable:
            roles.role[layer.index] = TRAINABLE
            roles.reason[layer.index] = "not updatable yet, but gradients from the loss reach it: " \
                                        "make-updatable --layers can add it"
        elif roles.role[layer.index] == FROZEN:
            roles.reason[layer.index] = "no weights Core ML can train; gradients pass through it"
    return roles


def _mark_blocking(roles: NetworkRoles, layer: Layer, reason: str) -> None:
    if roles.role[layer.index] != UPDATABLE:
        roles.role[layer.index] = BLOCKING
        roles.reason[layer.index] = reason


def _proposed_losses(graph: LayerGraph) -> list[LossNode]:
    from ..ops.loss import resolve_loss

    try:
        kind, loss_input = resolve_loss(graph, None, None)
    except MLSurgeryError:
        return []  # no default loss (e.g. several outputs): nothing can be said about trainability
    return [LossNode.proposed(loss_input, kind)]


def _frozen_reason(layer: Layer, trains: bool) -> str:
    if not trains:
        return "in a pipeline stage Core ML does not train (only the last stage can be updatable)"
    if layer.can_be_updatable:
        return "gradients from the loss never reach it"
    return "frozen: Core ML cannot update this kind of layer"


def fold_runs(graph: LayerGraph, roles: NetworkRoles) -> list[list[Layer]]:
    """Runs of consecutive frozen layers off the route to fold, each FOLD_MIN..FOLD_MAX long."""
    runs, current = [], []
    for layer in graph.layers:
        foldable = roles.role[layer.index] == FROZEN and layer.index not in roles.route
        if foldable:
            current.append(layer)
        if not foldable or len(current) == FOLD_MAX:
            if len(current) >= FOLD_MIN:
                runs.append(current)
            current = []
    if len(current) >= FOLD_MIN:
        runs.append(current)
    return runs
