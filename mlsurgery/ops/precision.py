"""Weight precision for training: find fp16 and quantized weights, and expand them to fp32.

Why: Core ML's validator only rejects *quantized* weights in updatable layers, and accepts fp16 weights
anywhere. But a network holding any fp16 weights is compiled to run entirely in FP16, which cannot be trained
(coremltools issue #604; coremltools' own make_updatable check looks only at the first layer). So a network
that is to become updatable gets all its fp16 weights widened to fp32 (exact: every float16 is a float32), and
its quantized layers expanded with Core ML's dequantization rule:

- ``rawValue`` + n-bit ``linearQuantization`` (1 ≤ n ≤ 8): ``w = q · scale + bias``, with ``scale`` of length 1
  or one per output channel and ``bias`` empty (read as 0) or as long as ``scale``
  (upstream: mlmodel/format/NeuralNetwork.proto, mlmodel/src/Validation/QuantizationValidationUtils.cpp);
- ``rawValue`` + n-bit ``lookupTableQuantization``: ``w = table[q]``, the table holding 2ⁿ values;
- ``int8RawValue`` (signed int8, ``int8DynamicQuantize``): ``w = q · scale`` with a single scale.

Packed values are unsigned n-bit integers written most significant bit first, one after another across byte
boundaries, the first value in the high bits of the first byte (the layout coremltools'
``quantization_utils`` writes). The output channel is the first axis of every weight matrix, except for a
deconvolution, whose weights are [kernelChannels, outputChannels / nGroups, kh, kw]. Values are computed in
float64 and rounded once to float32, as coremltools' own dequantization does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..coreml import UPDATABLE_LAYER_KINDS, holds_float_values
from ..errors import SurgeryError
from ..network import Layer, LayerGraph, trainable_network, weight_params
from ..weights import FLOAT16_LE, fill_float_values, unpack_bits
from .changes import Changes



def _network(spec_or_network):
    """Accept a Model spec (its trainable network) or a network message (anything with ``layers``)."""
    if hasattr(spec_or_network, "layers"):
        return spec_or_network
    return trainable_network(spec_or_network).network


def fp16_layers(network) -> list[str]:
    """Names of the layers of ``network`` (or of a spec's trainable network) holding any fp16 weights."""
    return [layer.name for layer in _network(network).layers
            if any(weights.float16Value for _, weights in _layer_weights(layer))]


def quantized_layers(network, layers: list[str] | None = None) -> list[str]:
    """Names of the layers (all, or just those named in ``layers``) whose weights are quantized, in network order.

    A bias that the layer ignores (``hasBias`` unset) does not count, as Core ML never reads it
    (``mlsurgery.coreml.updatable_parameters``).
    """
    wanted = None if layers is None else set(layers)
    return [layer.name for layer in _network(network).layers
            if (wanted is None or layer.name in wanted)
            and any(not holds_float_values(weights) for path, weights in _layer_weights(layer)
                    if not (path == "bias" and _ignores_bias(layer)))]


def _ignores_bias(layer_proto) -> bool:
    params = getattr(layer_proto, layer_proto.WhichOneof("layer"))
    return "hasBias" in params.DESCRIPTOR.fields_by_name and not params.hasBias


def _layer_weights(layer_proto) -> list:
    kind = layer_proto.WhichOneof("layer")
    return weight_params(getattr(layer_proto, kind)) if kind else []


def convert_fp16_to_fp32(spec_or_network) -> Changes:
    """Widen every fp16 weight of the network to fp32 (exactly); reports, per layer and in total, the growth.

    Given a spec, the network is its trainable network (the root one, or a pipeline's last stage), the one whose
    fp16 weights would stop Core ML from training it.
    """
    changes = Changes("to-fp32")
    total_values = total_growth = layers_changed = 0
    for layer in _network(spec_or_network).layers:
        layer_values = layer_growth = 0
        for _, weights in _layer_weights(layer):
            if not weights.float16Value:
                continue
            half = np.frombuffer(weights.float16Value, dtype=FLOAT16_LE)
            before = _field_size(2 * half.size)

            def widen(out: np.ndarray, start: int, half=half) -> None:
                out[:] = half[start:start + len(out)]

            fill_float_values(weights, half.size, widen)
            layer_values += half.size
            layer_growth += _field_size(4 * half.size) - before
        if layer_values:
            layers_changed += 1
            total_values += layer_values
            total_growth += layer_growth
            changes.add(f"layer {layer.name}", f"{layer_values:,} fp16 values → fp32 (+{layer_growth:,} bytes)")
    if layers_changed:
        changes.add("model", f"{total_values:,} fp16 values in {layers_changed} layer(s) → fp32: the file grows by "
                             f"{total_growth:,} bytes ({total_growth / 2**20:.1f} MiB)")
    return changes


def _field_size(payload: int) -> int:
    """Bytes of a length-delimited field with a one-byte tag (floatValue = 1, float16Value = 2)."""
    return 1 + (max(payload.bit_length(), 1) + 6) // 7 + payload


def dequantize_layers(spec, layers: list[str]) -> Changes:
    """Expand the quantized weights of ``layers`` (of the trainable network) to fp32; see the module doc.

    Layers without quantized weights are left alone. Everything is checked before anything changes, and values
    are expanded chunk by chunk, so the only large temporary is one layer's packed bytes.
    """
    graph = LayerGraph.trainable(spec)
    chosen = [graph.layer(name) for name in dict.fromkeys(layers)]
    planned = [_Dequantization.check(layer, path, weights)
               for layer in chosen for path, weights in layer.weights if not holds_float_values(weights)]
    changes = Changes("dequantize")
    for step in planned:
        described = step.description()
        step.apply()
        changes.add(f"layer {step.layer.name}", f"{step.path}: {step.count:,} {described} values → fp32")
    for layer in dict.fromkeys(step.layer for step in planned):
        if layer.kind == "innerProduct" and layer.params.int8DynamicQuantize:
            layer.params.int8DynamicQuantize = False
            changes.add(f"layer {layer.name}", "int8DynamicQuantize off (weights are fp32 now)")
    return changes


@dataclass
class _Dequantization:
    """One quantized WeightParams, checked against Core ML's rules and ready to expand."""

    layer: Layer
    path: str
    weights: object
    count: int
    channels: int  # output channels the linear scales may be given for
    inner: int  # values per output channel per outer index (the channel index of value i is (i // inner) % channels)

    @classmethod
    def check(cls, layer: Layer, path: str, weights) -> "_Dequantization":
        shape, axis, channels = _weight_shape(layer, path)
        step = cls(layer, path, weights, int(np.prod(shape)), channels, int(np.prod(shape[axis + 1:])))
        step._validate()
        return step

    @property
    def where(self) -> str:
        return f"layer {self.layer.name!r} {self.path}"

    def description(self) -> str:
        if self.weights.int8RawValue:
            return "int8"
        quantization = self.weights.quantization
        lookup = quantization.WhichOneof("QuantizationType") == "lookupTableQuantization"
        scheme = "lookup-table" if lookup else "linear"
        return f"{quantization.numberOfBits}-bit {scheme}"

    def _validate(self) -> None:
        quantization, where = self.weights.quantization, self.where
        kind = quantization.WhichOneof("QuantizationType")
        if self.weights.int8RawValue:
            if kind != "linearQuantization" or len(quantization.linearQuantization.scale) != 1:
                raise SurgeryError(f"{where}: int8 weights need linear quantization with one scale; "
                                   "the model is invalid, re-export it")
            if len(self.weights.int8RawValue) < self.count:
                raise SurgeryError(f"{where}: has {len(self.weights.int8RawValue)} int8 values, expected "
                                   f"{self.count}; the model is invalid")
            return
        bits = quantization.numberOfBits
        if not 1 <= bits <= 8:
            raise SurgeryError(f"{where}: numberOfBits is {bits}; Core ML supports 1 to 8")
        needed = (self.count * bits + 7) // 8
        if len(self.weights.rawValue) < needed:
            raise SurgeryError(f"{where}: has {len(self.weights.rawValue)} bytes, {self.count} {bits}-bit values "
                               f"need {needed}; the model is invalid")
        if kind == "lookupTableQuantization":
            size = len(quantization.lookupTableQuantization.floatValue)
            if size != 1 << bits:
                raise SurgeryError(f"{where}: lookup table has {size} entries, {bits}-bit needs {1 << bits}")
        elif kind == "linearQuantization":
            scales, biases = len(quantization.linearQuantization.scale), len(quantization.linearQuantization.bias)
            if scales not in (1, self.channels) or biases not in (0, scales):
                raise SurgeryError(f"{where}: linear quantization has {scales} scale(s) and {biases} bias(es); "
                                   f"Core ML needs 1 or {self.channels} scales and no bias or one per scale")
        else:
            raise SurgeryError(f"{where}: quantization sets no linear or lookup-table parameters; "
                               "the model is invalid")

    def apply(self) -> None:
        fill_float_values(self.weights, self.count, self._fill())

    def _fill(self):
        weights, quantization = self.weights, self.weights.quantization
        if weights.int8RawValue:
            signed = np.frombuffer(weights.int8RawValue, dtype=np.int8)
            scale = float(quantization.linearQuantization.scale[0])

            def int8(out: np.ndarray, start: int) -> None:
                out[:] = signed[start:start + len(out)].astype(np.float64) * scale

            return int8
        packed, bits = np.frombuffer(weights.rawValue, dtype=np.uint8), quantization.numberOfBits
        if quantization.WhichOneof("QuantizationType") == "lookupTableQuantization":
            table = np.array(quantization.lookupTableQuantization.floatValue, dtype=np.float32)

            def lookup(out: np.ndarray, start: int) -> None:
                out[:] = table[unpack_bits(packed, bits, start, len(out))]

            return lookup
        scale = np.array(quantization.linearQuantization.scale, dtype=np.float64)
        bias = np.array(quantization.linearQuantization.bias, dtype=np.float64)
        bias = bias if bias.size else np.zeros_like(scale)
        channels, inner = scale.size, self.inner

        def linear(out: np.ndarray, start: int) -> None:
            q = unpack_bits(packed, bits, start, len(out)).astype(np.float64)
            if channels == 1:
                out[:] = q * scale[0] + bias[0]
                return
            # Value i belongs to channel (i // inner) % channels: runs of ``inner`` values share one channel.
            runs = np.arange(start // inner, (start + len(out) - 1) // inner + 1)
            lengths = np.diff(np.clip(np.append(runs, runs[-1] + 1) * inner, start, start + len(out)))
            channel = runs % channels
            out[:] = q * np.repeat(scale[channel], lengths) + np.repeat(bias[channel], lengths)

        return linear


def _weight_shape(layer: Layer, path: str) -> tuple[tuple[int, ...], int, int]:
    """(shape, output-channel axis, number of output channels) of one weight tensor of a trainable layer."""
    params = layer.params
    if layer.kind == "innerProduct":
        if path == "bias":
            return (params.outputChannels,), 0, 1
        return (params.outputChannels, params.inputChannels), 0, params.outputChannels
    if layer.kind == "convolution":
        out = params.outputChannels
        if path == "bias":
            return (out,), 0, 1
        kh, kw = tuple(params.kernelSize) or (3, 3)
        if params.isDeconvolution:
            groups = params.nGroups or 1
            if groups > 1:
                raise SurgeryError(f"layer {layer.name!r}: dequantizing a grouped deconvolution is not supported "
                                   "(its per-channel scales do not follow the weight layout)")
            return (params.kernelChannels, out, kh, kw), 1, out
        return (out, params.kernelChannels, kh, kw), 0, out
    if layer.kind == "uniDirectionalLSTM":
        hidden, inputs = params.outputVectorSize, params.inputVectorSize
        if path.endswith("WeightMatrix"):
            return (hidden, inputs), 0, hidden
        if path.endswith("RecursionMatrix"):
            return (hidden, hidden), 0, hidden
        return (hidden,), 0, 1
    raise SurgeryError(f"layer {layer.name!r} is a {layer.type_label} layer; dequantize works on "
                       f"{', '.join(UPDATABLE_LAYER_KINDS)} layers (the kinds Core ML can train)")
