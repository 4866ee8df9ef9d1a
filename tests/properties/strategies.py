"""Hypothesis strategies: small valid NeuralNetwork specs of every flavour, and structural mutations of them.

Importing this module loads the one fixed profile of the property tests: derandomized (the same examples on
every machine, so CI is deterministic), few examples (the suite stays fast), no deadline (a shared CI machine is
noisy) and no example database (nothing written into the checkout).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings, strategies as st

from mlsurgery._proto import model_pb2

settings.register_profile(
    "mlsurgery", derandomize=True, max_examples=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
settings.load_profile("mlsurgery")

ACTIVATIONS = ("RELU", "SIGMOID", "TANH", None)


@st.composite
def network_specs(draw):
    """A valid classifier, regressor or plain network: dense layers with activations, fp32 or fp16 weights."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    mode = draw(st.sampled_from(["classifier", "regressor", None]))
    inputs = draw(st.integers(1, 6))
    widths = draw(st.lists(st.integers(1, 8), min_size=0, max_size=3))
    classes = draw(st.integers(2, 5))
    outputs = classes if mode == "classifier" else draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    out_name = "probabilities" if mode == "classifier" else "y"
    builder = NeuralNetworkBuilder([("x", datatypes.Array(inputs))],
                                   [(out_name, None if mode == "classifier" else datatypes.Array(outputs))],
                                   mode=mode, use_float_arraytype=True)
    blob, width = "x", inputs
    for index, next_width in enumerate(widths + [outputs]):
        last = index == len(widths)
        name = f"dense_{index}"
        target = name if not last or mode == "classifier" else out_name
        builder.add_inner_product(name, rng.standard_normal((next_width, width)).astype(np.float32),
                                  rng.standard_normal(next_width).astype(np.float32), width, next_width, True,
                                  blob, target)
        blob, width = target, next_width
        activation = draw(st.sampled_from(ACTIVATIONS)) if not last else None
        if activation:
            builder.add_activation(f"act_{index}", activation, blob, f"act_{index}")
            blob = f"act_{index}"
    if mode == "classifier":
        builder.add_softmax("softmax", blob, out_name)
        builder.set_class_labels([f"c{i}" for i in range(classes)], predicted_feature_name="label",
                                 prediction_blob=out_name)
    if mode == "regressor":
        builder.spec.description.predictedFeatureName = out_name
    spec = model_pb2().Model()
    spec.CopyFrom(builder.spec)
    if draw(st.booleans()):
        _to_fp16(spec)
    return spec


def _to_fp16(spec) -> None:
    kind = spec.WhichOneof("Type")
    for layer in getattr(spec, kind).layers:
        if layer.WhichOneof("layer") == "innerProduct":
            for weights in (layer.innerProduct.weights, layer.innerProduct.bias):
                weights.float16Value = np.asarray(weights.floatValue, dtype=np.float16).tobytes()
                del weights.floatValue[:]


def network(spec):
    return getattr(spec, spec.WhichOneof("Type"))


@st.composite
def mutated_specs(draw):
    """A valid spec with one to three structural edits Core ML may or may not accept."""
    spec = draw(network_specs())
    for _ in range(draw(st.integers(1, 3))):
        layers = network(spec).layers
        edit = draw(st.sampled_from(["drop layer", "rename input", "clear weights", "channels", "swap",
                                     "updatable", "version", "drop output", "drop input", "clear layer",
                                     "clear blobs"]))
        index = draw(st.integers(0, max(0, len(layers) - 1)))
        layer = layers[index] if layers else None
        if edit == "drop layer" and layer is not None:
            del layers[index]
        elif edit == "rename input" and layer is not None and layer.input:
            layer.input[0] = draw(st.sampled_from(["x", "missing", layer.name, ""]))
        elif edit == "clear weights" and layer is not None and layer.WhichOneof("layer") == "innerProduct":
            layer.innerProduct.weights.Clear()
        elif edit == "channels" and layer is not None and layer.WhichOneof("layer") == "innerProduct":
            layer.innerProduct.outputChannels = draw(st.integers(0, 2**40))
        elif edit == "swap" and len(layers) > 1:
            other = draw(st.integers(0, len(layers) - 1))
            a, b = type(layers[index])(), type(layers[other])()  # repeated messages cannot be swapped in place
            a.CopyFrom(layers[index])
            b.CopyFrom(layers[other])
            layers[index].CopyFrom(b)
            layers[other].CopyFrom(a)
        elif edit == "updatable" and layer is not None:
            layer.isUpdatable = True
            spec.isUpdatable = draw(st.booleans())
        elif edit == "version":
            spec.specificationVersion = draw(st.integers(-5, 12))
        elif edit == "drop output" and spec.description.output:
            del spec.description.output[0]
        elif edit == "drop input" and spec.description.input:
            del spec.description.input[0]
        elif edit == "clear blobs" and layer is not None:
            del layer.input[:]
            del layer.output[:]
        elif edit == "clear layer" and layer is not None:
            layer.ClearField(layer.WhichOneof("layer") or "name")
    return spec


def layer_names(spec) -> list[str]:
    return [layer.name for layer in network(spec).layers]
