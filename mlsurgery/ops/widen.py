"""Widen a classifier layer: more output channels, more class labels, everything downstream kept consistent.

New output channels are appended after the old ones: Core ML stores innerProduct weights [out, in] and
convolution weights [out, kernelChannels, kh, kw] row-major, so the new rows go at the end and the old rows are
never rewritten (they stay bit-identical). Layers that read the widened blob are adapted so the old part of
the network computes exactly what it computed before:

- activations, pooling, softmax, unary, upsample and padding work per channel and pass the new channels on;
- batchnorm gets identity statistics for the new channels (gamma 1, beta 0, mean 0, variance 1);
- per-channel scale / bias layers get scale 1 / bias 0;
- flatten passes them on (innerProduct downstream finds them after the old features for CHANNEL_FIRST, and
  interleaved per position for CHANNEL_LAST);
- a concat passes them on when the widened blob is its last input (the new channels stay at the end);
- a following innerProduct or convolution gets zero weights for the new inputs, so its outputs are unchanged
  and the widening stops there;
- a model output fed by the blob gets its multiArray shape widened, and the class probabilities get new labels.

Any other reader refuses the whole operation, naming the layer, before anything is changed.

About ``init``: with zero weights and zero bias (the article's approach) a new class's logit is 0, so the
softmax probabilities of the old classes *do* change. ``preserve`` gives the new rows zero weights and the bias
``PRESERVE_BIAS`` = -1000, so every new logit is exactly -1000 for every (finite) input. Guarantee, given the
old logits z: for any input whose largest old logit m exceeds -1000 + 104 = -896, exp(-1000 - m) is below half
the smallest float32 subnormal (e^-103.97) and rounds to exactly 0, so a softmax computed in float32 as
exp(z - max z) / Σ exp(z - max z) gives every old class bit-for-bit the probability the original head gave it,
and every new class exactly 0. In float16 (Core ML on GPU / Neural Engine) the same holds for m > -982; in
float64 the new terms vanish for m > -254 and otherwise stay below e^-745 relative, far under float64 rounding.
The old logits themselves come from bit-identical weights; an engine that computes a wider layer with another
matrix kernel may round them differently by a few float32 ulps, and only by that. The bias is finite (exact in
float16) and the weights zero, so training still gets non-zero gradients for the new rows and can raise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SurgeryError, UsageError
from ..network import Layer, LayerGraph, weight_count, weight_storage
from ..weights import append_values, float_values, set_float_values
from .changes import Changes
from .inits import WIDEN_INITS
from .reinit import layer_geometry, uniform_fill

PRESERVE_BIAS = -1000.0

# Layers that compute each channel from that channel alone, so new channels pass through them unchanged in kind.
_PER_CHANNEL_KINDS = frozenset({"pooling", "softmax", "unary", "upsample", "padding"})
_PARAMETRIC_ACTIVATIONS = {"PReLU": ("alpha",), "parametricSoftplus": ("alpha", "beta")}
_FLATTEN_ORDERS = {0: "CHANNEL_FIRST", 1: "CHANNEL_LAST"}


@dataclass(frozen=True)
class _Widening:
    """How a blob grew: ``added`` channels appended after ``channels`` old ones (None when not known here)."""

    added: int
    channels: int | None
    flatten_order: str | None = None  # set once the C × H × W blob has been flattened


@dataclass
class _Plan:
    """Edits decided while checking the graph, applied only once every reader is known to be adaptable."""

    changes: Changes
    edits: list = field(default_factory=list)

    def edit(self, target: str, detail: str, action) -> None:
        self.edits.append(action)
        self.changes.add(target, detail)


def widen_classifier(spec, layer: str, num_classes: int, *, labels: list[str] | None = None,
                     label_prefix: str | None = None, init: str = "zeros",
                     rng: np.random.Generator | None = None) -> Changes:
    """Give innerProduct or convolution ``layer`` ``num_classes`` outputs (see the module doc for all effects).

    ``labels`` names the new classes only (``num_classes`` minus the current count of them); without it string
    labels are ``<label_prefix><n>`` (prefix ``user``), numbered after the highest such label already present,
    and int64 labels continue after the largest existing one. ``rng`` is required for ``init="kaiming"``:
    new weights ~ U(±√(6/fan_in)), new biases ~ U(±1/√fan_in).
    """
    if init not in WIDEN_INITS:
        raise UsageError(f"unknown init {init!r}; choose one of {', '.join(WIDEN_INITS)}")
    if init == "kaiming" and rng is None:
        raise UsageError("init 'kaiming' draws random weights: pass a numpy Generator (the CLI: --seed N)")
    if labels is not None and label_prefix is not None:
        raise UsageError("give either --labels or --label-prefix, not both")
    graph = LayerGraph.trainable(spec)
    target = graph.layer(layer)
    geometry = layer_geometry(target, "widen")
    params = target.params
    old = params.outputChannels
    _check_widenable(target, params, old, num_classes)
    added = num_classes - old
    plan = _Plan(Changes("widen"))
    reaches_labels = _plan_readers(graph, target, _Widening(added, old), plan)
    if not reaches_labels and (labels is not None or label_prefix is not None):
        raise UsageError(f"layer {layer!r} does not produce the class probabilities, so it has no labels to extend; "
                         "drop --labels / --label-prefix")
    if reaches_labels:
        _plan_labels(graph, added, labels, label_prefix, plan)

    changes = Changes("widen")
    where = f"layer {target.name}"
    row_size = geometry.weight_count // old
    rows, row_bias, described = _new_rows(init, added, geometry.fan_in, row_size, rng)
    append_values(params.weights, rows)
    params.outputChannels = num_classes
    changes.add(where, f"outputChannels {old} → {num_classes}: {added} rows of {row_size:,} weights appended "
                       f"({described})")
    if params.hasBias:
        append_values(params.bias, row_bias)
        changes.add(where, f"bias: {added} values appended")
    elif init == "preserve":
        _set_like(params.bias, np.concatenate([np.zeros(old, np.float32), row_bias]), weight_storage(params.weights))
        params.hasBias = True
        changes.add(where, f"bias added: 0 for the {old} old classes, {PRESERVE_BIAS:g} for the new ones")
    for action in plan.edits:
        action()
    changes.extend(plan.changes)
    return changes


def _check_widenable(target: Layer, params, old: int, num_classes: int) -> None:
    name = target.name
    if not target.outputs:
        raise SurgeryError(f"layer {name!r} writes no blob, so nothing reads its outputs; Core ML rejects such a "
                           "layer: give it an output before widening it")
    if target.kind == "convolution" and (params.nGroups or 1) != 1:
        raise SurgeryError(f"layer {name!r} is a grouped convolution (nGroups {params.nGroups}); widen needs "
                           "nGroups 1, since new output channels would change every group")
    for part in ("weights", "bias") if params.hasBias else ("weights",):
        storage = weight_storage(getattr(params, part))
        if storage not in ("fp32", "fp16"):
            raise SurgeryError(f"layer {name!r} stores {storage} {part}; widen appends to fp32 or fp16 "
                               "values only")
    if num_classes < old:
        raise SurgeryError(f"layer {name!r} has {old} outputs; shrinking to {num_classes} is refused because it "
                           "would drop trained classes")
    if num_classes == old:
        raise UsageError(f"layer {name!r} already has {old} outputs; give --classes larger than {old}")


def _new_rows(init: str, added: int, fan_in: int, row_size: int, rng) -> tuple[np.ndarray, np.ndarray, str]:
    if init == "kaiming":
        weight_bound, bias_bound = np.sqrt(6.0 / fan_in), 1.0 / np.sqrt(fan_in)
        rows = _uniform(rng, weight_bound, added * row_size)
        bias = _uniform(rng, bias_bound, added)
        return rows, bias, f"kaiming U(±{weight_bound:.6g}), bias U(±{bias_bound:.6g})"
    rows = np.zeros(added * row_size, np.float32)
    if init == "preserve":
        return rows, np.full(added, PRESERVE_BIAS, np.float32), f"preserve: zero weights, bias {PRESERVE_BIAS:g}"
    return rows, np.zeros(added, np.float32), "zeros, bias 0"


def _uniform(rng, bound: float, count: int) -> np.ndarray:
    out = np.empty(count, np.float32)
    uniform_fill(rng, bound)(out, 0)
    return out


def _set_like(weights, values: np.ndarray, storage: str) -> None:
    """Store ``values`` in ``weights`` with the given precision (Core ML wants a layer's weights and bias alike)."""
    if storage == "fp16":
        weights.ClearField("floatValue")
        weights.float16Value = values.astype(np.float16).astype("<f2").tobytes()
    else:
        set_float_values(weights, values)


# --- readers of the widened blob -------------------------------------------------------------------------------

def _plan_readers(graph: LayerGraph, producer: Layer, widening: _Widening, plan: _Plan) -> bool:
    """Plan the adaptation of everything reading ``producer``'s output; True when it reaches the class labels."""
    blob = producer.outputs[0]
    reaches_labels = False
    if graph.is_classifier and blob == graph.probabilities_blob():
        reaches_labels = True
        _check_label_count(graph, widening, blob)
    if blob in graph.output_names and not reaches_labels:
        _plan_output_shape(graph, blob, widening, plan)
    for reader in [layer for layer in producer.consumers if blob in layer.inputs]:
        following = _plan_reader(reader, blob, widening, plan)
        if following is not None and _plan_readers(graph, reader, following, plan):
            reaches_labels = True
    return reaches_labels


def _plan_reader(reader: Layer, blob: str, widening: _Widening, plan: _Plan) -> _Widening | None:
    """Plan one reader's edit; returns how its own output grew, or None when the growth stops there."""
    kind = reader.kind
    if kind == "concat":
        return _through_concat(reader, blob, widening)
    if len(reader.inputs) != 1:
        _refuse(reader, blob, widening, "it combines several inputs")
    if kind == "activation":
        _check_activation(reader, blob, widening)
        return widening
    if kind in _PER_CHANNEL_KINDS:
        return widening
    if kind == "flatten":
        if widening.flatten_order:
            _refuse(reader, blob, widening, "the blob is already flattened")
        return _Widening(widening.added, widening.channels, _FLATTEN_ORDERS[reader.params.mode])
    if kind == "batchnorm":
        return _plan_batchnorm(reader, blob, widening, plan)
    if kind in ("scale", "bias"):
        return _plan_scale_or_bias(reader, blob, widening, plan)
    if kind == "innerProduct":
        _plan_inner_product_inputs(reader, blob, widening, plan)
        return None
    if kind == "convolution":
        _plan_convolution_inputs(reader, blob, widening, plan)
        return None
    _refuse(reader, blob, widening, "mlsurgery does not know how to give it more input channels")


def _refuse(reader: Layer, blob: str, widening: _Widening, why: str):
    raise SurgeryError(f"cannot widen: layer {reader.name!r} ({reader.type_label}) reads the widened blob {blob!r} "
                       f"(+{widening.added} channels) and cannot be adapted: {why}")


def _check_activation(reader: Layer, blob: str, widening: _Widening) -> None:
    activation = reader.activation
    for name in _PARAMETRIC_ACTIVATIONS.get(activation, ()):
        if weight_count(getattr(getattr(reader.params, activation), name)) > 1:
            _refuse(reader, blob, widening, f"its {name} has one value per channel")


def _through_concat(reader: Layer, blob: str, widening: _Widening) -> _Widening:
    if reader.params.sequenceConcat:
        _refuse(reader, blob, widening, "it concatenates along the sequence axis")
    if reader.inputs.count(blob) != 1 or reader.inputs[-1] != blob:
        _refuse(reader, blob, widening, "the widened blob is not its last input, so new channels would land "
                                        "between existing ones; widen a layer that feeds the last input")
    if widening.flatten_order:
        _refuse(reader, blob, widening, "it follows a flatten")
    return _Widening(widening.added, None)


def _known_channels(reader: Layer, blob: str, widening: _Widening, channels: int, what: str) -> int:
    if widening.channels is not None and widening.channels != channels:
        _refuse(reader, blob, widening, f"its {what} is {channels}, but the blob has {widening.channels} channels")
    return channels


def _plan_batchnorm(reader: Layer, blob: str, widening: _Widening, plan: _Plan) -> _Widening:
    params = reader.params
    if widening.flatten_order:
        _refuse(reader, blob, widening, "it follows a flatten")
    channels = _known_channels(reader, blob, widening, params.channels, "channels")
    added = widening.added
    fields = [("gamma", 1.0), ("beta", 0.0)]
    if not params.computeMeanVar:
        fields += [("mean", 0.0), ("variance", 1.0)]
    for name, _ in fields:
        _check_appendable(reader, blob, widening, getattr(params, name), name)

    def apply() -> None:
        for name, value in fields:
            append_values(getattr(params, name), np.full(added, value, np.float32))
        params.channels = channels + added

    plan.edit(f"layer {reader.name}", f"channels {channels} → {channels + added} (new channels: gamma 1, beta 0"
              + (", mean 0, variance 1)" if not params.computeMeanVar else ")"), apply)
    return _Widening(added, channels)


def _check_appendable(reader: Layer, blob: str, widening: _Widening, weights, name: str) -> None:
    storage = weight_storage(weights)
    if storage not in ("fp32", "fp16"):
        _refuse(reader, blob, widening, f"its {name} is stored as {storage}")


def _plan_scale_or_bias(reader: Layer, blob: str, widening: _Widening, plan: _Plan) -> _Widening:
    params = reader.params
    if widening.flatten_order:
        _refuse(reader, blob, widening, "it follows a flatten")
    if reader.kind == "scale":
        parts = [("scale", params.shapeScale, params.scale, 1.0)]
        if params.hasBias:
            parts.append(("bias", params.shapeBias, params.bias, 0.0))
    else:
        parts = [("bias", params.shape, params.bias, 0.0)]
    per_channel = []
    channels = widening.channels
    for name, shape, weights, value in parts:
        shape = list(shape)
        if int(np.prod(shape)) == 1:
            continue  # one value broadcast over every channel
        if len(shape) not in (1, 3) or shape[1:] not in ([], [1, 1]):
            _refuse(reader, blob, widening, f"its {name} has shape {shape}, not one value per channel")
        channels = _known_channels(reader, blob, widening, shape[0], f"{name} shape")
        _check_appendable(reader, blob, widening, weights, name)
        per_channel.append((name, shape, weights, value))
    added = widening.added

    def apply() -> None:
        for name, shape, weights, value in per_channel:
            append_values(weights, np.full(added, value, np.float32))
            shape_field = {"scale": "shapeScale", "bias": "shapeBias"}[name] if reader.kind == "scale" else "shape"
            getattr(params, shape_field)[0] = shape[0] + added

    if per_channel:
        plan.edit(f"layer {reader.name}", ", ".join(f"{name} {shape[0]} → {shape[0] + added} values (new: {value:g})"
                                                     for name, shape, _, value in per_channel), apply)
    return _Widening(added, channels)


def _plan_inner_product_inputs(reader: Layer, blob: str, widening: _Widening, plan: _Plan) -> None:
    params = reader.params
    inputs = params.inputChannels
    if widening.flatten_order is None:
        channels, positions = _known_channels(reader, blob, widening, inputs, "inputChannels"), 1
    else:
        if widening.channels is None or inputs % widening.channels:
            _refuse(reader, blob, widening, f"its inputChannels {inputs} is not a multiple of the flattened blob's "
                                            f"channel count {widening.channels}")
        channels, positions = widening.channels, inputs // widening.channels
    _check_appendable(reader, blob, widening, params.weights, "weights")
    added, rows = widening.added, params.outputChannels
    channel_last = widening.flatten_order == "CHANNEL_LAST"

    def apply() -> None:
        # Flattened C × H × W features are indexed c·HW + p (CHANNEL_FIRST) or p·C + c (CHANNEL_LAST).
        old = float_values(params.weights).reshape(rows, *((positions, channels) if channel_last else
                                                           (channels, positions)))
        axis = 2 if channel_last else 1
        pad = [(0, 0)] * 3
        pad[axis] = (0, added)
        _set_like(params.weights, np.pad(old, pad).reshape(-1), weight_storage(params.weights))
        params.inputChannels = (channels + added) * positions

    plan.edit(f"layer {reader.name}", f"inputChannels {inputs} → {(channels + added) * positions} (zero weights "
                                      "for the new inputs: its outputs are unchanged)", apply)


def _plan_convolution_inputs(reader: Layer, blob: str, widening: _Widening, plan: _Plan) -> None:
    params = reader.params
    if widening.flatten_order:
        _refuse(reader, blob, widening, "it follows a flatten")
    if params.isDeconvolution or (params.nGroups or 1) != 1:
        _refuse(reader, blob, widening, "only ungrouped, non-transposed convolutions are adapted")
    channels = _known_channels(reader, blob, widening, params.kernelChannels, "kernelChannels")
    _check_appendable(reader, blob, widening, params.weights, "weights")
    added, rows = widening.added, params.outputChannels

    def apply() -> None:
        old = float_values(params.weights).reshape(rows, channels, -1)
        _set_like(params.weights, np.pad(old, [(0, 0), (0, added), (0, 0)]).reshape(-1),
                  weight_storage(params.weights))
        params.kernelChannels = channels + added

    plan.edit(f"layer {reader.name}", f"kernelChannels {channels} → {channels + added} (zero weights for the new "
                                      "input channels: its outputs are unchanged)", apply)


# --- model description ---------------------------------------------------------------------------------------

def _plan_output_shape(graph: LayerGraph, blob: str, widening: _Widening, plan: _Plan) -> None:
    feature = next(feature for feature in graph.model.description.output if feature.name == blob)
    where = f"output {blob!r}"
    if feature.type.WhichOneof("Type") != "multiArrayType":
        return
    array = feature.type.multiArrayType
    if array.WhichOneof("ShapeFlexibility"):
        raise SurgeryError(f"cannot widen: {where} has a flexible shape; widen does not rewrite shape ranges")
    shape = list(array.shape)
    if not shape:
        return
    axis = 2 if len(shape) == 5 else 0
    if widening.flatten_order and len(shape) == 1 and widening.channels and shape[0] % widening.channels == 0:
        step = shape[0] // widening.channels
    elif not widening.flatten_order and widening.channels in (None, shape[axis]):
        step = 1
    else:
        raise SurgeryError(f"cannot widen: {where} has shape {shape}, which does not show the widened channels")
    grown = list(shape)
    grown[axis] += widening.added * step

    def apply() -> None:
        array.shape[axis] = grown[axis]

    plan.edit(f"output {blob}", f"shape {shape} → {grown}", apply)


def _class_labels(graph: LayerGraph):
    network = graph.network
    kind = network.WhichOneof("ClassLabels")
    return kind, (getattr(network, kind).vector if kind else None)


def _check_label_count(graph: LayerGraph, widening: _Widening, blob: str) -> None:
    kind, vector = _class_labels(graph)
    if kind is None:
        raise SurgeryError("the classifier has no class labels to extend; the model is invalid, re-export it")
    if widening.channels is not None and widening.channels != len(vector):
        raise SurgeryError(f"cannot widen: the class probabilities {blob!r} have {widening.channels} channels "
                           f"but the model has {len(vector)} class labels")


def _plan_labels(graph: LayerGraph, added: int, labels, label_prefix, plan: _Plan) -> None:
    kind, vector = _class_labels(graph)
    existing = list(vector)
    if kind == "int64ClassLabels":
        if label_prefix is not None:
            raise UsageError("the model's class labels are int64; --label-prefix applies to string labels")
        new = _int_labels(labels, existing, added)
    else:
        new = _string_labels(labels, label_prefix or "user", existing, added)
    clash = sorted(set(new) & set(existing), key=str) or sorted({x for x in new if new.count(x) > 1}, key=str)
    if clash:
        raise UsageError(f"duplicate class label(s) {', '.join(map(repr, clash))}; every label must be unique")

    def apply() -> None:
        vector.extend(new)

    shown = ", ".join(map(str, new[:12])) + (", …" if len(new) > 12 else "")
    plan.edit("class labels", f"+{len(new)} ({shown}); {len(existing) + len(new)} in all", apply)


def _string_labels(labels, prefix: str, existing: list[str], added: int) -> list[str]:
    if labels is not None:
        _check_label_list_length(labels, added)
        return [str(label) for label in labels]
    numbers = [int(label[len(prefix):]) for label in existing
               if label.startswith(prefix) and label[len(prefix):].isdigit()]
    start = max(numbers) + 1 if numbers else 0
    return [f"{prefix}{start + i}" for i in range(added)]


def _int_labels(labels, existing: list[int], added: int) -> list[int]:
    if labels is None:
        start = max(existing) + 1 if existing else 0
        return list(range(start, start + added))
    _check_label_list_length(labels, added)
    try:
        return [int(label) for label in labels]
    except ValueError:
        raise UsageError(f"the model's class labels are int64, but --labels gives {labels!r}; "
                         "give whole numbers") from None


def _check_label_list_length(labels, added: int) -> None:
    if len(labels) != added:
        raise UsageError(f"{len(labels)} label(s) given but widening adds {added} classes; "
                         f"give exactly {added} labels for the new classes")
