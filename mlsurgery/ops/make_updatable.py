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
from ..rewrite_matches.base import TRAINABLE_AFTER_FIX
from .changes import Changes
from .glm_head import glm_head_stage_path, replace_glm_head
from .loss import PER_PIXEL_SOFTMAX_NOTE, fix_hint, per_pixel_softmax, resolve_loss, set_loss
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
                   allow_blocked: bool = False, fix: bool = False, prove=None, keep_precision: bool = False,
                   measure=None) -> Changes:
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
    (``mlsurgery.ops.fix``) that lie between those layers and the loss, each proven by ``prove`` (the jobs pass the
    engine's ``mlsurgery.engine.proof.prove_with_engine``); it also widens fp16 weights, dequantizes the layers
    ``auto`` picks, and trains a per-pixel softmax's logits with MSE against a one-hot target. Layers a rewrite
    inserted (frozen convolutions standing for an affine, an upsample…) are never picked by ``auto`` unless
    nothing else can train.
    """
    changes = Changes("make-updatable")
    if glm_head_stage_path(spec) is not None:
        # Create ML classifiers end in a GLM, which Core ML cannot train; its network equivalent it can.
        changes.extend(replace_glm_head(spec))
    if list(layers) == [MARKED]:
        layers = _marked_layers(LayerGraph.trainable(spec))
    if keep_precision and (fp16_layers(spec) or _quantized_trainable_kinds(spec)):
        changes.extend(_split_off_reduced_precision(spec, layers, depth=depth, loss=loss, loss_input=loss_input,
                                                    fix=fix, measure=measure))
    changes.extend(_fix_precision(spec, layers, to_fp32=to_fp32 or fix, dequantize=dequantize, by_fix=fix))
    refusals, inserted = None, frozenset()
    if fix:
        if prove is None:
            raise UsageError("--fix proves each rewrite by running the model: pass prove= (the jobs pass "
                             "mlsurgery.engine.proof.prove_with_engine)")
        changes.extend(_dequantize_rewritable(spec))
        kinds_before = {layer.name: layer.kind for layer in LayerGraph.trainable(spec).layers}
        fixed, refusals = _fix_for(spec, layers, loss, loss_input, prove)
        changes.extend(fixed)
        inserted = _inserted_trainable_kinds(LayerGraph.trainable(spec), kinds_before)
    graph = LayerGraph.trainable(spec)
    target_description = ""
    if fix and loss_input is None and LossKind.parse(loss or "mse") is LossKind.MSE and not graph.is_classifier \
            and len(graph.output_names) == 1 and (softmax := per_pixel_softmax(graph, graph.output_names[0])):
        loss, loss_input = LossKind.MSE, softmax.inputs[0]
        target_description = (f"one-hot, shaped like {loss_input!r}: 1 in the channel of each pixel's class, 0 in "
                              f"the others (MSE on the logits before softmax {softmax.name!r})")
        changes.add(f"loss input {loss_input}", f"--fix: {PER_PIXEL_SOFTMAX_NOTE}: training MSE on {loss_input!r}, "
                                                f"the input of softmax {softmax.name!r}, target {loss_input}_true")
    # What to add when gradients cannot reach: the rewrites --fix would apply, or why --fix did not apply them.
    hint = fix_hint(graph) if refusals is None else "".join(
        f"; --fix could not rewrite {match.layer!r} ({match.code}): {why}" for match, why in refusals[:2])
    kind, loss_input = resolve_loss(graph, loss, loss_input)
    if fix:
        hint += _unfixable_hint(graph, kind, loss_input)
    if fix and list(layers) == [AUTO] and quantized_layers(spec):
        changes.extend(_dequantize_for_auto(spec, kind, loss_input, depth, inserted))
        graph = LayerGraph.trainable(spec)
    if list(layers) == [AUTO]:
        layers = _auto_layers(graph, kind, loss_input, depth, hint, avoid=inserted)
        changes.add("layers", _why_chosen(graph, layers, kind, loss_input, inserted))
    elif not allow_blocked:
        for name in layers:
            _refuse_if_gradients_cannot_reach(graph, name, kind, loss_input, hint)
    changes.extend(mark_updatable(spec, layers))
    changes.extend(set_loss(spec, kind, loss_input, target_shape=target_shape,
                            target_description=target_description, measure=measure))
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


def _inserted_trainable_kinds(graph: LayerGraph, kinds_before: dict[str, str]) -> frozenset[str]:
    """Layers that a rewrite made (or turned into) a trainable kind, other than a converter's dense layer
    (batchedMatMul → innerProduct, which the user does want trained): the frozen stand-ins for an affine, a
    constant, a sum or an upsample, which only carry gradients."""
    return frozenset(layer.name for layer in graph.layers if layer.kind in UPDATABLE_LAYER_KINDS
                     and kinds_before.get(layer.name) not in (*UPDATABLE_LAYER_KINDS, "batchedMatmul"))


def _fix_for(spec, layers: list[str], loss, loss_input: str | None, prove):
    """The rewrites needed to train ``layers`` from the loss: those on layers between them and the loss input
    (or the model outputs), and only when, applied, they change which layers can train (proofs run the model,
    which is slow for large ones). A loss of the spec is replaced anyway, so moving it (MLS504) is not needed."""
    import copy

    from .fix import Proof, fix
    from ..rewrite_matches import loss_input as loss_input_matches

    def wanted(facts, match) -> bool:
        graph = facts.graph
        if match.code == loss_input_matches.CODE or not graph.has_layer(match.layer):
            return False
        # A classifier's outputs are not layer blobs: its probabilities blob is where the loss attaches.
        anchor_blobs = [loss_input] if loss_input else [*graph.output_names, graph.probabilities_blob()]
        anchors = [graph.blob_producer[blob] for blob in anchor_blobs if blob in graph.blob_producer]
        layer = graph.layer(match.layer)
        if not any(layer is anchor for anchor in anchors) and layer not in ancestors(anchors):
            return False
        if list(layers) == [AUTO]:
            chosen = [candidate for candidate in graph.layers if candidate.kind in TRAINABLE_AFTER_FIX]
        else:
            chosen = [graph.layer(name) for name in layers if graph.has_layer(name)]
        upstream = [layer, *ancestors([layer])]
        return any(candidate in upstream for candidate in chosen)

    if not _blockers_fixable(spec, loss, loss_input):
        return Changes("fix"), []
    unproven = copy.deepcopy(spec)
    fix(unproven, wanted=wanted, prove=lambda before, after: Proof(True, "a preview, never saved"))
    if _training_outlook(unproven, loss, loss_input) == _training_outlook(spec, loss, loss_input):
        return Changes("fix"), []
    result = fix(spec, wanted=wanted, prove=prove)
    changes = Changes("fix")
    changes.extend(result.changes)
    for match, why in result.refused:
        changes.add(f"layer {match.layer}", f"not rewritten ({match.code}): {why}")
    return changes, result.refused


def _blockers_fixable(spec, loss, loss_input) -> bool:
    """Whether some layer that stops the gradients from the (default) loss has a fixable rewrite; when none has,
    rewriting layers behind them cannot change what trains, and the preview (slow on large models) is skipped.
    A loss that cannot be resolved yet (e.g. a per-pixel softmax) says yes: the rewrites may be what it needs."""
    from ..rewrite_matches import NetworkFacts, find_matches

    graph = LayerGraph.trainable(spec)
    try:
        kind, blob = resolve_loss(graph, loss, loss_input)
    except MLSurgeryError:
        return True
    producer = graph.blob_producer.get(blob)
    if producer is None:
        return True
    # The first layer on each path from the loss that stops gradients (a softmax feeding cross-entropy passes).
    blockers, seen, queue = set(), {id(producer)}, [producer]
    while queue:
        layer = queue.pop()
        passes = layer.passes_gradients or (layer is producer and layer.kind == "softmax"
                                            and kind is LossKind.CROSS_ENTROPY)
        if not passes:
            blockers.add(layer.name)
            continue
        for parent in layer.producers:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    if not blockers:
        return True
    return any(match.fixable and match.layer in blockers for match in find_matches(NetworkFacts(graph)))


def _training_outlook(spec, loss, loss_input):
    """The default loss and the layers gradients reach from it: what a rewrite must change to be worth proving."""
    try:
        graph = LayerGraph.trainable(spec)
        kind, blob = resolve_loss(graph, loss, loss_input)
        return kind, blob, tuple(layer.name for layer in trainable_frontier(graph, blob, loss=kind))
    except MLSurgeryError as refused:
        return str(refused)


def _fix_precision(spec, layers: list[str], *, to_fp32: bool, dequantize: bool, by_fix: bool = False) -> Changes:
    changes = Changes("precision")
    half = fp16_layers(spec)
    if half and by_fix:
        changes.add("precision", f"--fix: layers {_names(half)} hold fp16 weights, and Core ML compiles such a "
                                 "network to full FP16, which cannot be trained (coremltools #604): widening them "
                                 "to fp32 (--keep-precision would split a frozen fp16 backbone off instead)")
    if half and not to_fp32:
        raise SurgeryError(
            f"layers {_names(half)} hold fp16 weights: Core ML compiles such a network to full FP16, which cannot "
            "be trained (coremltools issue #604); pass --to-fp32 to widen them, or split the model into a "
            "pipeline whose last, updatable stage is fp32")
    if half:
        changes.extend(convert_fp16_to_fp32(spec))
        if by_fix:
            changes.add("model", f"now {spec.ByteSize() / 2**20:.1f} MiB")
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


def _auto_layers(graph: LayerGraph, kind: LossKind, loss_input: str, depth: int, hint: str = "",
                 avoid: frozenset[str] = frozenset()) -> list[str]:
    """The ``depth`` trainable layers nearest the loss, preferring those whose gradients cross no batchnorm and
    that no rewrite inserted (``avoid``).

    Core ML's validator lets gradients through batchnorm, but the device then fails to compile the training
    graph (rule MLS903, coremltools issue #492), so layers behind one are taken only when nothing else can train;
    likewise the frozen convolutions a rewrite put in place of an affine or an upsample.
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
    own = [layer for layer in frontier if layer.name not in avoid] or frontier
    clear = [layer for layer in own if id(layer) not in behind_batchnorm]
    return [layer.name for layer in (clear or own)[:depth]]


def _why_chosen(graph: LayerGraph, chosen: list[str], kind: LossKind, loss_input: str,
                inserted: frozenset[str]) -> str:
    """One line: which layers ``auto`` chose and why (nearest the loss; what it passed over)."""
    frontier = [layer.name for layer in trainable_frontier(graph, loss_input, loss=kind)]
    skipped = [name for name in frontier[:frontier.index(chosen[-1])] if name not in chosen] if chosen[-1] in \
        frontier else []
    reason = f"auto: {_names(chosen)}, the trainable layer{'s' if len(chosen) > 1 else ''} nearest the {kind} loss " \
             f"on {loss_input!r}"
    passed = [name for name in skipped if name in inserted]
    if passed:
        reason += f"; passed over {_names(passed)}, inserted by --fix only to carry gradients (kept frozen)"
    others = [name for name in skipped if name not in inserted]
    if others:
        reason += f"; passed over {_names(others)}, behind a batchnorm the device cannot train through (MLS903)"
    return reason


def _quantized_trainable_kinds(spec) -> list[str]:
    graph = LayerGraph.trainable(spec)
    return [name for name in quantized_layers(spec) if graph.layer(name).kind in UPDATABLE_LAYER_KINDS]


def _split_off_reduced_precision(spec, layers: list[str], *, depth: int, loss, loss_input, fix: bool,
                                 measure) -> Changes:
    """--keep-precision: split the network before the first layer to train, so the fp16 or quantized backbone
    stays as it is in a frozen first stage and the head (widened to fp32 by split) is what Core ML trains.

    Which layers to train is found on an fp32 preview (rewrites taken as proven: only the names are used)."""
    import copy

    from .fix import Proof
    from .split import split_network

    preview = copy.deepcopy(spec)
    if fp16_layers(preview):
        convert_fp16_to_fp32(preview)
    if quantized := _quantized_trainable_kinds(preview):
        dequantize_layers(preview, quantized)
    make_updatable(preview, layers, depth=depth, loss=loss, loss_input=loss_input, fix=fix,
                   prove=lambda before, after: Proof(True, "a preview, never saved"))
    graph = LayerGraph.trainable(preview)
    chosen = [layer for layer in graph.layers if layer.is_updatable]
    first = chosen[0]
    if len(first.inputs) != 1 or first.inputs[0] not in LayerGraph.trainable(spec).blob_producer:
        raise SurgeryError(f"--keep-precision: {first.name!r}, the first layer to train, does not read one blob a "
                           "layer computes, so there is no place to split the frozen backbone off; use --fix "
                           "(widen to fp32) instead")
    changes = Changes("split")
    changes.add("precision", f"--keep-precision: the layers before {first.name!r} keep their weights as they are, "
                             f"in a frozen first stage; {first.name!r} and the layers after it become an fp32 head")
    changes.extend(split_network(spec, first.inputs[0], measure=measure))
    return changes


_REWRITTEN_WITH_PARAMETERS = ("scale", "bias", "loadConstant", "loadConstantND")


def _dequantize_rewritable(spec) -> Changes:
    """With --fix: expand the (per-channel, tiny) quantized parameters of the scale, bias and constant layers a
    rewrite may turn into a convolution, which reads fp32 values."""
    graph = LayerGraph.trainable(spec)
    wanted = [name for name in quantized_layers(spec) if graph.layer(name).kind in _REWRITTEN_WITH_PARAMETERS]
    changes = Changes("precision")
    if wanted:
        changes.extend(dequantize_layers(spec, wanted))
    return changes


def _dequantize_for_auto(spec, kind: LossKind, loss_input: str, depth: int, inserted) -> Changes:
    """With --fix and --layers auto: expand the quantized weights of the layers auto would pick (were they fp32)
    and of the quantized layers between them and the loss, so Core ML can update them."""
    import copy

    preview = copy.deepcopy(spec)
    graph = LayerGraph.trainable(preview)
    dequantize_layers(preview, [name for name in quantized_layers(preview)
                                if graph.layer(name).kind in UPDATABLE_LAYER_KINDS])
    graph = LayerGraph.trainable(preview)
    try:
        chosen = _auto_layers(graph, kind, loss_input, depth, avoid=inserted)
    except MLSurgeryError:
        return Changes("precision")
    producer = graph.blob_producer[loss_input]
    on_path = [layer.name for layer in [producer, *ancestors([producer])]
               if any(candidate.name in chosen for candidate in [layer, *ancestors([layer])])]
    wanted = quantized_layers(spec, sorted(set(chosen) | set(on_path)))
    changes = Changes("precision")
    if wanted:
        changes.add("precision", f"--fix: {_names(wanted)} hold quantized weights, which Core ML cannot update "
                                 "or backpropagate through: expanding them to fp32")
        changes.extend(dequantize_layers(spec, wanted))
    return changes


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
        per_pixel = per_pixel_softmax(graph, loss_input)
        for blob in first_blocker.inputs:
            if blob in graph.blob_producer and trainable_frontier(graph, blob, loss=LossKind.MSE):
                if per_pixel is not None and per_pixel.name == first_blocker.name:
                    return (f"{PER_PIXEL_SOFTMAX_NOTE} (--fix trains it so: --loss-input {blob}, a one-hot "
                            f"target {blob}_true)")
                return (f"attach the loss to blob {blob!r} before {first_blocker.name!r} "
                        f"({first_blocker.type_label}) instead (--loss-input {blob})")
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


def _unfixable_hint(graph: LayerGraph, kind: LossKind, loss_input: str) -> str:
    """``; --fix cannot rewrite …: why`` for the layer that stops the gradients, when a rewrite knows it."""
    from ..rewrite_matches import NetworkFacts, find_matches

    blocker = _first_blocker(graph, kind, loss_input)
    if blocker is None:
        return ""
    why = [match for match in find_matches(NetworkFacts(graph)) if match.layer == blocker.name and not match.fixable]
    return f"; --fix cannot rewrite {blocker.name!r} ({why[0].code}): {why[0].detail}" if why else ""


def _first_blocker(graph: LayerGraph, kind: LossKind, loss_input: str):
    from ..backprop import LossNode, coreml_walk

    walk = coreml_walk(graph, [LossNode.proposed(loss_input, kind)])
    blocked = [d for d in walk.discoveries if d.blocked]
    if blocked:
        return blocked[0].blocker
    return next((d.layer for d in walk.discoveries if not d.layer.passes_gradients), None)
