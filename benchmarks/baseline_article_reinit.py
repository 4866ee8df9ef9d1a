"""The baseline: Kaiming re-initialisation of one layer the way the on-device training article does it.

hollance/coreml-training (Scripts/make_nn.py, 2019) re-draws a classifier layer with coremltools: load the spec,
copy the old weights into NumPy to get their shape, draw float64 uniforms, ``ClearField`` the repeated field and
``extend`` it with the new array, then save the spec. This script repeats those steps (not that code) for any
innerProduct layer, timing from load to save after the imports:

    python benchmarks/baseline_article_reinit.py MODEL OUT [--layer fc6]   → prints {"seconds": …}
"""

from __future__ import annotations

import argparse
import json
import time

import coremltools
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--layer", default="fc6")
    args = parser.parse_args()
    start = time.perf_counter()
    spec = coremltools.utils.load_spec(args.model)
    network = getattr(spec, spec.WhichOneof("Type"))
    layer = next(layer for layer in network.layers if layer.name == args.layer)
    dense = layer.innerProduct
    fan_in = dense.inputChannels
    old_weights = np.array(dense.weights.floatValue)
    old_bias = np.array(dense.bias.floatValue)
    new_weights = np.random.uniform(-np.sqrt(6.0 / fan_in), np.sqrt(6.0 / fan_in), old_weights.shape)
    new_bias = np.random.uniform(-1 / np.sqrt(fan_in), 1 / np.sqrt(fan_in), old_bias.shape)
    dense.weights.ClearField("floatValue")
    dense.weights.floatValue.extend(new_weights)
    dense.bias.ClearField("floatValue")
    dense.bias.floatValue.extend(new_bias)
    coremltools.utils.save_spec(spec, args.out)
    print(json.dumps({"seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
