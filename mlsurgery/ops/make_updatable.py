"""The whole ``make-updatable`` job: updatable layers, loss, training inputs, optimizer, epochs, shuffle.

Each step is its own operation (``mark_updatable``, ``set_loss``, ``set_optimizer``, ``set_epochs``,
``set_shuffle``); this module runs them in order and replaces, never accumulates, what an earlier run set, so
running it on its own output changes nothing. Before changing anything it checks, with Core ML's own
backpropagation walk, that gradients from the loss reach every chosen layer, and says what to do if not.
"""

from __future__ import annotations

from ..backprop import blocking_layer, trainable_frontier
from ..coreml import UPDATABLE_LAYER_KINDS, LossKind
from ..errors import InvalidModelError, MLSurgeryError, SurgeryError, UsageError
from ..network import LayerGraph, ancestors
from .changes import Changes
from .glm_head import glm_head_stage_path, replace_glm_head
from .loss import fix_hint, resolve_loss, set_loss
from .mark_updatable import mark_updatable
from .precision import convert_fp16_to_fp32, dequantize_layers, fp16_layers, quantized_layers
from .update_parameters import EpochSettings, OptimizerSettings, set_epochs, set_optimizer, set_shuffle

AUTO = "auto"
MARKED = "marked"


def make_updatable(spec, layers: list[str], *, depth: int = 1, loss: LossKind | str | None = None,
                   loss_input: str | None = None, target_shape: list[int] | None = None,
                   optimizer: OptimizerSettings = OptimizerSettings(),
                   epochs: EpochSettings = EpochSettings(), shuffle: bool = True,
                   seed: int | None = None, to_fp32: bool = False, dequantize: bool = False,
                   allow_blocked: bool = False, fix: bool = False) -> Changes:
    """Prepare ``spec`` (in place) so Core ML can train ``layers`` on device; returns what changed.

    A pipeline ending in a GLM classifier (Create ML) first gets it replaced by the equivalent network
    classifier (``mlsurgery.ops.glm_head``). ``layers == ["auto"]`` picks the ``depth`` trainable layers nearest
    to the loss. This does not run the full
    validator: call ``mlsurgery.validate.validate_spec`` on the result (the CLI refuses to write a model Core ML
    would reject). ``to_fp32`` widens the network's fp16 weights and ``dequantize`` expands the chosen layers'
    quantized weights; without them such networks are refused with that hint. ``allow_blocked`` skips the
    refusal of layers gradients cannot reach (for ``--force``: the validator still reports them).
    ``layers == ["marked"]`` keeps the layers already marked updatable (a half-done model: the old Keras
    converter's ``respect_trainable``) and completes the rest. ``fix`` first applies the converter-output rewrites
    (``mlsurgery.ops.fix``) that lie between those layers and the loss, each proven by the engine.
    """
    changes = Changes("make-updatable")
    if glm_head_stage_path(spec) is not None:
        # Create ML classifiers end in a GLM, which Core ML cannot train; its network equivalent it can.
        changes.extend(replace_glm_head(spec))
    if list(layers) == [MARKED]:
        layers = _marked_layers(LayerGraph.trainable(spec))
    changes.extend(_fix_precision(spec, layers, to_fp32=to_fp32, dequantize=dequantize))
    refusals = None
    if fix:
        fixed, refusals = _fix_for(spec, layers, loss, loss_input)
        changes.extend(fixed)
    graph = LayerGraph.trainable(spec)
    # What to add when gradients cannot reach: the rewrites --fix would apply, or why --fix did not apply them.
    hint = fix_hint(graph) if refusals is None else "".join(
        f"; --fix could not rewrite {match.layer!r} ({match.code}): {why}" for match, why in refusals[:2])
    kind, loss_input = resolve_loss(graph, loss, loss_input)
    if list(layers) == [AUTO]:
        layers = _auto_layers(graph, kind, loss_input, depth, hint)
    elif not allow_blocked:
        for name in layers:
            _refuse_if_gradients_cannot_reach(graph, name, kind, loss_input, hint)
    changes.extend(mark_updatable(spec, layers))
    changes.extend(set_loss(spec, kind, loss_input, target_shape=target_shape))
    changes.extend(set_optimizer(spec, optimizer))
    changes.extend(set_epochs(spec, epochs))
    changes.extend(set_shuffle(spec, shuffle, seed))
    return changes


def _marked_layers(graph: LayerGraph) -> list[str]:
    marked = [layer.name for layer in graph.layers if layer.is_updatable]
    if not marked:
        raise UsageError("--layers marked: no layer of the network is marked updatable; name the layers to train "
                         "or use --layers auto")
    return marked


# The layer kinds a user may want trained, counting those a rewrite turns into one (batchedMatMul).
_TRAINABLE_AFTER_FIX = frozenset(UPDATABLE_LAYER_KINDS) | {"batchedMatmul"}


def _fix_for(spec, layers: list[str], loss, loss_input: str | None):
    """The rewrites needed to train ``layers`` from the loss: those on layers between them and the loss input
    (or the model outputs), and only when, applied, they change which layers can train (proofs run the model,
    which is slow for large ones). A loss of the spec is replaced anyway, so moving it (MLS504) is not needed."""
    import copy

    from .fix import Proof, fix
    from .rewrites import loss_input as loss_input_rewrite

    def wanted(facts, match) -> bool:
        graph = facts.graph
        if match.code == loss_input_rewrite.CODE or not graph.has_layer(match.layer):
            return False
        anchor_blobs = [loss_input] if loss_input else graph.output_names
        anchors = [graph.blob_producer[blob] for blob in anchor_blobs if blob in graph.blob_producer]
        layer = graph.layer(match.layer)
        if not any(layer is anchor for anchor in anchors) and layer not in ancestors(anchors):
            return False
        if list(layers) == [AUTO]:
            chosen = [candidate for candidate in graph.layers if candidate.kind in _TRAINABLE_AFTER_FIX]
        else:
            chosen = [graph.layer(name) for name in layers if graph.has_layer(name)]
        upstream = [layer, *ancestors([layer])]
        return any(candidate in upstream for candidate in chosen)

    unproven = copy.deepcopy(spec)
    fix(unproven, wanted=wanted, prove=lambda before, after: Proof(True, "a preview, never saved"))
    if _training_outlook(unproven, loss, loss_input) == _training_outlook(spec, loss, loss_input):
        return Changes("fix"), []
    result = fix(spec, wanted=wanted)
    changes = Changes("fix")
    changes.extend(result.changes)
    for match, why in result.refused:
        changes.add(f"layer {match.layer}", f"not rewritten ({match.code}): {why}")
    return changes, result.refused


def _training_outlook(spec, loss, loss_input):
    """The default loss and the layers gradients reach from it: what a rewrite must change to be worth proving."""
    try:
        graph = LayerGraph.trainable(spec)
        kind, blob = resolve_loss(graph, loss, loss_input)
        return kind, blob, tuple(layer.name for layer in trainable_frontier(graph, blob, loss=kind))
    except MLSurgeryError as refused:
        return str(refused)


def _fix_precision(spec, layers: list[str], *, to_fp32: bool, dequantize: bool) -> Changes:
    changes = Changes("precision")
    half = fp16_layers(spec)
    if half and not to_fp32:
        raise SurgeryError(
            f"layers {_names(half)} hold fp16 weights: Core ML compiles such a network to full FP16, which cannot "
            "be trained (coremltools issue #604); pass --to-fp32 to widen them, or split the model into a "
            "pipeline whose last, updatable stage is fp32")
    if half:
        changes.extend(convert_fp16_to_fp32(spec))
    if dequantize:
        if list(layers) == [AUTO]:
            raise SurgeryError("--dequantize needs the layers named explicitly, not --layers auto")
        changes.extend(dequantize_layers(spec, layers))
    elif list(layers) != [AUTO] and (quantized := quantized_layers(spec, layers)):
        raise SurgeryError(f"layers {_names(quantized)} have quantized weights, which Core ML cannot update; "
                           "pass --dequantize to expand them to fp32")
    return changes


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _auto_layers(graph: LayerGraph, kind: LossKind, loss_input: str, depth: int, hint: str = "") -> list[str]:
    """The ``depth`` trainable layers nearest the loss, preferring those whose gradients cross no batchnorm.

    Core ML's validator lets gradients through batchnorm, but the device then fails to compile the training
    graph (rule MLS903, coremltools issue #492), so layers behind one are taken only when nothing else can train.
    """
    if depth < 1:
        raise UsageError(f"--depth must be at least 1, not {depth}")
    frontier = trainable_frontier(graph, loss_input, loss=kind)
    if not frontier:
        raise InvalidModelError(f"no layer can be trained from a {kind} loss on {loss_input!r}: "
                                f"{_blocked_hint(graph, kind, loss_input)}{hint}")
    loss_producer = graph.blob_producer[loss_input]
    batchnorms = [layer for layer in [loss_producer, *ancestors([loss_producer])] if layer.kind == "batchnorm"]
    behind_batchnorm = {id(layer) for layer in ancestors(batchnorms)}
    clear = [layer for layer in frontier if id(layer) not in behind_batchnorm]
    return [layer.name for layer in (clear or frontier)[:depth]]


def _refuse_if_gradients_cannot_reach(graph: LayerGraph, name: str, kind: LossKind, loss_input: str,
                                      hint: str = "") -> None:
    layer = graph.layer(name)
    blocker = blocking_layer(graph, layer, loss_input, loss=kind)
    if blocker is not None:
        # Core ML's validator rejects exactly this, so it is an invalid-model refusal (exit 1), said up front.
        raise InvalidModelError(
            f"cannot train {name!r} from the loss on {loss_input!r}: Core ML does not backpropagate through "
            f"{blocker.name!r} ({blocker.type_label}); {_blocked_hint(graph, kind, loss_input, blocker)}{hint}")
    if layer.can_be_updatable and layer not in trainable_frontier(graph, loss_input, loss=kind):
        raise SurgeryError(f"cannot train {name!r}: it does not feed the loss input {loss_input!r}, so it would "
                           "never receive a gradient; choose layers upstream of the loss or another --loss-input")


def _blocked_hint(graph: LayerGraph, kind: LossKind, loss_input: str, blocker=None) -> str:
    frontier = [layer.name for layer in trainable_frontier(graph, loss_input, loss=kind)]
    if frontier:
        return f"layers it can train from this loss: {', '.join(frontier)} (or --layers auto)"
    if kind is LossKind.MSE:
        # An MSE loss may read any blob, so offer the blob just before the layer that stops the gradients.
        first_blocker = blocker or graph.blob_producer[loss_input]
        for blob in first_blocker.inputs:
            if blob in graph.blob_producer and trainable_frontier(graph, blob, loss=LossKind.MSE):
                return (f"attach the loss to blob {blob!r} before {first_blocker.name!r} instead "
                        f"(--loss-input {blob})")
    first_blocker = blocker or _first_blocker(graph, kind, loss_input)
    if first_blocker is None:
        return "no layer upstream of the loss can be trained"
    hint = (f"Core ML does not backpropagate through {first_blocker.name!r} ({first_blocker.type_label}), and no "
            "layer Core ML can train lies between it and the loss")
    quantized = [producer for producer in first_blocker.producers
                 if producer.kind in ("convolution", "innerProduct") and producer.is_quantized]
    if quantized and kind is LossKind.MSE:
        layer = quantized[0]
        hint += (f"; {layer.name!r} before it has quantized weights: train it with --loss-input "
                 f"{layer.outputs[0]} --layers {layer.name} --dequantize")
    return hint


def _first_blocker(graph: LayerGraph, kind: LossKind, loss_input: str):
    from ..backprop import LossNode, coreml_walk

    walk = coreml_walk(graph, [LossNode.proposed(loss_input, kind)])
    blocked = [d for d in walk.discoveries if d.blocked]
    if blocked:
        return blocked[0].blocker
    return next((d.layer for d in walk.discoveries if not d.layer.passes_gradients), None)
