"""Build a deep Core ML network (default 10,000 layers) to time validation, deterministic.

The network is a chain of blocks — innerProduct (16 → 16, fp32 weights and bias), batchnorm, ReLU, and every
fourth block a concat of the block's input and output followed by an innerProduct back to 16 channels — so the
validator meets weights, several layer kinds and blobs read twice, as in a real deep model, not a chain of one
kind. Classifier head: innerProduct to 10 classes and a softmax.

    python benchmarks/deep_network.py OUT.mlmodel [--layers 10000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlsurgery._proto import model_pb2  # noqa: E402
from mlsurgery.io import serialize_spec, write_bytes_atomically  # noqa: E402

WIDTH, CLASSES = 16, 10


def build_spec(layer_count: int = 10_000):
    rng = np.random.default_rng(21)
    spec = model_pb2().Model(specificationVersion=4)
    feature = spec.description.input.add(name="input")
    feature.type.multiArrayType.shape.extend([WIDTH])
    feature.type.multiArrayType.dataType = feature.type.multiArrayType.FLOAT32
    output = spec.description.output.add(name="probabilities")
    output.type.multiArrayType.shape.extend([CLASSES])
    output.type.multiArrayType.dataType = output.type.multiArrayType.FLOAT32
    network = spec.neuralNetwork
    blob, block = "input", 0
    while len(network.layers) < layer_count - 2:
        block += 1
        start = blob
        blob = _dense(network, f"dense{block}", blob, WIDTH, WIDTH, rng)
        layer = network.layers.add(name=f"norm{block}", input=[blob], output=[f"norm{block}"])
        norm = layer.batchnorm
        norm.channels, norm.epsilon = WIDTH, 1e-5
        for weights, values in ((norm.gamma, np.ones(WIDTH)), (norm.beta, np.zeros(WIDTH)),
                                (norm.mean, rng.normal(size=WIDTH)), (norm.variance, np.ones(WIDTH))):
            weights.floatValue.extend(values.astype(np.float32).tolist())
        blob = layer.output[0]
        layer = network.layers.add(name=f"relu{block}", input=[blob], output=[f"relu{block}"])
        layer.activation.ReLU.SetInParent()
        blob = layer.output[0]
        if block % 4 == 0:
            layer = network.layers.add(name=f"concat{block}", input=[start, blob], output=[f"concat{block}"])
            layer.concat.SetInParent()
            blob = _dense(network, f"merge{block}", layer.output[0], 2 * WIDTH, WIDTH, rng)
    blob = _dense(network, "classifier", blob, WIDTH, CLASSES, rng)
    layer = network.layers.add(name="softmax", input=[blob], output=["probabilities"])
    layer.softmax.SetInParent()
    return spec


def _dense(network, name: str, blob: str, inputs: int, outputs: int, rng) -> str:
    layer = network.layers.add(name=name, input=[blob], output=[name])
    dense = layer.innerProduct
    dense.inputChannels, dense.outputChannels, dense.hasBias = inputs, outputs, True
    dense.weights.floatValue.extend(rng.uniform(-0.25, 0.25, inputs * outputs).astype(np.float32).tolist())
    dense.bias.floatValue.extend(np.zeros(outputs, np.float32).tolist())
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--layers", type=int, default=10_000)
    args = parser.parse_args()
    spec = build_spec(args.layers)
    write_bytes_atomically(serialize_spec(spec), args.out)
    print(f"{args.out}: {len(spec.neuralNetwork.layers)} layers, {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
