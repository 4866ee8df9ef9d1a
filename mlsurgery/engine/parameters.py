"""Numbers of Core ML ``WeightParams`` as numpy arrays of a known shape (fp32, fp16 or quantized)."""

from __future__ import annotations

import numpy as np

from ..coreml import holds_float_values
from ..weights import field_bytes, float_values, unpack_bits
from .errors import UnsupportedModelError


def weight_array(weights, shape: tuple[int, ...], where: str, *, channel_axis: int = 0) -> np.ndarray:
    """The values of ``weights`` as a float32 array of ``shape``; ``where`` names the layer and field in errors.

    Quantized weights are expanded as NeuralNetwork.proto's ``QuantizationParams`` defines them: linear
    (``w = q * scale + bias``, one scale or one per output channel along ``channel_axis``), look-up table, or
    int8 with one scale.
    """
    count = int(np.prod(shape)) if shape else 1
    if not holds_float_values(weights):
        values = _dequantized(weights, shape, count, where, channel_axis)
    else:
        values = float_values(weights)
    if values.size != count:
        raise UnsupportedModelError(f"{where}: holds {values.size} values, the layer needs {count} "
                                    f"(shape {list(shape)}); the model is invalid")
    return np.array(values, dtype=np.float32).reshape(shape)


def _dequantized(weights, shape, count: int, where: str, channel_axis: int) -> np.ndarray:
    quantization = weights.quantization
    kind = quantization.WhichOneof("QuantizationType")
    if weights.int8RawValue:
        if kind != "linearQuantization" or len(quantization.linearQuantization.scale) != 1:
            raise UnsupportedModelError(f"{where}: int8 weights need linear quantization with one scale")
        signed = np.frombuffer(field_bytes(weights, "int8RawValue"), dtype=np.int8)[:count]
        return signed.astype(np.float32) * np.float32(quantization.linearQuantization.scale[0])
    bits = quantization.numberOfBits
    raw = field_bytes(weights, "rawValue")
    if not 1 <= bits <= 8 or len(raw) * 8 < count * bits:
        raise UnsupportedModelError(f"{where}: {len(raw)} bytes of {bits}-bit values cannot hold "
                                    f"{count} weights; the model is invalid")
    q = unpack_bits(np.frombuffer(raw, dtype=np.uint8), bits, 0, count)
    if kind == "lookupTableQuantization":
        table = np.array(quantization.lookupTableQuantization.floatValue, dtype=np.float32)
        if table.size != 1 << bits:
            raise UnsupportedModelError(f"{where}: look-up table has {table.size} entries, {bits}-bit needs "
                                        f"{1 << bits}")
        return table[q]
    if kind != "linearQuantization":
        raise UnsupportedModelError(f"{where}: quantized weights without linear or look-up-table parameters")
    scale = np.array(quantization.linearQuantization.scale, dtype=np.float32)
    bias = np.array(quantization.linearQuantization.bias, dtype=np.float32)
    bias = bias if bias.size else np.zeros_like(scale)
    values = q.astype(np.float32).reshape(shape)
    if scale.size == 1:
        return (values * scale[0] + bias[0]).reshape(-1)
    if scale.size != shape[channel_axis]:
        raise UnsupportedModelError(f"{where}: {scale.size} quantization scales for {shape[channel_axis]} "
                                    "output channels")
    broadcast = [1] * len(shape)
    broadcast[channel_axis] = scale.size
    return (values * scale.reshape(broadcast) + bias.reshape(broadcast)).reshape(-1)
