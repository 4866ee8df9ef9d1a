"""Small exact-rank networks shaped like coremltools 9 converter output (built with coremltools' own builder)."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

RNG = np.random.default_rng(5)


def builder(input_shape=(1, 4), output_shape=None, output="probs"):
    return NeuralNetworkBuilder([("x", datatypes.Array(*input_shape))],
                                [(output, datatypes.Array(*output_shape) if output_shape else None)],
                                disable_rank5_shape_mapping=True)


def dense(build, name, source, target, n_in, n_out):
    build.add_inner_product(name, RNG.standard_normal((n_out, n_in)), RNG.standard_normal(n_out), n_in, n_out,
                            True, source, target)


def classifier_head(axis=-1, rank_of_input=2):
    """x [1, 4] → dense → softmaxND(axis): the head a PyTorch classifier converts to."""
    shape = (1, 4) if rank_of_input == 2 else (1, 2, 4)
    build = builder(shape)
    dense(build, "dense", "x", "logits", 4, 3)
    build.add_softmax_nd("softmax", "logits", "probs", axis=axis)
    return build.spec


def conv_head(target_shape=(1, 8)):
    """x [1, 2, 2, 2] → conv → reshapeStatic(target_shape) → dense → output."""
    build = builder((1, 2, 2, 2), output="out")
    build.add_convolution("conv", 2, 2, 1, 1, 1, 1, "same", groups=1, W=RNG.standard_normal((1, 1, 2, 2)),
                          b=RNG.standard_normal(2), has_bias=True, input_name="x", output_name="features")
    build.add_reshape_static("flat", "features", "flat", target_shape)
    size = int(np.prod(target_shape[1:])) if len(target_shape) > 1 else int(target_shape[0])
    dense(build, "dense", "flat", "out", size, 3)
    return build.spec


def batched_matmul_head(input_shape=(1, 4), two_inputs=False):
    build = builder(input_shape, output="out")
    if two_inputs:
        build.add_load_constant_nd("w", "w", RNG.standard_normal((4, 3)), (4, 3))
        build.add_batched_mat_mul("matmul", ["x", "w"], "out")
    else:
        build.add_batched_mat_mul("matmul", ["x"], "out", weight_matrix_rows=4, weight_matrix_columns=3,
                                  W=RNG.standard_normal((4, 3)), bias=RNG.standard_normal(3))
    return build.spec


def identity_before_output(alpha=1.0, beta=0.0):
    build = builder(output="out")
    dense(build, "dense", "x", "hidden", 4, 3)
    build.add_activation("identity", "LINEAR", "hidden", "out", params=[alpha, beta])
    return build.spec
