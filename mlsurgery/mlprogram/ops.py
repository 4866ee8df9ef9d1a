"""Which ML Program (MIL) ops have a NeuralNetwork layer: facts read from coremltools' NeuralNetwork backend.

``NN_BACKEND_OPS`` is the key set of ``MIL_TO_NN_MAPPING_REGISTRY`` in coremltools 9
(coremltools/converters/mil/backend/nn/op_mapping.py: one ``@register_mil_to_nn_mapping`` function per op), kept
here so ``unconvertible_ops`` can answer without importing coremltools; tests/mlprogram compares it with the
installed coremltools. ``CONVERTED_HERE`` are the ops mlsurgery's conversion removes before the backend runs.
"""

from __future__ import annotations

NN_BACKEND_OPS = frozenset({
    "_const_symbolic", "abs", "acos", "add", "argsort", "asin", "atan", "atanh", "avg_pool", "band_part",
    "batch_norm", "batch_to_space", "cast", "ceil", "clamped_relu", "clip", "concat", "cond", "const", "conv",
    "conv_quantized", "conv_transpose", "cos", "cosh", "crop", "crop_resize", "cumsum", "custom_op",
    "depth_to_space", "einsum", "elu", "equal", "erf", "exp", "exp2", "expand_dims", "fill", "flatten2d", "floor",
    "floor_div", "gather", "gather_along_axis", "gather_nd", "gelu", "greater", "greater_equal", "gru", "identity",
    "instance_norm", "inverse", "l2_norm", "l2_pool", "layer_norm", "leaky_relu", "less", "less_equal", "linear",
    "linear_activation", "list_gather", "list_length", "list_read", "list_scatter", "list_write",
    "local_response_norm", "log", "logical_and", "logical_not", "logical_or", "logical_xor", "lstm", "make_list",
    "matmul", "max_pool", "maximum", "minimum", "mod", "mul", "non_maximum_suppression", "non_zero", "not_equal",
    "one_hot", "pad", "pixel_shuffle", "pow", "prelu", "random_bernoulli", "random_categorical", "random_normal",
    "random_uniform", "range_1d", "real_div", "reduce_argmax", "reduce_argmin", "reduce_l1_norm", "reduce_l2_norm",
    "reduce_log_sum", "reduce_log_sum_exp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod",
    "reduce_sum", "reduce_sum_square", "relu", "relu6", "reshape", "resize_bilinear", "resize_nearest_neighbor",
    "reverse", "reverse_sequence", "rnn", "round", "rsqrt", "scaled_tanh", "scatter", "scatter_along_axis",
    "scatter_nd", "select", "shape", "sigmoid", "sigmoid_hard", "sign", "silu", "sin", "sinh", "slice_by_index",
    "slice_by_size", "sliding_windows", "softmax", "softplus", "softplus_parametric", "softsign", "space_to_batch",
    "space_to_depth", "split", "sqrt", "square", "squeeze", "stack", "sub", "tan", "tanh", "threshold",
    "thresholded_relu", "tile", "topk", "transpose", "upsample_bilinear", "upsample_nearest_neighbor",
    "while_loop",
})

# ``classify`` becomes the neuralNetworkClassifier's labels; every ``constexpr_*`` op (fp16 cast, palettization,
# linear quantization, sparsity) is expanded into a dense constant before the backend sees the program;
# iOS 18's ``scaled_dot_product_attention`` is decomposed into matmul, softmax and matmul by coremltools' own pass.
CLASSIFY = "classify"
CONSTEXPR_PREFIX = "constexpr_"
ATTENTION = "scaled_dot_product_attention"


def has_neural_network_layer(op_type: str) -> bool:
    return (op_type in NN_BACKEND_OPS or op_type in (CLASSIFY, ATTENTION)
            or op_type.startswith(CONSTEXPR_PREFIX))
