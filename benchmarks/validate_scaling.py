"""Is validation linear in the number of layers? Time ``validate_spec`` on networks of 1,250 to 20,000 layers.

    python benchmarks/validate_scaling.py [--sizes 1250 2500 5000 10000 20000] [--rounds 3]

Two shapes of network, each built in memory at every size:

- ``blocks``: ``deep_network.py``'s chain (innerProduct, batchnorm, ReLU, a concat every fourth block);
- ``candidates``: a 1 × 1 convolution followed by a chain of per-channel scale, linear activation, bias and ReLU
  layers: three of every four are what a rewrite matcher looks at (MLS504), so the checks that look upstream of
  each candidate are exercised on every layer.

For each, the best of ``--rounds`` (CPU seconds of this process, steadier than wall time on a shared machine) and
the microseconds per layer: linear validation keeps that column flat as the network doubles. A report, never a
test.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deep_network import build_spec as blocks_spec  # noqa: E402
from mlsurgery._proto import model_pb2  # noqa: E402
from mlsurgery.validate import validate_spec  # noqa: E402

CHANNELS = 4
FLOAT32 = 65568  # ArrayFeatureType.FLOAT32


def candidates_spec(layer_count: int):
    """A convolution, then ``layer_count - 1`` layers cycling scale, linear activation, bias, ReLU."""
    spec = model_pb2().Model(specificationVersion=4)
    feature = spec.description.input.add(name="input")
    feature.type.multiArrayType.shape.extend([3, 8, 8])
    feature.type.multiArrayType.dataType = FLOAT32
    spec.description.output.add(name="output").type.multiArrayType.dataType = FLOAT32
    network = spec.neuralNetwork
    layer = network.layers.add(name="conv", input=["input"], output=["blob0"])
    conv = layer.convolution
    conv.outputChannels, conv.kernelChannels = CHANNELS, 3
    conv.kernelSize.extend([1, 1])
    conv.valid.SetInParent()
    conv.weights.floatValue.extend([0.1] * CHANNELS * 3)
    for index in range(1, layer_count):
        layer = network.layers.add(name=f"layer{index}", input=[f"blob{index - 1}"], output=[f"blob{index}"])
        step = index % 4
        if step == 1:
            layer.scale.shapeScale.extend([CHANNELS, 1, 1])
            layer.scale.scale.floatValue.extend([1.5] * CHANNELS)
        elif step == 2:
            layer.activation.linear.alpha = 2.0
        elif step == 3:
            layer.bias.shape.extend([CHANNELS, 1, 1])
            layer.bias.bias.floatValue.extend([0.5] * CHANNELS)
        else:
            layer.activation.ReLU.SetInParent()
    network.layers[-1].output[0] = "output"
    return spec


def best_cpu_seconds(spec, rounds: int) -> float:
    validate_spec(spec)  # imports and first-use caches out of the way
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        validate_spec(spec)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1250, 2500, 5000, 10000, 20000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    table = Table(title="validate_spec: best CPU time of each size (µs per layer flat = linear)", title_justify="left")
    for column in ("layers", "blocks ms", "blocks µs/layer", "candidates ms", "candidates µs/layer"):
        table.add_column(column, justify="right")
    for size in args.sizes:
        blocks = best_cpu_seconds(blocks_spec(size), args.rounds)
        candidates = best_cpu_seconds(candidates_spec(size), args.rounds)
        table.add_row(f"{size:,}", f"{blocks * 1e3:.0f}", f"{blocks * 1e6 / size:.1f}", f"{candidates * 1e3:.0f}",
                      f"{candidates * 1e6 / size:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
