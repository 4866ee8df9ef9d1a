"""The checks of the recurrent layer types (simpleRecurrent, gru, uni- and bidirectional LSTM), part of MLS1xx.

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkLayerValidator.cpp (validateSimpleRecurrentLayer,
validateGRULayer, validateUniDirectionalLSTMLayer, validateBiDirectionalLSTMLayer). Each check takes (walker,
layer) and returns the first ``Problem``; ``CHECKS`` maps the layer types to them.
"""

from __future__ import annotations

from .._proto import nn_pb2
from ..coreml import uint64_product
from .base import LayerCheck, Problem
from .layers import (
    LAYER_PARAMETERS,
    QUINT,
    UNSPECIFIED,
    WEIGHT_PRECISION,
    general_weights_problem,
    io_count_problem,
    label,
    mixed_precision,
    precision_problem,
    recurrent_activation_problem,
    value_type,
)


def _simple_recurrent(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (2, 2), (2, 2)) or walker.nd_ranks(layer, "SimpleRecurrent", 5, 5):
        return problem
    params = layer.simpleRecurrent
    weights, recursion = value_type(params.weightMatrix), value_type(params.recursionMatrix)
    bias = value_type(params.biasVector)
    if UNSPECIFIED in (weights, recursion) or (params.hasBiasVector and bias == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{label(layer)}: a weight/recursion/bias field fills several value fields"
    if weights != QUINT and recursion != QUINT:
        if weights != recursion or (params.hasBiasVector and bias != QUINT and weights != bias):
            return WEIGHT_PRECISION, (f"{label(layer)}: weightMatrix, recursionMatrix and biasVector must use the "
                                      "same precision (all fp32 or all fp16)")
    inputs, outputs = params.inputVectorSize, params.outputVectorSize
    checks = ((params.weightMatrix, uint64_product(inputs, outputs), outputs, "weightMatrix"),
              (params.recursionMatrix, uint64_product(outputs, outputs), outputs, "recursionMatrix"))
    if params.hasBiasVector:
        checks += ((params.biasVector, outputs, 1, "biasVector"),)
    for weights_message, expected, channels, what in checks:
        if problem := general_weights_problem(weights_message, expected, channels, layer, what):
            return problem
    return recurrent_activation_problem(layer, params.activation)


def _gru(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 2), (2, 2)) or walker.nd_ranks(layer, "GRU", 5, 5):
        return problem
    params = layer.gru
    matrices = ("updateGateWeightMatrix", "updateGateRecursionMatrix", "resetGateWeightMatrix",
                "resetGateRecursionMatrix", "outputGateWeightMatrix", "outputGateRecursionMatrix")
    biases = ("updateGateBiasVector", "resetGateBiasVector", "outputGateBiasVector")
    used = matrices + (biases if params.hasBiasVectors else ())
    if mixed_precision(*(value_type(getattr(params, name)) for name in used)):
        return precision_problem(label(layer), "weight/recursion matrices and biases")
    inputs, outputs = params.inputVectorSize, params.outputVectorSize
    checks = [(name, uint64_product(inputs, outputs), outputs) for name in matrices[0::2]]
    checks += [(name, uint64_product(outputs, outputs), outputs) for name in matrices[1::2]]
    if params.hasBiasVectors:
        checks += [(name, outputs, 1) for name in biases]
    for name, expected, channels in checks:
        if problem := general_weights_problem(getattr(params, name), expected, channels, layer, name):
            return problem
    for activation in params.activations:
        if problem := recurrent_activation_problem(layer, activation):
            return problem
    return None


_LSTM_MATRICES = ("inputGateWeightMatrix", "forgetGateWeightMatrix", "blockInputWeightMatrix",
                  "outputGateWeightMatrix")
_LSTM_RECURSIONS = ("inputGateRecursionMatrix", "forgetGateRecursionMatrix", "blockInputRecursionMatrix",
                    "outputGateRecursionMatrix")
_LSTM_BIASES = ("inputGateBiasVector", "forgetGateBiasVector", "blockInputBiasVector", "outputGateBiasVector")
_LSTM_PEEPHOLES = ("inputGatePeepholeVector", "forgetGatePeepholeVector", "outputGatePeepholeVector")


def _lstm_fields(lstm_params) -> tuple[str, ...]:
    fields = _LSTM_MATRICES + _LSTM_RECURSIONS
    if lstm_params.hasBiasVectors:
        fields += _LSTM_BIASES
    if lstm_params.hasPeepholeVectors:
        fields += _LSTM_PEEPHOLES
    return fields


def _lstm_precision_problem(layer, weight_params, lstm_params) -> Problem | None:
    """validateLSTMWeightParams."""
    kinds = [value_type(getattr(weight_params, name)) for name in _lstm_fields(lstm_params)]
    if mixed_precision(*kinds):
        return precision_problem(label(layer), "LSTM weight parameters")
    return None


def _lstm_weight_problem(layer, weight_params, name: str, inputs: int, outputs: int, prefix: str = ""):
    """The size check of one LSTM weight field: [out, in] matrices, [out, out] recursions, [out] vectors."""
    if name in _LSTM_MATRICES:
        expected, channels = uint64_product(outputs, inputs), outputs
    elif name in _LSTM_RECURSIONS:
        expected, channels = uint64_product(outputs, outputs), outputs
    else:
        expected, channels = outputs, 1
    return general_weights_problem(getattr(weight_params, name), expected, channels, layer,
                                   f"{prefix}{name}")


def _lstm_size_problems(layer, weight_params, lstm_params, inputs: int, outputs: int, prefix: str = ""):
    for name in _lstm_fields(lstm_params):
        if problem := _lstm_weight_problem(layer, weight_params, name, inputs, outputs, prefix):
            return problem
    return None


def _unidirectional_lstm(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 3), (3, 3)) or walker.nd_ranks(layer, "UniDirectionalLSTM", 5, 5):
        return problem
    params = layer.uniDirectionalLSTM
    for activation in params.activations:
        if problem := recurrent_activation_problem(layer, activation):
            return problem
    if problem := _lstm_precision_problem(layer, params.weightParams, params.params):
        return problem
    if len(params.activations) != 3:
        return LAYER_PARAMETERS, f"{label(layer)}: must provide 3 activations, found {len(params.activations)}"
    return _lstm_size_problems(layer, params.weightParams, params.params, params.inputVectorSize,
                               params.outputVectorSize)


def _bidirectional_lstm(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 5), (5, 5)) or walker.nd_ranks(layer, "BiDirectionalLSTM", 5, 5):
        return problem
    params = layer.biDirectionalLSTM
    for activation in list(params.activationsForwardLSTM) + list(params.activationsBackwardLSTM):
        if problem := recurrent_activation_problem(layer, activation):
            return problem
    # Upstream checks precision on the (unset) uniDirectionalLSTM field here, which always passes.
    for direction, activations in (("forward", params.activationsForwardLSTM),
                                   ("backward", params.activationsBackwardLSTM)):
        if len(activations) != 3:
            return LAYER_PARAMETERS, f"{label(layer)}: the {direction} LSTM must provide 3 activations"
    empty = nn_pb2().LSTMWeightParams()
    forward = params.weightParams[0] if len(params.weightParams) > 0 else empty
    backward = params.weightParams[1] if len(params.weightParams) > 1 else empty
    inputs, outputs = params.inputVectorSize, params.outputVectorSize
    lstm = params.params
    # Upstream order: forward matrices, forward recursions, backward matrices, backward recursions, then biases
    # (forward, backward), then peepholes (forward, backward).
    groups = [(forward, "forward ", _LSTM_MATRICES + _LSTM_RECURSIONS),
              (backward, "backward ", _LSTM_MATRICES + _LSTM_RECURSIONS)]
    if lstm.hasBiasVectors:
        groups += [(forward, "forward ", _LSTM_BIASES), (backward, "backward ", _LSTM_BIASES)]
    if lstm.hasPeepholeVectors:
        groups += [(forward, "forward ", _LSTM_PEEPHOLES), (backward, "backward ", _LSTM_PEEPHOLES)]
    for weight_params, prefix, names in groups:
        for name in names:
            if problem := _lstm_weight_problem(layer, weight_params, name, inputs, outputs, prefix):
                return problem
    return None


# The check of each recurrent layer type, by the layer's oneof case.
CHECKS: dict[str, LayerCheck] = {
    "simpleRecurrent": _simple_recurrent,
    "gru": _gru,
    "uniDirectionalLSTM": _unidirectional_lstm,
    "biDirectionalLSTM": _bidirectional_lstm,
}
