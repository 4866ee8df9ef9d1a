"""The checks of the neural-network layer types up to iOS 13 (convolution … custom, recurrent ones aside), MLS1xx.

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkLayerValidator.cpp (one validate<Type>Layer function
per layer type) and NeuralNetworkValidatorUtils.hpp. Each check takes (walker, layer) and returns the first
``Problem``, as the upstream function does; ``CHECKS`` maps layer types to them.
"""

from __future__ import annotations

from .._proto import nn_pb2
from ..coreml import UINT64_MASK, c_div, int32, uint64_product
from .base import LayerCheck, Problem
from .layers import (
    EMPTY,
    FLOAT16,
    FLOAT32,
    LAYER_PARAMETERS,
    LAYER_RANK,
    QINT,
    QUANTIZATION,
    QUINT,
    UNSPECIFIED,
    WEIGHTS_MISSING,
    WEIGHT_COUNT,
    WEIGHT_PRECISION,
    activation_problem,
    counts_and_ranks,
    counts_only,
    float_count,
    general_weights_problem,
    io_count_problem,
    label,
    mixed_precision,
    precision_problem,
    rank_problem,
    value_type,
)

def _convolution(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 2), (1, 1)):
        return problem
    if walker.nd_array:
        if problem := walker.nd_ranks(layer, "Convolution", 4, -1):
            return problem
    elif len(layer.input) != 1:
        return LAYER_PARAMETERS, (f"{label(layer)}: weights as a second input tensor are not supported with "
                                  "RANK5_ARRAY_MAPPING; use EXACT_ARRAY_MAPPING or static weights")
    params = layer.convolution
    if params.WhichOneof("ConvolutionPaddingType") is None:
        return LAYER_PARAMETERS, f"{label(layer)}: padding type is not set; set convolution.valid or convolution.same"
    deconvolution = params.isDeconvolution
    dynamic_weights = len(layer.input) != 1
    if deconvolution and dynamic_weights:
        return LAYER_PARAMETERS, f"{label(layer)}: deconvolution does not support weights as an input tensor"
    dilation = list(params.dilationFactor)
    if dynamic_weights and ((len(dilation) > 0 and dilation[0] > 1) or (len(dilation) > 1 and dilation[1] > 1)):
        return LAYER_PARAMETERS, f"{label(layer)}: dilated convolution does not support weights as an input tensor"
    if dynamic_weights:
        return None
    groups = params.nGroups or 1
    kernel = list(params.kernelSize)
    kernel_height = kernel[0] if len(kernel) > 0 else 3
    kernel_width = kernel[1] if len(kernel) > 1 else 3
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, (f"{label(layer)}: weights or bias fill several value fields; keep exactly one "
                                  "of floatValue, float16Value, rawValue")
    if params.hasBias and mixed_precision(weights_kind, bias_kind):
        return precision_problem(label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    out_channels, kernel_channels = params.outputChannels, params.kernelChannels
    if deconvolution:
        dims = (kernel_channels, out_channels // groups, kernel_height, kernel_width)
    else:
        dims = (out_channels, kernel_channels, kernel_height, kernel_width)
    expected = uint64_product(*dims)
    if weights_kind in (FLOAT32, FLOAT16):
        size = float_count(params.weights, weights_kind)
        if size != expected:
            names = ("kernelChannels × outputChannels/nGroups" if deconvolution
                     else "outputChannels × kernelChannels")
            return WEIGHT_COUNT, (f"{label(layer)}: weights hold {size} values but a "
                                  f"{' × '.join(str(d) for d in dims)} {'de' if deconvolution else ''}convolution "
                                  f"({names} × kernelHeight × kernelWidth) needs {expected}; resize the weights or "
                                  "fix outputChannels/kernelChannels/kernelSize")
    elif weights_kind == QUINT:
        if problem := general_weights_problem(params.weights, expected, out_channels, layer, "weights"):
            return problem
    else:
        return WEIGHTS_MISSING, (f"{label(layer)}: weights are not specified (no fp32, fp16 or quantized values); "
                                 f"fill them with {expected} values")
    if not params.hasBias:
        return None
    if bias_kind in (FLOAT32, FLOAT16):
        size = float_count(params.bias, bias_kind)
        if size != out_channels:
            return WEIGHT_COUNT, (f"{label(layer)}: bias has {size} values but outputChannels is {out_channels}; "
                                  "resize the bias or clear hasBias")
        return None
    if bias_kind == QUINT:
        return general_weights_problem(params.bias, out_channels, 1, layer, "bias")
    return WEIGHTS_MISSING, (f"{label(layer)}: hasBias is set but the bias is not specified; fill it with "
                             f"{out_channels} values or clear hasBias")


def _positive(layer, value: int, what: str) -> Problem | None:
    if value <= 0:
        return LAYER_PARAMETERS, f"{label(layer)}: {what} must be positive, got {value}"
    return None


def _convolution3d(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Convolution3D", 5, -1):
        return problem
    params = layer.convolution3d
    checks = (("inputChannels", params.inputChannels), ("outputChannels", params.outputChannels),
              ("nGroups", params.nGroups), ("kernelDepth", params.kernelDepth),
              ("kernelHeight", params.kernelHeight), ("kernelWidth", params.kernelWidth),
              ("strideDepth", params.strideDepth), ("strideHeight", params.strideHeight),
              ("strideWidth", params.strideWidth), ("dilationDepth", params.dilationDepth),
              ("dilationHeight", params.dilationHeight), ("dilationWidth", params.dilationWidth))
    for what, value in checks:
        if problem := _positive(layer, value, what):
            return problem
    for side in ("Front", "Back", "Top", "Bottom", "Left", "Right"):
        value = getattr(params, f"customPadding{side}")
        if value < 0:
            return LAYER_PARAMETERS, f"{label(layer)}: customPadding{side} must be non-negative, got {value}"
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{label(layer)}: weights or bias fill several value fields; keep exactly one"
    if params.hasBias and mixed_precision(weights_kind, bias_kind):
        return precision_problem(label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    if len(params.outputShape):
        if not params.isDeconvolution:
            return LAYER_PARAMETERS, f"{label(layer)}: outputShape is only supported for deconvolution; clear it"
        if len(params.outputShape) != 3:
            return LAYER_PARAMETERS, f"{label(layer)}: outputShape, if set, must have 3 values"
    if weights_kind == QUINT:
        return QUANTIZATION, f"{label(layer)}: quantized weights are not supported for convolution3d"
    groups, inputs, outputs = params.nGroups, params.inputChannels, params.outputChannels
    depth, height, width = params.kernelDepth, params.kernelHeight, params.kernelWidth
    if params.isDeconvolution:
        expected = int32((c_div(outputs, groups)) * inputs * depth * height * width) & UINT64_MASK
    else:
        expected = int32(outputs * c_div(inputs, groups) * depth * height * width) & UINT64_MASK
    if problem := general_weights_problem(params.weights, expected, outputs, layer, "weights"):
        return problem
    if not params.hasBias:
        return None
    if bias_kind in (FLOAT32, FLOAT16):
        size = float_count(params.bias, bias_kind)
        if size != outputs:
            return WEIGHT_COUNT, (f"{label(layer)}: bias has {size} values but outputChannels is {outputs}; resize "
                                  "the bias")
        return None
    if bias_kind == QUINT:
        return QUANTIZATION, f"{label(layer)}: a quantized bias is not supported for convolution3d"
    return WEIGHTS_MISSING, f"{label(layer)}: hasBias is set but the bias is not specified"


def _int8_dynamic_problem(layer, weights) -> Problem | None:
    """validateInt8Requirements."""
    where = f"{label(layer)} (int8DynamicQuantize)"
    if value_type(weights) != QINT:
        return QUANTIZATION, f"{where}: weights must be stored as int8RawValue with quantization parameters"
    quantization = weights.quantization
    if quantization.numberOfBits != 8:
        return QUANTIZATION, f"{where}: numberOfBits must be 8, got {quantization.numberOfBits}"
    if not quantization.HasField("linearQuantization"):
        return QUANTIZATION, f"{where}: linear quantization must be used"
    if len(quantization.linearQuantization.scale) != 1:
        return QUANTIZATION, f"{where}: linear quantization must have exactly one scale"
    if len(quantization.linearQuantization.bias):
        return QUANTIZATION, f"{where}: linear quantization bias must be empty"
    return None


def _matrix_weights_problem(layer, params, inputs: int, outputs: int, names: str) -> Problem | None:
    """validateInnerProductWeightsBias (innerProduct and batchedMatmul)."""
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, (f"{label(layer)}: weights or bias fill several value fields; keep exactly one "
                                  "of floatValue, float16Value, rawValue, int8RawValue")
    if params.hasBias and mixed_precision(weights_kind, bias_kind):
        return precision_problem(label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    expected = uint64_product(inputs, outputs)
    if weights_kind in (FLOAT32, FLOAT16):
        size = float_count(params.weights, weights_kind)
        if size != expected:
            return WEIGHT_COUNT, (f"{label(layer)}: weights hold {size} values but a {inputs} × {outputs} matrix "
                                  f"({names}) needs {expected}; resize the weights or fix {names}")
    elif weights_kind == QUINT:
        if problem := general_weights_problem(params.weights, expected, outputs, layer, "weights", weights_kind):
            return problem
    if params.hasBias:
        if bias_kind in (FLOAT32, FLOAT16):
            size = float_count(params.bias, bias_kind)
            if size != outputs:
                return WEIGHT_COUNT, (f"{label(layer)}: bias has {size} values but the layer has {outputs} "
                                      "outputs; resize the bias or clear hasBias")
        elif bias_kind == QUINT:
            return general_weights_problem(params.bias, outputs, 1, layer, "bias", bias_kind)
    return None


def _inner_product(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "InnerProduct", 1, 5):
        return problem
    params = layer.innerProduct
    if params.int8DynamicQuantize and (problem := _int8_dynamic_problem(layer, params.weights)):
        return problem
    return _matrix_weights_problem(layer, params, params.inputChannels, params.outputChannels,
                                   "inputChannels × outputChannels")


def _batched_matmul(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 2), (1, 1)):
        return problem
    params = layer.batchedMatmul
    inputs, in_tensors, out_tensors = len(layer.input), layer.inputTensor, layer.outputTensor
    if inputs == 2 and len(in_tensors) == 2 and len(out_tensors) == 1:
        first, second, out = (int32(t.rank) for t in (in_tensors[0], in_tensors[1], out_tensors[0]))
        if out != max(2, first, second):
            return LAYER_RANK, (f"{label(layer)}: output rank {out} is wrong for input ranks {first} and {second} "
                                f"(expected {max(2, first, second)})")
    if inputs == 1 and len(in_tensors) == 1 and len(out_tensors) == 1:
        if int32(out_tensors[0].rank) != int32(in_tensors[0].rank):
            return LAYER_RANK, f"{label(layer)}: with one input, the output rank must equal the input rank"
    if inputs > 1 and params.hasBias:
        return LAYER_PARAMETERS, f"{label(layer)}: hasBias is only supported with one input; clear hasBias"
    if inputs > 1 and params.int8DynamicQuantize:
        return QUANTIZATION, f"{label(layer)}: int8DynamicQuantize cannot be used with two inputs"
    if params.int8DynamicQuantize and (problem := _int8_dynamic_problem(layer, params.weights)):
        return problem
    if inputs == 1:
        return _matrix_weights_problem(layer, params, params.weightMatrixFirstDimension,
                                       params.weightMatrixSecondDimension,
                                       "weightMatrixFirstDimension × weightMatrixSecondDimension")
    return None


def _batchnorm(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Batchnorm", 3, -1):
        return problem
    params = layer.batchnorm
    kinds = [value_type(params.gamma), value_type(params.beta), value_type(params.mean), value_type(params.variance)]
    if mixed_precision(*kinds) or UNSPECIFIED in kinds:
        return WEIGHT_PRECISION, (f"{label(layer)}: gamma/beta/mean/variance mix half and full precision (or "
                                  "fill several value fields); store them all as fp32 or all as fp16")
    channels = params.channels
    for what, kind in (("gamma", kinds[0]), ("beta", kinds[1])):
        if problem := general_weights_problem(getattr(params, what), channels, 1, layer, what, kind):
            return problem
    if not params.computeMeanVar:
        # Upstream tests mean twice (not variance) here; an empty variance fails in the size check below.
        if kinds[2] == EMPTY:
            return WEIGHTS_MISSING, (f"{label(layer)}: mean and variance are missing; fill them with {channels} "
                                     "values each or set computeMeanVar")
        for what, kind in (("mean", kinds[2]), ("variance", kinds[3])):
            if problem := general_weights_problem(getattr(params, what), channels, 1, layer, what, kind):
                return problem
    return None


def _activation(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    kind = layer.activation.WhichOneof("NonlinearityType")
    if walker.nd_array and kind in ("PReLU", "parametricSoftplus"):
        name = "ActivationPReLU" if kind == "PReLU" else "ActivationParametricSoftplus"
        if problem := walker.rank_equality(layer, name) or walker.rank_count(layer, name, 3, -1):
            return problem
    return activation_problem(layer, layer.activation)


def _pooling_params(walker, layer) -> Problem | None:
    if layer.pooling.WhichOneof("PoolingPaddingType") is None:
        return LAYER_PARAMETERS, (f"{label(layer)}: padding type is not set; set pooling.valid, same or "
                                  "includeLastPixel")
    return None


def _pooling3d_params(walker, layer) -> Problem | None:
    params = layer.pooling3d
    for what, value in (("kernelDepth", params.kernelDepth), ("kernelHeight", params.kernelHeight),
                        ("kernelWidth", params.kernelWidth), ("strideDepth", params.strideDepth),
                        ("strideHeight", params.strideHeight), ("strideWidth", params.strideWidth)):
        if problem := _positive(layer, value, what):
            return problem
    custom = params.paddingType == nn_pb2().Pooling3DLayerParams.CUSTOM
    for side in ("Front", "Back", "Top", "Bottom", "Left", "Right"):
        value = getattr(params, f"customPadding{side}")
        if custom and value < 0:
            return LAYER_PARAMETERS, f"{label(layer)}: customPadding{side} must be non-negative, got {value}"
        if not custom and value != 0:
            return LAYER_PARAMETERS, (f"{label(layer)}: customPadding{side} is {value} but padding type is not "
                                      "CUSTOM; clear it or use CUSTOM padding")
    return None


def _padding_params(walker, layer) -> Problem | None:
    params = layer.padding
    amounts = len(params.paddingAmounts.borderAmounts)
    if amounts not in (0, 2):
        return LAYER_PARAMETERS, (f"{label(layer)}: {amounts} padding amounts given; give 2 (for y and x) or 0 "
                                  "for the defaults")
    if params.WhichOneof("PaddingType") is None:
        return LAYER_PARAMETERS, f"{label(layer)}: padding type is not set; set constant, reflection or replication"
    return None


def _lrn_params(walker, layer) -> Problem | None:
    if layer.lrn.k < 0.0:
        return LAYER_PARAMETERS, f"{label(layer)}: parameter k must be positive, got {layer.lrn.k}"
    return None


def _split(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (2, -1)):
        return problem
    if walker.nd_array:
        return walker.nd_ranks(layer, "Split", 3, -1) or walker.equal_ranks(layer, layer.output, "Split", "output")
    return None


def _upsample_params(walker, layer) -> Problem | None:
    params = layer.upsample
    upsample = nn_pb2().UpsampleLayerParams
    scaling, fractional = len(params.scalingFactor), len(params.fractionalScalingFactor)
    valid = fractional in (0, 2) if scaling == 0 else (fractional == 0 and scaling == 2)
    if not valid:
        return LAYER_PARAMETERS, (f"{label(layer)}: set either scalingFactor or fractionalScalingFactor, with 2 "
                                  f"values (found {scaling} and {fractional})")
    if fractional == 2 and (params.mode == upsample.NN or params.linearUpsampleMode == upsample.DEFAULT):
        return LAYER_PARAMETERS, (f"{label(layer)}: fractional upsampling needs BILINEAR mode with "
                                  "linearUpsampleMode ALIGN_CORNERS_TRUE or ALIGN_CORNERS_FALSE")
    if params.linearUpsampleMode != upsample.DEFAULT and params.mode == upsample.NN:
        return LAYER_PARAMETERS, (f"{label(layer)}: nearest-neighbour upsampling cannot use a linearUpsampleMode "
                                  "other than DEFAULT")
    return None


def _shaped_constant_problem(layer, weights, shape, what: str) -> Problem | None:
    """The shape-product size check shared by bias, scale and loadConstant ([C] / [1,H,W] / [C,H,W])."""
    total = uint64_product(*shape)
    out_channels = shape[0] if len(shape) == 3 and shape[0] > 1 else 1
    return general_weights_problem(weights, total, out_channels, layer, f"{what} (shape {list(shape)})")


def _bias_params(walker, layer) -> Problem | None:
    params = layer.bias
    if value_type(params.bias) == UNSPECIFIED:
        return WEIGHT_PRECISION, f"{label(layer)}: bias fills several value fields; keep exactly one"
    if len(params.shape) not in (1, 3):
        return LAYER_PARAMETERS, f"{label(layer)}: shape has {len(params.shape)} dimensions; it must be 1-D or 3-D"
    return _shaped_constant_problem(layer, params.bias, list(params.shape), "bias")


def _reshape_params(walker, layer) -> Problem | None:
    if len(layer.reshape.targetShape) not in (3, 4):
        return LAYER_PARAMETERS, f"{label(layer)}: targetShape must have 3 or 4 values"
    return None


def _permute_params(walker, layer) -> Problem | None:
    if len(layer.permute.axis) != 4:
        return LAYER_PARAMETERS, f"{label(layer)}: axis must have 4 values"
    return None


_INT32_SENTINELS = (-(1 << 31), (1 << 31) - 1)


def _reduce(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    if walker.nd_array and len(layer.inputTensor):
        if problem := walker.rank_equality(layer, "Reduce"):
            return problem
        rank = int32(layer.inputTensor[0].rank)
        reduce = nn_pb2().ReduceLayerParams
        axis = layer.reduce.axis
        if axis in _INT32_SENTINELS:
            return LAYER_PARAMETERS, f"{label(layer)}: unknown value {axis} for axis"
        needed = {reduce.CHW: 3, reduce.HW: 2, reduce.H: 1, reduce.W: 1, reduce.C: 1}.get(axis, 0)
        if rank < needed:
            return LAYER_RANK, f"{label(layer)}: input rank {rank} is smaller than the axes the reduction covers"
    return None


def _reorganize_params(walker, layer) -> Problem | None:
    if int32(layer.reorganizeData.blockSize) < 2:
        return LAYER_PARAMETERS, f"{label(layer)}: blockSize must be greater than 1"
    return None


def _slice(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    params = layer.slice
    if walker.nd_array and len(layer.inputTensor):
        if problem := walker.rank_equality(layer, "Slice"):
            return problem
        rank = int32(layer.inputTensor[0].rank)
        axes = nn_pb2().SliceLayerParams
        needed = {axes.CHANNEL_AXIS: 3, axes.HEIGHT_AXIS: 2, axes.WIDTH_AXIS: 1}.get(params.axis)
        if needed is None:
            return LAYER_PARAMETERS, f"{label(layer)}: unknown value {params.axis} for axis"
        if rank < needed:
            return LAYER_RANK, f"{label(layer)}: input rank {rank} is smaller than the sliced axis needs"
    if int32(params.stride) < 1:
        return LAYER_PARAMETERS, f"{label(layer)}: stride must be at least 1"
    start, end = params.startIndex, params.endIndex
    if (end > 0 and end < start) or (end < 0 and start < 0 and start > end):
        return LAYER_PARAMETERS, f"{label(layer)}: endIndex {end} is before startIndex {start}"
    return None


def _load_constant(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (0, 0), (1, 1)):
        return problem
    if walker.nd_array:
        rank = walker.rank_of(layer.output[0])
        if rank is not None and (problem := rank_problem(layer, "LoadConstant", 5, 5, "output", rank)):
            return problem
    params = layer.loadConstant
    if value_type(params.data) == UNSPECIFIED:
        return WEIGHT_PRECISION, f"{label(layer)}: data fills several value fields; keep exactly one"
    if len(params.shape) != 3:
        return LAYER_PARAMETERS, f"{label(layer)}: shape must have 3 values (a 3-D constant)"
    return _shaped_constant_problem(layer, params.data, list(params.shape), "constants")


def _scale(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Scale", 3, -1):
        return problem
    params = layer.scale
    scale_kind, bias_kind = value_type(params.scale), value_type(params.bias)
    if scale_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{label(layer)}: scale or bias fill several value fields; keep exactly one"
    if params.hasBias and mixed_precision(scale_kind, bias_kind):
        return precision_problem(label(layer), f"scale ({scale_kind}) and bias ({bias_kind})")
    if len(params.shapeScale) not in (1, 3):
        return LAYER_PARAMETERS, f"{label(layer)}: shapeScale has {len(params.shapeScale)} dimensions; use 1 or 3"
    if problem := _shaped_constant_problem(layer, params.scale, list(params.shapeScale), "scale"):
        return problem
    if params.hasBias:
        if len(params.shapeBias) not in (1, 3):
            return LAYER_PARAMETERS, f"{label(layer)}: shapeBias has {len(params.shapeBias)} dimensions; use 1 or 3"
        return _shaped_constant_problem(layer, params.bias, list(params.shapeBias), "bias")
    return None


def _crop(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 2), (1, 1)):
        return problem
    if walker.nd_array:
        if problem := walker.nd_ranks(layer, "Crop", 3, -1):
            return problem
        if len(layer.input) > 1 and (problem := walker.equal_ranks(layer, layer.input[:2], "Crop", "input")):
            return problem
    params = layer.crop
    if len(layer.input) == 1:
        if len(params.cropAmounts.borderAmounts) != 2:
            return LAYER_PARAMETERS, (f"{label(layer)}: cropAmounts has {len(params.cropAmounts.borderAmounts)} "
                                      "entries; give exactly 2 (for y and x)")
    elif len(params.offset) != 2:
        return LAYER_PARAMETERS, f"{label(layer)}: offset has {len(params.offset)} values; give exactly 2 (y and x)"
    return None


def _dot(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (2, 2), (1, 1)):
        return problem
    if walker.nd_array:
        return (walker.nd_ranks(layer, "DotProduct", 3, -1)
                or walker.equal_ranks(layer, layer.input[:2], "DotProduct", "input"))
    return None


def _embedding_weights(layer, params, vocabulary: int, outputs: int) -> Problem | None:
    """validateEmbeddingWeightsBias (embedding and embeddingND)."""
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{label(layer)}: weights or bias fill several value fields; keep exactly one"
    if params.hasBias and mixed_precision(weights_kind, bias_kind):
        return precision_problem(label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    if problem := general_weights_problem(params.weights, uint64_product(vocabulary, outputs), outputs, layer,
                                          "weights"):
        return problem
    if params.hasBias:
        return general_weights_problem(params.bias, outputs, 1, layer, "bias")
    return None


def _embedding(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Embedding", 4, -1):
        return problem
    params = layer.embedding
    return _embedding_weights(layer, params, params.inputDim, params.outputChannels)


def _embedding_nd(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "EmbeddingND", 2, 5):
        return problem
    params = layer.embeddingND
    return _embedding_weights(layer, params, params.vocabSize, params.embeddingSize)


def _concat(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (2, -1), (1, 1)):
        return problem
    if walker.nd_array:
        low = 5 if layer.concat.sequenceConcat else 3
        return (walker.nd_ranks(layer, "Concat", low, -1)
                or walker.equal_ranks(layer, layer.input, "Concat", "input"))
    return None


def _custom(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, -1), (1, -1)):
        return problem
    if not layer.custom.className:
        return LAYER_PARAMETERS, (f"{label(layer)}: className is empty; Core ML needs it to link the custom layer's "
                                  "implementation")
    for weights in layer.custom.weights:
        filled = [len(weights.floatValue) > 0, len(weights.float16Value) > 0, len(weights.rawValue) > 0,
                  len(weights.int8RawValue) > 0]
        if sum(filled) != 1:
            return WEIGHT_PRECISION, (f"{label(layer)}: a weights entry does not fill exactly one value field; treat "
                                      "WeightParams as a oneof")
    return None


# The check of each layer type these functions cover, by the layer's oneof case.
CHECKS: dict[str, LayerCheck] = {
    "convolution": _convolution,
    "convolution3d": _convolution3d,
    "innerProduct": _inner_product,
    "batchnorm": _batchnorm,
    "activation": _activation,
    "pooling": counts_and_ranks("Pooling", 4, -1, params=_pooling_params),
    "pooling3d": counts_and_ranks("Pooling3d", 5, -1, params=_pooling3d_params),
    "globalPooling3d": counts_and_ranks("Pooling3d", 5, -1),
    "padding": counts_and_ranks("Padding", 2, -1, params=_padding_params),
    "concat": _concat,
    "lrn": counts_and_ranks("LRNLayer", 3, -1, params=_lrn_params),
    "softmax": counts_and_ranks("Softmax", 3, -1),
    "split": _split,
    "add": counts_only((1, -1)),
    "multiply": counts_only((1, -1)),
    "unary": lambda walker, layer: io_count_problem(layer, (1, 1), (1, 1)) or (
        walker.rank_equality(layer, "Unary") if walker.nd_array else None),
    "upsample": counts_and_ranks("Upsample", 3, -1, params=_upsample_params),
    "bias": counts_and_ranks("Bias", 3, -1, params=_bias_params),
    "l2normalize": counts_and_ranks("L2Normalize", 3, -1),
    "reshape": counts_and_ranks("Reshape", 5, 5, params=_reshape_params),
    "flatten": counts_and_ranks("Flatten", 3, -1),
    "permute": counts_and_ranks("Permute", 5, 5, params=_permute_params),
    "reduce": _reduce,
    "loadConstant": _load_constant,
    "scale": _scale,
    "crop": _crop,
    "average": counts_only((1, -1)),
    "max": counts_only((1, -1)),
    "min": counts_only((1, -1)),
    "dot": _dot,
    "mvn": counts_and_ranks("MeanVarianceNormalize", 3, -1),
    "embedding": _embedding,
    "sequenceRepeat": counts_and_ranks("SequenceRepeat", 5, -1),
    "reorganizeData": counts_and_ranks("ReorganizeData", 3, -1, params=_reorganize_params),
    "slice": _slice,
    "custom": _custom,
    "batchedMatmul": _batched_matmul,
    "fillLike": counts_only((1, 1)),
    "fillDynamic": counts_only((1, 1)),
    "whereBroadcastable": counts_only((3, 3)),
    **{name: counts_only((1, 1)) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "exp2",
        "matrixBandPart", "upperTriangular", "lowerTriangular", "erf", "gelu", "clampedReLU", "whereNonZero",
        "ceil", "floor", "round", "sign", "getShape", "randomNormalLike", "randomNormalDynamic",
        "categoricalDistribution")},
    "powBroadcastable": counts_only((2, 2)),
    "reshapeLike": counts_only((2, 2)),
    "reshapeDynamic": counts_only((2, 2)),
    "broadcastToLike": counts_only((2, 2)),
    "broadcastToDynamic": counts_only((2, 2)),
    **{name: counts_only((2, 2)) for name in (
        "addBroadcastable", "subtractBroadcastable", "multiplyBroadcastable", "divideBroadcastable",
        "maxBroadcastable", "minBroadcastable", "floorDivBroadcastable", "modBroadcastable", "gather", "gatherND",
        "gatherAlongAxis", "reverseSeq", "sliceBySize")},
    "scatterND": counts_only((3, 3)),
    "scatterAlongAxis": counts_only((3, 3)),
    "sliceDynamic": counts_only((2, 7)),
    "tile": counts_only((1, 2)),
    "embeddingND": _embedding_nd,
    "NonMaximumSuppression": counts_only((2, 5), (4, 4)),
    "oneHot": counts_only((1, 2)),
    "cumSum": counts_only((1, 2)),
}
