"""Build a VGG16-sized Core ML classifier spec (553 MB in fp32) with deterministic random weights.

The layer shapes are VGG16's (13 3×3 convolutions, fc6 25088 → 4096, fc7 4096 → 4096, fc8 4096 → 1000; 138.4 M
parameters), so the file has the size and the one huge WeightParams (fc6, 411 MB) that make surgery slow with
the usual protobuf idioms. The metadata carries three userDefined entries like coremltools' converters write.
Weights are uniform in ±√(6/fan_in) from ``numpy.random.default_rng(16)``; the same precision always gives the
same bytes.

    python benchmarks/vgg16_spec.py OUT.mlmodel [--precision fp32|fp16|int8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlsurgery._proto import model_pb2  # noqa: E402
from mlsurgery.io import serialize_spec, write_bytes_atomically  # noqa: E402
from mlsurgery.ops.reinit import uniform_fill  # noqa: E402
from mlsurgery.weights import fill_float_values  # noqa: E402

# (name, input channels, output channels) of each 3×3 convolution, then "pool" after each block.
CONVOLUTIONS = [("conv1_1", 3, 64), ("conv1_2", 64, 64), "pool",
                ("conv2_1", 64, 128), ("conv2_2", 128, 128), "pool",
                ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), "pool",
                ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512), "pool",
                ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512), "pool"]
DENSE = [("fc6", 512 * 7 * 7, 4096), ("fc7", 4096, 4096), ("fc8", 4096, 1000)]
CLASSES = 1000
PRECISIONS = ("fp32", "fp16", "int8")


def build_spec(precision: str = "fp32"):
    rng = np.random.default_rng(16)
    spec = model_pb2().Model(specificationVersion=4)
    description = spec.description
    image = description.input.add(name="image")
    image.type.imageType.width = image.type.imageType.height = 224
    image.type.imageType.colorSpace = image.type.imageType.RGB
    probabilities = description.output.add(name="classLabelProbs")
    probabilities.type.dictionaryType.stringKeyType.SetInParent()
    label = description.output.add(name="classLabel")
    label.type.stringType.SetInParent()
    description.predictedFeatureName, description.predictedProbabilitiesName = "classLabel", "classLabelProbs"
    description.metadata.shortDescription = "VGG16-sized benchmark classifier with random weights"
    description.metadata.userDefined.update({"com.github.apple.coremltools.source": "torch==2.1.0",
                                              "com.github.apple.coremltools.source_dialect": "TorchScript",
                                              "com.github.apple.coremltools.version": "7.1"})
    network = spec.neuralNetworkClassifier
    network.stringClassLabels.vector.extend(f"class{i}" for i in range(CLASSES))
    blob, pools = "image", 0
    for entry in CONVOLUTIONS:
        if entry == "pool":
            pools += 1
            blob = _add(network, f"pool{pools}", blob, "pooling", lambda p: _max_pool(p))
            continue
        name, inputs, outputs = entry
        layer_blob = _add(network, name, blob, "convolution", lambda p: _convolution(p, inputs, outputs))
        _fill(network.layers[-1].convolution, outputs * inputs * 9, outputs, inputs * 9, precision, rng)
        blob = _add(network, f"relu{name[4:]}", layer_blob, "activation", lambda p: p.ReLU.SetInParent())
    blob = _add(network, "flatten", blob, "flatten", lambda p: None)
    for name, inputs, outputs in DENSE:
        blob = _add(network, name, blob, "innerProduct", lambda p: _dense(p, inputs, outputs))
        _fill(network.layers[-1].innerProduct, outputs * inputs, outputs, inputs, precision, rng)
        if name != "fc8":
            blob = _add(network, f"relu{name[2:]}", blob, "activation", lambda p: p.ReLU.SetInParent())
    _add(network, "softmax", blob, "softmax", lambda p: None, output="classLabelProbs")
    network.labelProbabilityLayerName = "classLabelProbs"
    return spec


def _add(network, name, blob, kind, configure, output=None):
    layer = network.layers.add(name=name, input=[blob], output=[output or name])
    params = getattr(layer, kind)
    params.SetInParent()
    configure(params)
    return layer.output[0]


def _max_pool(params):
    params.type = params.MAX
    params.kernelSize.extend([2, 2])
    params.stride.extend([2, 2])
    params.valid.SetInParent()


def _convolution(params, inputs, outputs):
    params.outputChannels, params.kernelChannels, params.nGroups, params.hasBias = outputs, inputs, 1, True
    params.kernelSize.extend([3, 3])
    params.stride.extend([1, 1])
    params.same.SetInParent()


def _dense(params, inputs, outputs):
    params.inputChannels, params.outputChannels, params.hasBias = inputs, outputs, True


def _fill(params, weight_count, outputs, fan_in, precision, rng):
    for weights, count in ((params.weights, weight_count), (params.bias, outputs)):
        if precision == "fp32":
            fill_float_values(weights, count, uniform_fill(rng, np.sqrt(6 / fan_in)), chunk=count)
        elif precision == "fp16":
            values = rng.uniform(-1, 1, count).astype(np.float32) * np.float32(np.sqrt(6 / fan_in))
            weights.float16Value = values.astype("<f2").tobytes()
        else:  # 8-bit linear quantization, one scale and bias per output channel
            weights.rawValue = rng.integers(0, 256, count, dtype=np.uint8).tobytes()
            channels = outputs if count > outputs else 1
            weights.quantization.numberOfBits = 8
            weights.quantization.linearQuantization.scale.extend([2 * np.sqrt(6 / fan_in) / 255] * channels)
            weights.quantization.linearQuantization.bias.extend([-np.sqrt(6 / fan_in)] * channels)


def build(path: Path, precision: str = "fp32") -> Path:
    write_bytes_atomically(serialize_spec(build_spec(precision)), Path(path))
    return Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32")
    args = parser.parse_args()
    print(f"{build(args.out, args.precision)}: {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
