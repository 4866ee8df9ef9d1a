"""Recurrent layers on rank-5 sequences ``[Seq, Batch, C, 1, 1]``: uniDirectionalLSTM, biDirectionalLSTM, gru,
simpleRecurrent, with NeuralNetwork.proto's equations (gate pre-activations clipped to [-50, 50])."""

from __future__ import annotations

import torch

from ...coreml import RECURRENT_ACTIVATION_KINDS
from .activations import _activation
from .base import LayerModule, Translator

GATE_CLIP = 50.0


def _recurrent_activation(layer, params):
    kind = params.WhichOneof("NonlinearityType")
    function = _activation(kind, getattr(params, kind) if kind else None)
    if function is None or kind not in RECURRENT_ACTIVATION_KINDS:
        raise LayerModule(layer).refuse(f"recurrent activation {kind or 'unset'!r}")
    return function


def _sequence(x: torch.Tensor, size: int):
    """``[N, S, B, C, 1, 1]`` → (``[S, N·B, C]``, N, B)."""
    if x.dim() - 1 != 5:
        x = x.reshape(x.shape[0], *([1] * (6 - x.dim())), *x.shape[1:])
    n, seq, batch = x.shape[:3]
    return x.reshape(n, seq, batch, size).permute(1, 0, 2, 3).reshape(seq, n * batch, size), n, batch


def _unsequence(y: torch.Tensor, n: int, batch: int) -> torch.Tensor:
    """``[S, N·B, C]`` → ``[N, S, B, C, 1, 1]``."""
    seq, _, size = y.shape
    return y.reshape(seq, n, batch, size).permute(1, 0, 2, 3).reshape(n, seq, batch, size, 1, 1)


def _state(value, n: int, batch: int, size: int, like: torch.Tensor) -> torch.Tensor:
    if value is None:
        return like.new_zeros(n * batch, size)
    return value.reshape(n * batch, size)


class LSTMDirection(LayerModule):
    """The weights of one LSTM direction, in Core ML's layout."""

    GATES = ("inputGate", "forgetGate", "blockInput", "outputGate")

    def __init__(self, layer, weights, params, prefix: str):
        super().__init__(layer)
        kind = layer.WhichOneof("layer")
        spec = getattr(layer, kind)
        self.hidden, inputs = int(spec.outputVectorSize), int(spec.inputVectorSize)
        for gate in self.GATES:
            self.add_weight(f"{gate}_W", getattr(weights, f"{gate}WeightMatrix"), (self.hidden, inputs),
                            f"{prefix}{gate}WeightMatrix")
            self.add_weight(f"{gate}_R", getattr(weights, f"{gate}RecursionMatrix"), (self.hidden, self.hidden),
                            f"{prefix}{gate}RecursionMatrix")
            if params.hasBiasVectors:
                self.add_weight(f"{gate}_b", getattr(weights, f"{gate}BiasVector"), (self.hidden,),
                                f"{prefix}{gate}BiasVector")
        self.peephole = params.hasPeepholeVectors
        if self.peephole:
            for gate in ("inputGate", "forgetGate", "outputGate"):
                self.add_weight(f"{gate}_p", getattr(weights, f"{gate}PeepholeVector"), (self.hidden,),
                                f"{prefix}{gate}PeepholeVector")
        self.has_bias = params.hasBiasVectors
        self.forget_bias = 1.0 if params.forgetBias else 0.0
        self.coupled = params.coupledInputAndForgetGate
        self.cell_clip = params.cellClipThreshold or 50.0

    def run(self, xs, h, c, f, g, activation_h, reverse: bool):
        weights = torch.cat([getattr(self, f"{gate}_W") for gate in self.GATES])
        recursion = torch.cat([getattr(self, f"{gate}_R") for gate in self.GATES])
        projected = torch.matmul(xs, weights.t())
        if self.has_bias:
            projected = projected + torch.cat([getattr(self, f"{gate}_b") for gate in self.GATES])
        steps = range(xs.shape[0] - 1, -1, -1) if reverse else range(xs.shape[0])
        outputs = [None] * xs.shape[0]
        for t in steps:
            pre = projected[t] + torch.matmul(h, recursion.t())
            i_pre, f_pre, z_pre, o_pre = pre.chunk(4, dim=-1)
            if self.peephole:
                i_pre = i_pre + self.inputGate_p * c
                f_pre = f_pre + self.forgetGate_p * c
            f_pre = f_pre + self.forget_bias
            i = f(i_pre.clamp(-GATE_CLIP, GATE_CLIP))
            z = g(z_pre.clamp(-GATE_CLIP, GATE_CLIP))
            forget = (1 - i) if self.coupled else f(f_pre.clamp(-GATE_CLIP, GATE_CLIP))
            c = (c * forget + i * z).clamp(-self.cell_clip, self.cell_clip)
            if self.peephole:
                o_pre = o_pre + self.outputGate_p * c
            o = f(o_pre.clamp(-GATE_CLIP, GATE_CLIP))
            h = activation_h(c) * o
            outputs[t] = h
        return torch.stack(outputs), h, c


class UniDirectionalLSTM(LayerModule):
    def __init__(self, layer, context):
        super().__init__(layer)
        spec = layer.uniDirectionalLSTM
        self.direction = LSTMDirection(layer, spec.weightParams, spec.params, "weightParams.")
        self.activations = [_recurrent_activation(layer, a) for a in spec.activations]
        if len(self.activations) != 3:
            raise self.refuse("an LSTM needs 3 activations")
        self.sequence_output = spec.params.sequenceOutput
        self.reverse = spec.reverseInput
        self.hidden, self.inputs = int(spec.outputVectorSize), int(spec.inputVectorSize)

    def forward(self, x, h0=None, c0=None):
        xs, n, batch = _sequence(x, self.inputs)
        h = _state(h0, n, batch, self.hidden, xs)
        c = _state(c0, n, batch, self.hidden, xs)
        ys, h, c = self.direction.run(xs, h, c, *self.activations, self.reverse)
        y = ys if self.sequence_output else h.unsqueeze(0)
        return [_unsequence(y, n, batch), _unsequence(h.unsqueeze(0), n, batch),
                _unsequence(c.unsqueeze(0), n, batch)]


class BiDirectionalLSTM(LayerModule):
    def __init__(self, layer, context):
        super().__init__(layer)
        spec = layer.biDirectionalLSTM
        if len(spec.weightParams) != 2:
            raise self.refuse("a bidirectional LSTM needs 2 weightParams")
        self.forward_lstm = LSTMDirection(layer, spec.weightParams[0], spec.params, "weightParams[0].")
        self.backward_lstm = LSTMDirection(layer, spec.weightParams[1], spec.params, "weightParams[1].")
        self.forward_activations = [_recurrent_activation(layer, a) for a in spec.activationsForwardLSTM]
        self.backward_activations = [_recurrent_activation(layer, a) for a in spec.activationsBackwardLSTM]
        self.sequence_output = spec.params.sequenceOutput
        self.hidden, self.inputs = int(spec.outputVectorSize), int(spec.inputVectorSize)

    def forward(self, x, h0=None, c0=None, h0_back=None, c0_back=None):
        xs, n, batch = _sequence(x, self.inputs)
        states = [_state(v, n, batch, self.hidden, xs) for v in (h0, c0, h0_back, c0_back)]
        forward_ys, hf, cf = self.forward_lstm.run(xs, states[0], states[1], *self.forward_activations, False)
        backward_ys, hb, cb = self.backward_lstm.run(xs, states[2], states[3], *self.backward_activations, True)
        if self.sequence_output:
            y = torch.cat([forward_ys, backward_ys], dim=-1)
        else:
            y = torch.cat([hf, hb], dim=-1).unsqueeze(0)
        return [_unsequence(y, n, batch)] + [_unsequence(s.unsqueeze(0), n, batch) for s in (hf, cf, hb, cb)]


class GRU(LayerModule):
    GATES = ("updateGate", "resetGate", "outputGate")

    def __init__(self, layer, context):
        super().__init__(layer)
        spec = layer.gru
        self.hidden, self.inputs = int(spec.outputVectorSize), int(spec.inputVectorSize)
        for gate in self.GATES:
            self.add_weight(f"{gate}_W", getattr(spec, f"{gate}WeightMatrix"), (self.hidden, self.inputs),
                            f"{gate}WeightMatrix")
            self.add_weight(f"{gate}_R", getattr(spec, f"{gate}RecursionMatrix"), (self.hidden, self.hidden),
                            f"{gate}RecursionMatrix")
            if spec.hasBiasVectors:
                self.add_weight(f"{gate}_b", getattr(spec, f"{gate}BiasVector"), (self.hidden,),
                                f"{gate}BiasVector")
        self.has_bias = spec.hasBiasVectors
        self.activations = [_recurrent_activation(layer, a) for a in spec.activations]
        if len(self.activations) != 2:
            raise self.refuse("a GRU needs 2 activations")
        self.sequence_output = spec.sequenceOutput
        self.reverse = spec.reverseInput

    def forward(self, x, h0=None):
        f, g = self.activations
        xs, n, batch = _sequence(x, self.inputs)
        h = _state(h0, n, batch, self.hidden, xs)
        projected = {gate: torch.matmul(xs, getattr(self, f"{gate}_W").t()) for gate in self.GATES}
        if self.has_bias:
            projected = {gate: value + getattr(self, f"{gate}_b") for gate, value in projected.items()}
        outputs = [None] * xs.shape[0]
        steps = range(xs.shape[0] - 1, -1, -1) if self.reverse else range(xs.shape[0])
        for t in steps:
            z = f((projected["updateGate"][t] + h @ self.updateGate_R.t()).clamp(-GATE_CLIP, GATE_CLIP))
            r = f((projected["resetGate"][t] + h @ self.resetGate_R.t()).clamp(-GATE_CLIP, GATE_CLIP))
            o = g((projected["outputGate"][t] + (h * r) @ self.outputGate_R.t()).clamp(-GATE_CLIP, GATE_CLIP))
            h = (1 - z) * o + z * h
            outputs[t] = h
        y = torch.stack(outputs) if self.sequence_output else h.unsqueeze(0)
        return [_unsequence(y, n, batch), _unsequence(h.unsqueeze(0), n, batch)]


class SimpleRecurrent(LayerModule):
    def __init__(self, layer, context):
        super().__init__(layer)
        spec = layer.simpleRecurrent
        self.hidden, self.inputs = int(spec.outputVectorSize), int(spec.inputVectorSize)
        self.add_weight("W", spec.weightMatrix, (self.hidden, self.inputs), "weightMatrix")
        self.add_weight("R", spec.recursionMatrix, (self.hidden, self.hidden), "recursionMatrix")
        self.b = self.add_weight("b", spec.biasVector, (self.hidden,), "biasVector") if spec.hasBiasVector \
            else None
        self.activation = _recurrent_activation(layer, spec.activation)
        self.sequence_output = spec.sequenceOutput
        self.reverse = spec.reverseInput

    def forward(self, x, h0=None):
        xs, n, batch = _sequence(x, self.inputs)
        h = _state(h0, n, batch, self.hidden, xs)
        projected = xs @ self.W.t() + (self.b if self.b is not None else 0)
        outputs = [None] * xs.shape[0]
        steps = range(xs.shape[0] - 1, -1, -1) if self.reverse else range(xs.shape[0])
        for t in steps:
            h = self.activation(projected[t] + h @ self.R.t())
            outputs[t] = h
        y = torch.stack(outputs) if self.sequence_output else h.unsqueeze(0)
        return [_unsequence(y, n, batch), _unsequence(h.unsqueeze(0), n, batch)]


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "uniDirectionalLSTM": UniDirectionalLSTM,
    "biDirectionalLSTM": BiDirectionalLSTM,
    "gru": GRU,
    "simpleRecurrent": SimpleRecurrent,
}
