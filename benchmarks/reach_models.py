"""Networks shaped like the ones users hold, built with coremltools, for ``benchmarks/reach.py``.

Each is what a converter of its kind writes (layer kinds, order, tails), with random weights: an image-to-image
model with a tanh → per-channel ``scale`` deprocess tail, one with a sigmoid → scalar ``scale``, one ending in a
``bias`` layer, a loadConstant + add tail, segmentation ending in a softmax over channels, a pose net ending in
nearest upsampling, a quality regressor ending in a reduce-mean over H and W, its ND ``reduceMean`` twin, a
classifier ending in a copy, fp16 and 8-bit exports, and a two-output model (a real choice for the user).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder
from coremltools.models.neural_network.quantization_utils import _quantize_spec_weights

_RNG = np.random.default_rng(19)


def _conv(builder, name, source, target, c_in, c_out, kernel=3):
    builder.add_convolution(name, c_in, c_out, kernel, kernel, 1, 1, "same", groups=1,
                            W=_RNG.standard_normal((kernel, kernel, c_in, c_out)).astype(np.float32) * 0.2,
                            b=_RNG.standard_normal(c_out).astype(np.float32) * 0.1, has_bias=True,
                            input_name=source, output_name=target)


def _backbone(builder, source="image", channels=3, width=8):
    _conv(builder, "conv1", source, "c1", channels, width)
    builder.add_activation("relu1", "RELU", "c1", "r1")
    _conv(builder, "conv2", "r1", "c2", width, width)
    builder.add_activation("relu2", "RELU", "c2", "r2")
    return "r2", width


def _image_builder(outputs, out_shape=(3, 16, 16)):
    return NeuralNetworkBuilder([("image", datatypes.Array(3, 16, 16))],
                                [(name, datatypes.Array(*out_shape)) for name in outputs])


def style_transfer_scale_tail():
    builder = _image_builder(["stylized"])
    blob, width = _backbone(builder)
    _conv(builder, "conv_out", blob, "c_out", width, 3)
    builder.add_activation("tanh", "TANH", "c_out", "t")
    builder.add_scale("deprocess", np.full(3, 127.5, np.float32), np.full(3, 127.5, np.float32), True, "t",
                      "stylized", shape_scale=[3], shape_bias=[3])
    return builder.spec


def enhancement_scalar_scale():
    builder = _image_builder(["enhanced"])
    blob, width = _backbone(builder)
    _conv(builder, "conv_out", blob, "c_out", width, 3)
    builder.add_activation("sigmoid", "SIGMOID", "c_out", "s")
    builder.add_scale("to_255", np.array([255.0], np.float32), None, False, "s", "enhanced", shape_scale=[1])
    return builder.spec


def denoise_bias_tail():
    builder = _image_builder(["clean"])
    blob, width = _backbone(builder)
    _conv(builder, "conv_out", blob, "c_out", width, 3)
    builder.add_activation("tanh", "TANH", "c_out", "t")
    builder.add_bias("shift", np.array([0.5, 0.4, 0.3], np.float32), "t", "clean", shape_bias=[3])
    return builder.spec


def constant_add_tail():
    builder = _image_builder(["restored"])
    blob, width = _backbone(builder)
    _conv(builder, "conv_out", blob, "c_out", width, 3)
    builder.add_activation("tanh", "TANH", "c_out", "t")
    builder.add_load_constant("mean", "mean", np.array([0.48, 0.46, 0.41], np.float32).reshape(3, 1, 1), [3, 1, 1])
    builder.add_elementwise("add_mean", ["t", "mean"], "restored", "ADD")
    return builder.spec


def constant_multiply_tail():
    builder = _image_builder(["scaled"])
    blob, width = _backbone(builder)
    _conv(builder, "conv_out", blob, "c_out", width, 3)
    builder.add_activation("sigmoid", "SIGMOID", "c_out", "s")
    builder.add_elementwise("times_255", ["s"], "scaled", "MULTIPLY", alpha=255.0)
    return builder.spec


def segmentation_softmax():
    builder = _image_builder(["mask"], (4, 16, 16))
    blob, width = _backbone(builder)
    _conv(builder, "logits", blob, "logits_out", width, 4, kernel=1)
    builder.add_softmax("softmax", "logits_out", "mask")
    return builder.spec


def pose_nearest_upsample():
    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 16, 16))], [("heatmaps", datatypes.Array(5, 32, 32))])
    blob, width = _backbone(builder)
    _conv(builder, "heads", blob, "h", width, 5, kernel=1)
    builder.add_upsample("upsample", 2, 2, "h", "heatmaps", mode="NN")
    return builder.spec


def quality_reduce_mean():
    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 16, 16))], [("score", datatypes.Array(1, 1, 1))])
    blob, width = _backbone(builder)
    _conv(builder, "score_map", blob, "m", width, 1, kernel=1)
    builder.add_reduce("mean_hw", "m", "score", axis="HW", mode="avg")
    return builder.spec


def quality_reduce_mean_nd():
    builder = NeuralNetworkBuilder([("image", datatypes.Array(1, 3, 16, 16))], [("score", datatypes.Array(1, 2, 1, 1))],
                                   disable_rank5_shape_mapping=True)
    blob, width = _backbone(builder)
    _conv(builder, "score_map", blob, "m", width, 2, kernel=1)
    builder.add_reduce_mean("mean_hw", "m", "score", axes=[-2, -1], keepdims=True)
    return builder.spec


def classifier_copy_output():
    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 16, 16))], [("scores", datatypes.Array(4))])
    blob, width = _backbone(builder)
    builder.add_flatten("flatten", 0, blob, "flat")
    builder.add_inner_product("dense", _RNG.standard_normal((4, width * 256)).astype(np.float32) * 0.05,
                              np.zeros(4, np.float32), width * 256, 4, True, "flat", "logits")
    builder.add_copy("copy_out", "logits", "scores")
    return builder.spec


def _classifier():
    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 16, 16))], [("probs", datatypes.Array(4))])
    blob, width = _backbone(builder)
    builder.add_flatten("flatten", 0, blob, "flat")
    builder.add_inner_product("dense", _RNG.standard_normal((4, width * 256)).astype(np.float32) * 0.05,
                              np.zeros(4, np.float32), width * 256, 4, True, "flat", "logits")
    builder.add_softmax("softmax", "logits", "probs")
    return builder.spec


def fp16_classifier():
    return _quantize_spec_weights(_classifier(), 16, "_linear_quantization")


def int8_classifier():
    return _quantize_spec_weights(_classifier(), 8, "_linear_quantization")


def fp16_style_transfer():
    return _quantize_spec_weights(style_transfer_scale_tail(), 16, "_linear_quantization")


def two_outputs():
    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 16, 16))],
                                   [("depth", datatypes.Array(1, 16, 16)), ("edges", datatypes.Array(1, 16, 16))])
    blob, width = _backbone(builder)
    _conv(builder, "depth_head", blob, "depth", width, 1, kernel=1)
    _conv(builder, "edge_head", blob, "edges", width, 1, kernel=1)
    return builder.spec


BUILDERS = [style_transfer_scale_tail, enhancement_scalar_scale, denoise_bias_tail, constant_add_tail,
            constant_multiply_tail, segmentation_softmax, pose_nearest_upsample, quality_reduce_mean,
            quality_reduce_mean_nd, classifier_copy_output, fp16_classifier, int8_classifier, fp16_style_transfer,
            two_outputs]


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for build in BUILDERS:
        spec = build()
        spec.specificationVersion = max(spec.specificationVersion, 4)
        path = folder / f"built_{build.__name__}.mlmodel"
        path.write_bytes(spec.SerializeToString())
        paths.append(path)
    return paths


if __name__ == "__main__":
    import sys

    for written in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/reach_models")):
        print(written)
