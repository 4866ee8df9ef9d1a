"""Re-initialise the weights of innerProduct and convolution layers with fresh random values.

Distributions (fan_in / fan_out as PyTorch computes them; for a convolution fan_in = kernelChannels × kh × kw
and fan_out = outputChannels × kh × kw):

==================  ===========================================  =============================
init                weights                                       bias
==================  ===========================================  =============================
kaiming-uniform     U(-√(6/fan_in), +√(6/fan_in))                 U(-1/√fan_in, +1/√fan_in)
kaiming-normal      N(0, σ = √(2/fan_in))                          0
xavier-uniform      U(±√(6/(fan_in + fan_out)))                   0
zeros               0                                             0
==================  ===========================================  =============================

kaiming-uniform is the initialisation the on-device training article (hollance/coreml-training, make_nn.py) uses
for a classifier it retrains from scratch. Values are drawn directly as float32, chunk by chunk into the spec
(``mlsurgery.weights``); the same generator state gives byte-identical weights on every run and machine.
Uniform draws lie in [-b, +b] where b is the bound rounded to float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import SurgeryError, UsageError
from ..network import Layer, LayerGraph, weight_storage
from ..weights import Fill, fill_float_values
from .changes import Changes
from .inits import REINIT_INITS


# Core ML's default kernel when ConvolutionLayerParams.kernelSize is unset (NeuralNetwork.proto).
_DEFAULT_KERNEL = (3, 3)


@dataclass(frozen=True)
class LayerGeometry:
    """Sizes of a trainable layer's parameters, as the initialisers need them."""

    weight_count: int
    bias_count: int  # 0 when the layer has no bias
    fan_in: int
    fan_out: int


def layer_geometry(layer: Layer, operation: str) -> LayerGeometry:
    """Weight/bias sizes and fans of an innerProduct or (non-transposed) convolution layer, else SurgeryError."""
    if layer.kind == "innerProduct":
        params = layer.params
        return LayerGeometry(params.inputChannels * params.outputChannels,
                             params.outputChannels if params.hasBias else 0,
                             params.inputChannels, params.outputChannels)
    if layer.kind == "convolution" and not layer.params.isDeconvolution:
        params = layer.params
        kh, kw = tuple(params.kernelSize) or _DEFAULT_KERNEL
        return LayerGeometry(params.outputChannels * params.kernelChannels * kh * kw,
                             params.outputChannels if params.hasBias else 0,
                             params.kernelChannels * kh * kw, params.outputChannels * kh * kw)
    kind = "deconvolution" if layer.kind == "convolution" else layer.type_label
    raise SurgeryError(f"layer {layer.name!r} is a {kind} layer; {operation} works on innerProduct and "
                       "convolution layers")


def uniform_fill(rng: np.random.Generator, bound: float) -> UniformFill:
    """Fill with float32 draws from U(-bound, +bound) (inclusive of ±bound rounded to float32)."""
    return UniformFill(rng, bound)


@dataclass(frozen=True)
class UniformFill:
    """A ``Fill`` of float32 draws from U(-bound, +bound); a class rather than a closure so that stored weights
    can leave the drawing to the save (``detach``, see ``mlsurgery.weights``)."""

    rng: np.random.Generator
    bound: float

    def __call__(self, out: np.ndarray, start: int) -> None:
        bound32 = np.float32(self.bound)
        width = np.float32(2) * bound32  # exact: doubling a float32 is exact, so values never pass ±bound32
        self.rng.random(out=out, dtype=np.float32)
        out *= width
        out -= bound32

    def detach(self, count: int) -> Callable[[], Fill] | None:
        """A maker of fills that draw this fill's next ``count`` values (each made fill from the first value), with
        this fill's generator moved past them now, as if it had drawn them; None when its generator cannot skip."""
        before = skip_float32_draws(self.rng, count)
        if before is None:
            return None
        return lambda: UniformFill(_generator_at(before), self.bound)


def skip_float32_draws(rng: np.random.Generator, count: int) -> dict | None:
    """Move ``rng`` to where drawing ``count`` float32 values would leave it, without drawing them, and return
    its state from before; None (nothing moved) for bit generators that cannot jump (only PCG64 and PCG64DXSM).

    NumPy draws a float32 from one 32-bit output (``next_float``); these generators make 32-bit outputs by
    halving a 64-bit one and keep the unused high half buffered (``has_uint32``/``uinteger``). So ``count``
    floats take the buffered half, if any, then ``ceil(rest / 2)`` 64-bit outputs, and leave the high half of the
    last one buffered when ``rest`` is odd (and in ``uinteger`` even when it is even, as drawing does).
    """
    bits = rng.bit_generator
    if type(bits) not in _SKIPPABLE:
        return None
    before = bits.state
    if count == 0:
        return before
    rest = count - before["has_uint32"]
    if rest == 0:  # the buffered half is all it takes
        bits.state = {**before, "has_uint32": 0}
        return before
    outputs = (rest + 1) // 2
    bits.advance(outputs - 1)  # also empties the buffer, so the last output is read raw
    last = int(bits.random_raw())
    bits.state = {**bits.state, "has_uint32": rest % 2, "uinteger": last >> 32}
    return before


_SKIPPABLE = (np.random.PCG64, np.random.PCG64DXSM)


def _generator_at(state: dict) -> np.random.Generator:
    bits = getattr(np.random, state["bit_generator"])()
    bits.state = state
    return np.random.Generator(bits)


def normal_fill(rng: np.random.Generator, std: float) -> Fill:
    std32 = np.float32(std)

    def fill(out: np.ndarray, start: int) -> None:
        rng.standard_normal(out=out, dtype=np.float32)
        out *= std32

    return fill


class _Zeros:
    """The zeros ``Fill``; detachable, as it draws nothing (see ``UniformFill.detach``)."""

    def __call__(self, out: np.ndarray, start: int) -> None:
        out.fill(0.0)

    def detach(self, count: int) -> Callable[[], Fill] | None:
        return lambda: self


_zero_fill = _Zeros()


def _weight_init(init: str, geometry: LayerGeometry, rng) -> tuple[Fill, str]:
    if init == "kaiming-uniform":
        bound = np.sqrt(6.0 / geometry.fan_in)
        return uniform_fill(rng, bound), f"U(±{bound:.6g})"
    if init == "kaiming-normal":
        std = np.sqrt(2.0 / geometry.fan_in)
        return normal_fill(rng, std), f"N(0, σ={std:.6g})"
    if init == "xavier-uniform":
        bound = np.sqrt(6.0 / (geometry.fan_in + geometry.fan_out))
        return uniform_fill(rng, bound), f"U(±{bound:.6g})"
    return _zero_fill, "zeros"


def _bias_init(init: str, geometry: LayerGeometry, rng) -> tuple[Fill, str]:
    if init == "kaiming-uniform":
        bound = 1.0 / np.sqrt(geometry.fan_in)
        return uniform_fill(rng, bound), f"U(±{bound:.6g})"
    return _zero_fill, "zeros"


def reinit_layers(spec, layers: list[str], *, init: str = "kaiming-uniform",
                  rng: np.random.Generator) -> Changes:
    """Replace the weights (and biases) of ``layers`` with fresh values drawn from ``init`` (see module doc).

    Layers are drawn in network order, weights before bias, whatever order ``layers`` lists them in, so one
    seed always gives the same model. fp16 or quantized weights are replaced by fp32 values.
    """
    if init not in REINIT_INITS:
        raise UsageError(f"unknown init {init!r}; choose one of {', '.join(REINIT_INITS)}")
    if not layers:
        raise UsageError("no layers given; name at least one layer to re-initialise (e.g. --layers fc8)")
    graph = LayerGraph.trainable(spec)
    chosen = sorted({layer.index: layer for layer in map(graph.layer, layers)}.values(),
                    key=lambda layer: layer.index)
    geometries = [layer_geometry(layer, "reinit") for layer in chosen]  # refuse before changing anything
    changes = Changes("reinit")
    for layer, geometry in zip(chosen, geometries):
        params = layer.params
        was = weight_storage(params.weights)
        fill, described = _weight_init(init, geometry, rng)
        fill_float_values(params.weights, geometry.weight_count, fill)
        note = "" if was in ("fp32", "none") else f" (was {was})"
        changes.add(f"layer {layer.name}", f"weights: {geometry.weight_count:,} values {init} {described}{note}")
        if geometry.bias_count:
            was = weight_storage(params.bias)
            fill, described = _bias_init(init, geometry, rng)
            fill_float_values(params.bias, geometry.bias_count, fill)
            note = "" if was in ("fp32", "none") else f" (was {was})"
            changes.add(f"layer {layer.name}", f"bias: {geometry.bias_count:,} values {described}{note}")
        if layer.kind == "innerProduct" and params.int8DynamicQuantize:
            params.int8DynamicQuantize = False
            changes.add(f"layer {layer.name}", "int8DynamicQuantize off (weights are fp32 now)")
    return changes
