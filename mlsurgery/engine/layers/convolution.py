"""Spatial layers on the last three axes [C, H, W]: convolution and deconvolution, pooling, padding, crop,
upsample; and the 3-D convolution and pooling on the last four [C, D, H, W]. Padding amounts and output sizes
follow NeuralNetwork.proto's ValidPadding / SamePadding / ValidCompletePadding formulas and the 3-D layers'
PaddingType; the leading axes are batch."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .base import LayerModule, Stateless, Translator


def _pair(values, default: tuple[int, int]) -> tuple[int, int]:
    values = tuple(int(v) for v in values)
    return values if len(values) == 2 else default


def _shared_weight(weights: torch.Tensor) -> torch.Tensor:
    """Weights given as the second input: one tensor for the examples computed at once, so they must agree."""
    if not bool((weights == weights[:1]).all()):
        raise ValueError("the examples of one batch give different convolution weights; predict them one at a time")
    return weights[0]


def _as_images(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``[..., C, H, W]`` → ``[B, C, H, W]`` and the leading shape to restore."""
    lead = x.shape[:-3]
    return x.reshape(-1, *x.shape[-3:]), lead


def _border(amounts) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a BorderAmounts message (all zero when unset)."""
    edges = list(amounts.borderAmounts)
    if len(edges) != 2:
        return (0, 0, 0, 0)
    return (int(edges[0].startEdgeSize), int(edges[0].endEdgeSize), int(edges[1].startEdgeSize),
            int(edges[1].endEdgeSize))


def same_padding(size: int, kernel: int, stride: int, top_left_heavy: bool) -> tuple[int, int]:
    """(start, end) padding of SamePadding: out = ceil(in / stride)."""
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + kernel - size)
    small = total // 2
    return (total - small, small) if top_left_heavy else (small, total - small)


def _same_mode_top_left(padding) -> bool:
    return padding.asymmetryMode == type(padding).SamePaddingMode.Value("TOP_LEFT_HEAVY")


class Convolution(LayerModule):
    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.convolution
        self.groups = int(params.nGroups or 1)
        self.kernel = _pair(params.kernelSize, (3, 3))
        self.stride = _pair(params.stride, (1, 1))
        self.dilation = _pair(params.dilationFactor, (1, 1))
        self.deconvolution = params.isDeconvolution
        self.padding_kind = params.WhichOneof("ConvolutionPaddingType") or "valid"
        self.padding = params.valid.paddingAmounts if self.padding_kind == "valid" else params.same
        self.output_shape = tuple(int(v) for v in params.outputShape)
        out, kernel_channels = int(params.outputChannels), int(params.kernelChannels)
        if self.deconvolution:
            shape = (kernel_channels, out // self.groups, *self.kernel)
            channel_axis = 1
        else:
            shape = (out, kernel_channels, *self.kernel)
            channel_axis = 0
        self.weight = None
        if len(layer.input) == 1:
            self.add_weight("weight", params.weights, shape, "weights", channel_axis=channel_axis)
        self.bias = self.add_weight("bias", params.bias, (out,), "bias") if params.hasBias else None

    def forward(self, x, dynamic_weight=None):
        weight = self.weight if dynamic_weight is None else _shared_weight(dynamic_weight)
        images, lead = _as_images(x)
        y = self._deconvolve(images, weight) if self.deconvolution else self._convolve(images, weight)
        return [y.reshape(*lead, *y.shape[1:])]

    def _convolve(self, images, weight):
        kernel = [(k - 1) * d + 1 for k, d in zip(self.kernel, self.dilation)]
        if self.padding_kind == "same":
            top_left = _same_mode_top_left(self.padding)
            top, bottom = same_padding(images.shape[-2], kernel[0], self.stride[0], top_left)
            left, right = same_padding(images.shape[-1], kernel[1], self.stride[1], top_left)
        else:
            top, bottom, left, right = _border(self.padding)
        if top == bottom and left == right:
            return F.conv2d(images, weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        padded = F.pad(images, (left, right, top, bottom))
        return F.conv2d(padded, weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def _deconvolve(self, images, weight):
        # Full transposed convolution, then cropped to the proto's output size (dilation is ignored for
        # deconvolution, NeuralNetwork.proto).
        full = F.conv_transpose2d(images, weight, self.bias, self.stride, 0, 0, self.groups)
        height, width = full.shape[-2:]
        if self.output_shape:
            out_h, out_w = self.output_shape
            # The proto ignores the padding type when outputShape is set: the output starts at the top-left.
            if out_h > height or out_w > width:
                full = F.pad(full, (0, max(0, out_w - width), 0, max(0, out_h - height)))
            return full[..., :out_h, :out_w]
        if self.padding_kind == "same":
            top_left = _same_mode_top_left(self.padding)
            out_h, out_w = images.shape[-2] * self.stride[0], images.shape[-1] * self.stride[1]
            top = _crop_start(height - out_h, top_left)
            left = _crop_start(width - out_w, top_left)
            return full[..., top:top + out_h, left:left + out_w]
        top, bottom, left, right = _border(self.padding)
        return full[..., top:height - bottom, left:width - right]


def _crop_start(total: int, top_left_heavy: bool) -> int:
    small = total // 2
    return total - small if top_left_heavy else small


class Pooling(LayerModule):
    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.pooling
        kinds = type(params).PoolingType
        self.mode = kinds.Name(params.type)
        self.kernel = _pair(params.kernelSize, (3, 3))
        self.stride = _pair(params.stride, (1, 1))
        self.global_pooling = params.globalPooling
        self.exclude_padding = params.avgPoolExcludePadding
        self.padding_kind = params.WhichOneof("PoolingPaddingType") or "valid"
        self.params = params
        self._counts: dict[tuple[int, int], torch.Tensor] = {}

    def forward(self, x):
        images, lead = _as_images(x)
        if self.global_pooling:
            y = self._global(images)
        else:
            y = self._windowed(images)
        return [y.reshape(*lead, *y.shape[1:])]

    def _global(self, images):
        if self.mode == "MAX":
            return images.amax(dim=(-2, -1), keepdim=True)
        if self.mode == "AVERAGE":
            return images.mean(dim=(-2, -1), keepdim=True)
        return images.square().sum(dim=(-2, -1), keepdim=True).sqrt()

    def _amounts(self, height: int, width: int):
        """(top, bottom, left, right) padding of the input, and the (top, bottom, left, right) region around the
        input that average pooling counts as padding (the rest of the padded area never counts)."""
        kernel, stride = self.kernel, self.stride
        if self.padding_kind == "same":
            top_left = _same_mode_top_left(self.params.same)
            top, bottom = same_padding(height, kernel[0], stride[0], top_left)
            left, right = same_padding(width, kernel[1], stride[1], top_left)
            return (top, bottom, left, right), (top, bottom, left, right)
        if self.padding_kind == "valid":
            amounts = _border(self.params.valid.paddingAmounts)
            return amounts, amounts
        pad_h, pad_w = _pair(self.params.includeLastPixel.paddingAmounts, (0, 0))
        extra_h = _include_last_pixel_end(height, kernel[0], stride[0], pad_h)
        extra_w = _include_last_pixel_end(width, kernel[1], stride[1], pad_w)
        return (pad_h, extra_h, pad_w, extra_w), (pad_h, pad_h, pad_w, pad_w)

    def _windowed(self, images):
        height, width = images.shape[-2:]
        (top, bottom, left, right), counted = self._amounts(height, width)
        if self.mode == "MAX":
            padded = F.pad(images, (left, right, top, bottom), value=-math.inf)
            return F.max_pool2d(padded, self.kernel, self.stride)
        padded = F.pad(images, (left, right, top, bottom))
        if self.mode == "L2":
            return (F.avg_pool2d(padded.square(), self.kernel, self.stride) * (self.kernel[0] * self.kernel[1])).sqrt()
        window = self.kernel[0] * self.kernel[1]
        sums = F.avg_pool2d(padded, self.kernel, self.stride) * window
        return sums / self._count(height, width, (top, bottom, left, right), counted, images)

    def _count(self, height, width, amounts, counted, like):
        key = (height, width)
        cached = self._counts.get(key)
        if cached is not None and cached.dtype == like.dtype:
            return cached
        top, bottom, left, right = amounts
        mask = torch.zeros(1, 1, height + top + bottom, width + left + right, dtype=like.dtype)
        if self.exclude_padding:
            mask[..., top:top + height, left:left + width] = 1
        else:
            c_top, c_bottom, c_left, c_right = counted
            mask[..., top - c_top:top + height + c_bottom, left - c_left:left + width + c_right] = 1
        window = self.kernel[0] * self.kernel[1]
        count = F.avg_pool2d(mask, self.kernel, self.stride)[0] * window
        count = count.clamp(min=1)
        self._counts[key] = count
        return count


def _include_last_pixel_end(size: int, kernel: int, stride: int, pad: int) -> int:
    """Padding after the input that ValidCompletePadding needs for its output size (NeuralNetwork.proto)."""
    out = math.ceil((size + 2 * pad - kernel) / stride) + 1
    if pad > 0 and (out - 1) * stride >= size + pad:
        out -= 1
    return max(0, (out - 1) * stride + kernel - size - pad)


def padding(layer, context):
    params = layer.padding
    top, bottom, left, right = _border(params.paddingAmounts)
    kind = params.WhichOneof("PaddingType") or "constant"
    value = params.constant.value

    def function(x):
        images, lead = _as_images(x) if x.dim() >= 4 else (x.unsqueeze(0), x.shape[:-2])
        if kind == "constant":
            y = F.pad(images, (left, right, top, bottom), value=value)
        else:
            y = F.pad(images, (left, right, top, bottom), mode="reflect" if kind == "reflection" else "replicate")
        return y.reshape(*lead, *y.shape[-3:]) if x.dim() >= 4 else y.reshape(*lead, *y.shape[-2:])

    return Stateless(layer, function)


def crop(layer, context):
    params = layer.crop
    top, bottom, left, right = _border(params.cropAmounts)
    offset = [int(v) for v in params.offset]

    def function(x, reference=None):
        if reference is not None:
            height, width = reference.shape[-2:]
            row, column = offset if len(offset) == 2 else (0, 0)
            return x[..., row:row + height, column:column + width]
        return x[..., top:x.shape[-2] - bottom, left:x.shape[-1] - right]

    return Stateless(layer, function)


def upsample(layer, context):
    params = layer.upsample
    modes = type(params).InterpolationMode
    bilinear = params.mode == modes.Value("BILINEAR")
    fractional = tuple(params.fractionalScalingFactor)
    factors = tuple(float(v) for v in fractional) if fractional else tuple(float(v) for v in _pair(params.scalingFactor, (1, 1)))
    linear_mode = type(params).LinearUpsampleMode.Name(params.linearUpsampleMode)

    def function(x):
        images, lead = _as_images(x)
        out_h, out_w = int(images.shape[-2] * factors[0]), int(images.shape[-1] * factors[1])
        if not bilinear:
            rows = (torch.arange(out_h) // factors[0]).long()
            columns = (torch.arange(out_w) // factors[1]).long()
            y = images[..., rows, :][..., columns]
        else:
            y = _bilinear(images, out_h, out_w, linear_mode)
        return y.reshape(*lead, *y.shape[1:])

    return Stateless(layer, function)


def _grid(size_in: int, size_out: int, mode: str) -> torch.Tensor:
    """Sampling positions of upsample's LinearUpsampleMode (NeuralNetwork.proto, UpsampleLayerParams)."""
    i = torch.arange(size_out, dtype=torch.float64)
    if mode == "ALIGN_CORNERS_TRUE":
        spacing = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        points = i * spacing
    elif mode == "ALIGN_CORNERS_FALSE":
        spacing = size_in / size_out
        points = i * spacing + 0.5 * spacing - 0.5
    else:
        spacing = (size_in - size_in / size_out) / (size_out - 1) if size_out > 1 else 0.0
        points = i * spacing
    return points.clamp(0, size_in - 1)


def _bilinear(images, out_h: int, out_w: int, mode: str):
    return _interpolate(images, _grid(images.shape[-2], out_h, mode), _grid(images.shape[-1], out_w, mode))

def _sampling_grid(size_in: int, size_out: int, method: str) -> torch.Tensor:
    """Grid points of SamplingMode (NeuralNetwork.proto) on [0, size_in - 1]."""
    if method == "ALIGN_ENDPOINTS_MODE" and size_out == 1:
        return torch.full((1,), (size_in - 1) / 2, dtype=torch.float64)
    if method in ("STRICT_ALIGN_ENDPOINTS_MODE", "ALIGN_ENDPOINTS_MODE"):
        return torch.linspace(0, size_in - 1, size_out, dtype=torch.float64)
    if method == "UPSAMPLE_MODE":
        return torch.linspace(0, size_in - size_in / size_out, size_out, dtype=torch.float64).clamp(max=size_in - 1)
    spacing = max(1, size_in - 1) / size_out  # ROI_ALIGN_MODE
    start = 0.5 * spacing
    return torch.linspace(start, start + (size_out - 1) * spacing, size_out, dtype=torch.float64).clamp(
        max=size_in - 1)


def _interpolate(images, rows_grid, columns_grid):
    def weights(points, size_in):
        low = points.floor().long().clamp(0, size_in - 1)
        high = (low + 1).clamp(max=size_in - 1)
        return low, high, (points - low).to(images.dtype)

    row_low, row_high, row_fraction = weights(rows_grid, images.shape[-2])
    column_low, column_high, column_fraction = weights(columns_grid, images.shape[-1])
    rows = images[..., row_low, :] * (1 - row_fraction)[:, None] + images[..., row_high, :] * row_fraction[:, None]
    return rows[..., column_low] * (1 - column_fraction) + rows[..., column_high] * column_fraction


def resize_bilinear(layer, context):
    params = layer.resizeBilinear
    out_h, out_w = _pair(params.targetSize, (1, 1))
    method = type(params.mode).Method.Name(params.mode.samplingMethod)

    def function(x):
        images, lead = _as_images(x)
        y = _interpolate(images, _sampling_grid(images.shape[-2], out_h, method),
                         _sampling_grid(images.shape[-1], out_w, method))
        return y.reshape(*lead, *y.shape[1:])

    return Stateless(layer, function)


def _as_volumes(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``[..., C, D, H, W]`` → ``[B, C, D, H, W]`` and the leading shape to restore."""
    if x.dim() < 5:
        raise ValueError("a 3-D layer needs an input of rank 4 or more ([C, D, H, W] after any batch axes)")
    return x.reshape(-1, *x.shape[-4:]), x.shape[:-4]


def _flat_padding(amounts) -> tuple[int, ...]:
    """((front, back), (top, bottom), (left, right)) in F.pad's order, last axis first."""
    return tuple(edge for before_after in reversed(amounts) for edge in before_after)


def _positive(module: LayerModule, values, what: str) -> tuple[int, ...]:
    values = tuple(int(v) for v in values)
    if any(v < 1 for v in values):  # the proto's "must be a positive integer"; it gives these fields no default
        raise module.refuse(f"{what} {list(values)} must be positive")
    return values


def _custom_padding(params) -> tuple[tuple[int, int], ...]:
    return ((int(params.customPaddingFront), int(params.customPaddingBack)),
            (int(params.customPaddingTop), int(params.customPaddingBottom)),
            (int(params.customPaddingLeft), int(params.customPaddingRight)))


class Convolution3D(LayerModule):
    """Convolution3DLayerParams: weights ``[outputChannels, inputChannels / nGroups, kD, kH, kW]``, zero padding
    CUSTOM (the given amounts), VALID (none) or SAME (output ``ceil(in / stride)``, an odd total padding's extra
    element at the back/bottom/right).

    Deconvolution is refused: the proto's weight layout for it breaks off mid-sentence (coremltools' builder
    writes yet another), and it gives no output size for its padding types.
    """

    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.convolution3d
        if params.isDeconvolution:
            raise self.refuse("3-D deconvolution's weight layout and output size are not defined by the proto")
        if len(layer.input) != 1:
            raise self.refuse("3-D convolution takes one input (its weights are parameters)")
        self.kernel = _positive(self, (params.kernelDepth, params.kernelHeight, params.kernelWidth), "kernel sizes")
        self.stride = _positive(self, (params.strideDepth, params.strideHeight, params.strideWidth), "strides")
        self.dilation = _positive(self, (params.dilationDepth, params.dilationHeight, params.dilationWidth),
                                  "dilations")
        self.groups = int(params.nGroups or 1)
        self.padding_kind = type(params).PaddingType.Name(params.paddingType)
        self.custom = _custom_padding(params)
        out, channels = int(params.outputChannels), int(params.inputChannels)
        self.add_weight("weight", params.weights, (out, channels // self.groups, *self.kernel), "weights")
        self.bias = self.add_weight("bias", params.bias, (out,), "bias") if params.hasBias else None

    def forward(self, x):
        volumes, lead = _as_volumes(x)
        if self.padding_kind == "SAME":
            amounts = tuple(same_padding(size, (k - 1) * d + 1, s, top_left_heavy=False)
                            for size, k, s, d in zip(volumes.shape[-3:], self.kernel, self.stride, self.dilation))
        elif self.padding_kind == "CUSTOM":
            amounts = self.custom
        else:
            amounts = ((0, 0),) * 3
        y = F.conv3d(F.pad(volumes, _flat_padding(amounts)), self.weight, self.bias, self.stride, 0, self.dilation,
                     self.groups)
        return [y.reshape(*lead, *y.shape[1:])]


class Pooling3D(LayerModule):
    """Pooling3DLayerParams: MAX or AVERAGE over windows of the zero-padded input (an incomplete last window is
    dropped); AVERAGE divides by the window's size, or with countExcludePadding by its number of input elements.

    Two cases are refused rather than guessed. MAX with padding: the proto pads with zeros, which a max would see
    as values, while converters map frameworks' max pooling (whose padding never wins) onto this layer. SAME with
    a stride above 1: the proto's SAME keeps the input's size, which such a stride cannot.
    """

    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.pooling3d
        self.mode = type(params).PoolingType3D.Name(params.type)
        self.kernel = _positive(self, (params.kernelDepth, params.kernelHeight, params.kernelWidth), "kernel sizes")
        self.stride = _positive(self, (params.strideDepth, params.strideHeight, params.strideWidth), "strides")
        self.exclude_padding = params.countExcludePadding
        kind = type(params).Pooling3DPaddingType.Name(params.paddingType)
        if kind == "SAME":
            if self.stride != (1, 1, 1):
                raise self.refuse(f"SAME padding keeps the input size, which stride {list(self.stride)} cannot")
            self.amounts = tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in self.kernel)
        else:
            self.amounts = _custom_padding(params) if kind == "CUSTOM" else ((0, 0),) * 3
        if self.mode == "MAX" and any(edge for pair in self.amounts for edge in pair):
            raise self.refuse("max pooling over zero padding (the proto's) differs from the frameworks' max pooling "
                              "that converters map to it")

    def forward(self, x):
        volumes, lead = _as_volumes(x)
        if self.mode == "MAX":
            y = F.max_pool3d(volumes, self.kernel, self.stride)
        else:
            padding = _flat_padding(self.amounts)
            y = F.avg_pool3d(F.pad(volumes, padding), self.kernel, self.stride)
            if self.exclude_padding:
                inside = F.avg_pool3d(F.pad(torch.ones(1, 1, *volumes.shape[-3:], dtype=volumes.dtype), padding),
                                      self.kernel, self.stride)
                if bool((inside == 0).any()):
                    raise ValueError("a pooling window lies wholly in the padding, so it has no values to average")
                y = y / inside[0]
        return [y.reshape(*lead, *y.shape[1:])]


def global_pooling_3d(layer, context):
    """GlobalPooling3DLayerParams: the max or average of each channel's [D, H, W] volume, kept as [1, 1, 1]."""
    params = layer.globalPooling3d
    maximum = params.type == type(params).GlobalPoolingType3D.Value("MAX")

    def function(x):
        volumes, lead = _as_volumes(x)
        y = volumes.amax(dim=(-3, -2, -1), keepdim=True) if maximum else volumes.mean(dim=(-3, -2, -1), keepdim=True)
        return y.reshape(*lead, *y.shape[1:])

    return Stateless(layer, function)


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "convolution": Convolution,
    "pooling": Pooling,
    "padding": padding,
    "crop": crop,
    "upsample": upsample,
    "resizeBilinear": resize_bilinear,
    "convolution3d": Convolution3D,
    "pooling3d": Pooling3D,
    "globalPooling3d": global_pooling_3d,
}
