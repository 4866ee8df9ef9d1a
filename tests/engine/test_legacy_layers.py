"""Rank-5 networks (specification ≤ 3, as older converters wrote them) and image inputs, built with coremltools'
NeuralNetworkBuilder and checked against NumPy / PyTorch written from NeuralNetwork.proto's descriptions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from mlsurgery.engine import build_model

ct = pytest.importorskip("coremltools")
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402

SHAPE = (3, 4, 6)  # C, H, W


def _builder(shape=SHAPE, outputs=("out",)):
    return NeuralNetworkBuilder([("data", datatypes.Array(*shape))], [(name, None) for name in outputs])


def _run(builder, x):
    return build_model(builder.spec).predict({"data": x})


@pytest.fixture
def x():
    return np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)


def test_flatten_channel_last_orders_h_w_c(x):
    builder = _builder()
    builder.add_flatten("flat", mode=1, input_name="data", output_name="out")
    out = _run(builder, x)["out"]
    np.testing.assert_array_equal(out.reshape(-1), x.transpose(1, 2, 0).reshape(-1))


def test_reshape_channel_last_and_permute(x):
    builder = _builder(outputs=("reshaped", "permuted"))
    builder.add_reshape("reshape", "data", "reshaped", target_shape=(4, 3, 6), mode=1)
    builder.add_permute("permute", dim=(0, 3, 1, 2), input_name="data", output_name="permuted")
    out = _run(builder, x)
    # CHANNEL_LAST: flatten as H, W, C, reshape to [H', W', C'], then back to [C', H', W'].
    expected = x.transpose(1, 2, 0).reshape(3, 6, 4).transpose(2, 0, 1)
    np.testing.assert_array_equal(out["reshaped"].reshape(4, 3, 6), expected)
    # axis [0, 3, 1, 2] over [Seq, C, H, W]: the output is [Seq, W, C, H].
    np.testing.assert_array_equal(out["permuted"].reshape(6, 3, 4), x.transpose(2, 0, 1))


def test_softmax_concat_and_slice_work_on_the_channel_axis(x):
    builder = _builder(outputs=("soft", "joined", "sliced"))
    builder.add_softmax("soft", "data", "soft")
    builder.add_elementwise("joined", ["data", "soft"], "joined", mode="CONCAT")
    builder.add_slice("sliced", "joined", "sliced", axis="channel", start_index=1, end_index=-1, stride=2)
    out = _run(builder, x)
    soft = np.exp(x) / np.exp(x).sum(axis=0, keepdims=True)
    np.testing.assert_allclose(out["soft"], soft, atol=1e-6)
    joined = np.concatenate([x, soft])
    np.testing.assert_allclose(out["joined"], joined, atol=1e-6)
    np.testing.assert_allclose(out["sliced"], joined[1:5:2], atol=1e-6)  # end -1 is N - 1, exclusive


@pytest.mark.parametrize("layer_type", ["MAX", "AVERAGE"])
def test_pooling_include_last_pixel_is_ceil_mode_with_symmetric_padding(layer_type):
    x = np.random.default_rng(1).standard_normal((2, 7, 8)).astype(np.float32)
    builder = _builder((2, 7, 8))
    builder.add_pooling("pool", 3, 3, 2, 2, layer_type, "INCLUDE_LAST_PIXEL", "data", "out",
                        exclude_pad_area=False, padding_top=1, padding_bottom=1, padding_left=1,
                        padding_right=1)
    out = _run(builder, x)["out"]
    reference = torch.from_numpy(x)[None]
    if layer_type == "MAX":
        expected = torch.nn.functional.max_pool2d(reference, 3, 2, padding=1, ceil_mode=True)
    else:
        expected = torch.nn.functional.avg_pool2d(reference, 3, 2, padding=1, ceil_mode=True, count_include_pad=True)
    np.testing.assert_allclose(out, expected[0].numpy(), atol=1e-6)


@pytest.mark.parametrize("mode, top", [("BOTTOM_RIGHT_HEAVY", 0), ("TOP_LEFT_HEAVY", 1)])
def test_same_padding_puts_the_odd_row_where_the_asymmetry_mode_says(mode, top):
    x = np.random.default_rng(2).standard_normal((1, 5, 5)).astype(np.float32)
    weights = np.random.default_rng(3).standard_normal((2, 1, 2, 2)).astype(np.float32)
    builder = _builder((1, 5, 5))
    builder.add_convolution("conv", kernel_channels=1, output_channels=2, height=2, width=2, stride_height=1,
                            stride_width=1, border_mode="same", groups=1,
                            W=weights.transpose(2, 3, 1, 0), b=None, has_bias=False, input_name="data",
                            output_name="out", same_padding_asymmetry_mode=mode)
    out = _run(builder, x)["out"]
    # kernel 2 on 5 pixels: one row and one column of padding in all, before (TOP_LEFT) or after.
    padded = np.pad(x, ((0, 0), (top, 1 - top), (top, 1 - top)))
    expected = torch.nn.functional.conv2d(torch.from_numpy(padded)[None], torch.from_numpy(weights))[0].numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("bgr", [False, True])
def test_image_input_scaler_applies_scale_and_per_channel_biases_in_the_models_channel_order(bgr):
    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 5, 4))], [("out", None)])
    builder.add_activation("identity", "LINEAR", "image", "out", params=[1.0, 0.0])
    builder.set_pre_processing_parameters(image_input_names=["image"], is_bgr=bgr, red_bias=-1.0, green_bias=-2.0,
                                          blue_bias=-3.0, image_scale=2.0)
    spec = builder.spec
    from coremltools.proto import FeatureTypes_pb2

    image_type = spec.description.input[0].type
    image_type.imageType.width, image_type.imageType.height = 4, 5
    image_type.imageType.colorSpace = FeatureTypes_pb2.ImageFeatureType.BGR if bgr else \
        FeatureTypes_pb2.ImageFeatureType.RGB
    pixels = np.random.default_rng(4).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    out = build_model(spec).predict({"image": Image.fromarray(pixels, "RGB")})["out"]
    channels = pixels.transpose(2, 0, 1).astype(np.float32)
    if bgr:
        expected = channels[::-1] * 2.0 + np.array([-3.0, -2.0, -1.0]).reshape(3, 1, 1)
    else:
        expected = channels * 2.0 + np.array([-1.0, -2.0, -3.0]).reshape(3, 1, 1)
    np.testing.assert_allclose(out.reshape(3, 5, 4), expected, atol=1e-5)


def test_an_image_of_another_size_is_resized_with_pillow():
    builder = NeuralNetworkBuilder([("image", datatypes.Array(1, 6, 8))], [("out", None)])
    builder.add_activation("identity", "LINEAR", "image", "out", params=[1.0, 0.0])
    spec = builder.spec
    from coremltools.proto import FeatureTypes_pb2

    image_type = spec.description.input[0].type
    image_type.imageType.width, image_type.imageType.height = 8, 6
    image_type.imageType.colorSpace = FeatureTypes_pb2.ImageFeatureType.GRAYSCALE
    big = Image.fromarray(np.random.default_rng(5).integers(0, 256, (30, 40), dtype=np.uint8), "L")
    out = build_model(spec).predict({"image": big})["out"]
    expected = np.asarray(big.resize((8, 6), Image.BILINEAR), dtype=np.float32)
    np.testing.assert_array_equal(out.reshape(6, 8), expected)
