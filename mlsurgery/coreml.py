"""Facts about Core ML's model format and validator that several parts of mlsurgery rely on, each stated once.

Everything here is a plain fact read off apple/coremltools (``mlmodel/format/*.proto`` and
``mlmodel/src/Validation``), with the upstream file it comes from, or a default mlsurgery writes; nothing here
loads protobuf classes at import time, so the facts cost nothing to import. Operations, the validator's rules,
the engine and the CLI all ask these questions the same way through this module, and a test
(tests/test_coreml.py) fails when one of its literal sets is written out elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import UsageError

# The ``Model.Type`` cases that hold a NeuralNetwork, and the pipeline cases (Model.proto).
NETWORK_KINDS = ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor")
PIPELINE_KINDS = ("pipeline", "pipelineClassifier", "pipelineRegressor")


def pipeline_message(spec):
    """The ``Pipeline`` message (stages and their names) of a pipeline ``spec``, else None: ``pipeline`` is one,
    ``pipelineClassifier`` and ``pipelineRegressor`` hold one in their ``pipeline`` field (Model.proto)."""
    kind = spec.WhichOneof("Type")
    if kind not in PIPELINE_KINDS:
        return None
    return spec.pipeline if kind == PIPELINE_KINDS[0] else getattr(spec, kind).pipeline


# GLMClassifier's PostEvaluationTransform and ClassEncoding enum values (GLMClassifier.proto).
GLM_LOGIT, GLM_PROBIT = 0, 1
GLM_REFERENCE_CLASS, GLM_ONE_VS_REST = 0, 1

# The FeatureType cases (FeatureTypes.proto) and the names Core ML's validator messages give them.
FEATURE_TYPE_NAMES = {"int64Type": "Int64", "doubleType": "Double", "stringType": "String", "imageType": "Image",
                      "multiArrayType": "MultiArray", "dictionaryType": "Dictionary", "sequenceType": "Sequence",
                      "stateType": "State"}

# Core ML accepts updatable models from this specification version (iOS 13) on
# (upstream: mlmodel/src/Model.cpp, validateGeneric).
MIN_UPDATABLE_SPEC_VERSION = 4

# The operating systems that first read each specification version: the model's deployment target
# (upstream: mlmodel/format/Model.proto, the specificationVersion comment; coremltools/__init__.py
# _SPECIFICATION_VERSION_IOS_*; coremltools/converters/mil/_deployment_compatibility.py, AvailableTarget).
DEPLOYMENT_TARGETS = {1: "iOS 11 / macOS 10.13", 2: "iOS 11.2 / macOS 10.13.2", 3: "iOS 12 / macOS 10.14",
                      4: "iOS 13 / macOS 10.15", 5: "iOS 14 / macOS 11", 6: "iOS 15 / macOS 12",
                      7: "iOS 16 / macOS 13", 8: "iOS 17 / macOS 14", 9: "iOS 18 / macOS 15",
                      10: "iOS 26 / macOS 26"}

# How an ML Program stores a weight, by the constexpr op that expands it when the model loads (upstream:
# coremltools/converters/mil/mil/ops/defs/iOS16/constexpr_ops.py and iOS18/compression.py); a plain ``const``
# stores it as its tensor type (fp16, fp32, …).
MIL_WEIGHT_STORAGE = {
    "constexpr_cast": "fp16",
    "constexpr_lut_to_dense": "palettized",
    "constexpr_affine_dequantize": "linearly quantized",
    "constexpr_blockwise_shift_scale": "linearly quantized",
    "constexpr_sparse_to_dense": "sparse",
    "constexpr_lut_to_sparse": "palettized sparse",
    "constexpr_sparse_blockwise_shift_scale": "linearly quantized sparse",
}

# Layer kinds Core ML lets the user mark updatable, in the order its messages name them
# (upstream: mlmodel/src/Validation/NeuralNetwork/UpdatableNeuralNetworkValidator.cpp, validateUpdatableLayerSupport).
UPDATABLE_LAYER_KINDS = ("convolution", "innerProduct", "uniDirectionalLSTM")
# Layer kinds Core ML can backpropagate through, with the activations it supports
# (upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidatorGraph.hpp).
BACKPROPAGABLE_LAYER_KINDS = frozenset(
    {"convolution", "innerProduct", "uniDirectionalLSTM", "flatten", "pooling", "batchnorm"})
BACKPROPAGABLE_ACTIVATIONS = frozenset({"ReLU", "sigmoid", "tanh"})
# The ActivationParams cases Core ML computes (upstream: mlmodel/src/Validation/NeuralNetwork/
# NeuralNetworkValidatorUtils.hpp, validateActivationParams), the ones recurrent layers accept as gate and
# output activations (validateRecurrentActivationParams), and the ones computed element by element whatever the
# rank (PReLU and parametricSoftplus have per-channel parameters on axis -3, NeuralNetwork.proto).
ACTIVATION_KINDS = frozenset({"ReLU", "leakyReLU", "tanh", "scaledTanh", "sigmoid", "sigmoidHard", "linear", "ELU",
                              "softplus", "PReLU", "parametricSoftplus", "thresholdedReLU", "softsign"})
RECURRENT_ACTIVATION_KINDS = frozenset({"linear", "sigmoid", "tanh", "scaledTanh", "sigmoidHard", "ReLU"})
ELEMENTWISE_ACTIVATION_KINDS = ACTIVATION_KINDS - {"PReLU", "parametricSoftplus"}
# Layer kinds that only regroup the elements of their single input, in row-major order, without changing any
# value; Core ML does not backpropagate through them (NeuralNetwork.proto; NeuralNetworkValidatorGraph.hpp).
REGROUPING_KINDS = frozenset({"reshapeStatic", "reshape", "flattenTo2D", "squeeze", "expandDims"})
# Control-flow layers: they run nested networks (branch: ifBranch/elseBranch, loop: conditionNetwork/bodyNetwork)
# that read and write the enclosing network's blobs, or steer the loop around them (NeuralNetwork.proto).
CONTROL_FLOW_KINDS = frozenset({"branch", "loop", "loopBreak", "loopContinue"})
# ReduceLayerParams.ReduceAxis (CHW, HW, C, H, W) → the axes the legacy reduce layer reduces (NeuralNetwork.proto).
LEGACY_REDUCE_AXES = {0: (-3, -2, -1), 1: (-2, -1), 2: (-3,), 3: (-2,), 4: (-1,)}
# The N-D reductions: each reduces ``axes`` (or every axis, reduceAll), keeping them as 1 with keepDims.
ND_REDUCTION_KINDS = frozenset({"reduceL1", "reduceL2", "reduceMax", "reduceMin", "reduceSum", "reduceProd",
                                "reduceMean", "reduceLogSum", "reduceSumSquare", "reduceLogSumExp"})

# The layer kinds Core ML 2 (specification version 3) knew; some kinds only in their iOS 12 form (is_ios12_layer)
# (upstream: mlmodel/src/Utils.cpp, isIOS12NeuralNetworkLayer).
IOS12_LAYER_KINDS = frozenset({
    "batchnorm", "activation", "pooling", "padding", "concat", "lrn", "softmax", "split", "add", "multiply", "unary",
    "bias", "l2normalize", "reshape", "flatten", "permute", "reduce", "loadConstant", "scale", "simpleRecurrent",
    "gru", "uniDirectionalLSTM", "biDirectionalLSTM", "crop", "average", "max", "min", "dot", "mvn", "embedding",
    "sequenceRepeat", "slice", "custom", "resizeBilinear", "cropResize"})


def is_ios12_layer(layer) -> bool:
    """Utils.cpp isIOS12NeuralNetworkLayer: a layer Core ML 2 (specification version 3) already knew."""
    kind = layer.WhichOneof("layer")
    if kind in IOS12_LAYER_KINDS:
        return True
    if kind == "convolution":
        return len(layer.input) == 1
    if kind == "innerProduct":
        return not layer.innerProduct.int8DynamicQuantize
    from ._proto import nn_pb2  # here, not above: the common kinds answer without it (validation's hot path)

    if kind == "upsample":
        defaults = nn_pb2().UpsampleLayerParams.DEFAULT
        return (layer.upsample.linearUpsampleMode == defaults
                and not len(layer.upsample.fractionalScalingFactor))
    if kind == "reorganizeData":
        return layer.reorganizeData.mode != nn_pb2().ReorganizeDataLayerParams.PIXEL_SHUFFLE
    return kind in IOS12_LAYER_KINDS


# How a network reads its inputs' shapes (NeuralNetwork.proto, NeuralNetworkMultiArrayShapeMapping and
# NeuralNetworkImageShapeMapping); ``network`` below is a NeuralNetwork / Classifier / Regressor message.
RANK5_ARRAY_MAPPING, EXACT_ARRAY_MAPPING = 0, 1
RANK5_IMAGE_MAPPING, RANK4_IMAGE_MAPPING = 0, 1


def rank5_arrays(network) -> bool:
    """RANK5_ARRAY_MAPPING (the default): multi-array inputs become rank-5 [Seq, Batch, C, H, W] blobs."""
    return network.arrayInputShapeMapping == RANK5_ARRAY_MAPPING


def exact_rank_arrays(network) -> bool:
    """EXACT_ARRAY_MAPPING: multi-array inputs keep their own rank (the N-D semantics of iOS 13+)."""
    return network.arrayInputShapeMapping == EXACT_ARRAY_MAPPING


def rank5_images(network) -> bool:
    """RANK5_IMAGE_MAPPING (the default): image inputs become rank-5 [Seq, Batch, C, H, W] blobs."""
    return network.imageInputShapeMapping == RANK5_IMAGE_MAPPING


def rank4_images(network) -> bool:
    """RANK4_IMAGE_MAPPING: image inputs become rank-4 [Batch, C, H, W] blobs."""
    return network.imageInputShapeMapping == RANK4_IMAGE_MAPPING


def first_layer_after_ios12(layers):
    """The first layer Core ML 2 did not know (``is_ios12_layer``), or None."""
    for layer in layers:
        # The kinds that are iOS 12 whatever their parameters answer here, without a call per layer.
        if layer.WhichOneof("layer") not in IOS12_LAYER_KINDS and not is_ios12_layer(layer):
            return layer
    return None


def nd_array_interpretation(network, *, first_new_layer=...) -> bool:
    """Whether Core ML treats the network's tensors as N-D (iOS 13+) rather than rank-5 (iOS 11/12): a new shape
    mapping or any layer newer than iOS 12 (validateNeuralNetworkTopLevel's ``ndArrayInterpretation``).
    A caller that already knows ``first_layer_after_ios12(network.layers)`` passes it."""
    if first_new_layer is ...:
        first_new_layer = first_layer_after_ios12(network.layers)
    return not rank5_arrays(network) or not rank5_images(network) or first_new_layer is not None


class LossKind(str, Enum):
    """A loss Core ML can train with: its value is the name users write (CLI, recipes, inspect --format json),
    ``field`` the ``LossLayer.LossLayerType`` case that stores it (NeuralNetwork.proto)."""

    CROSS_ENTROPY = "cross-entropy"
    MSE = "mse"

    @property
    def field(self) -> str:
        return _LOSS_FIELDS[self]

    @classmethod
    def from_field(cls, field: str | None) -> LossKind | None:
        """The loss stored in ``LossLayer`` case ``field``; None for an unset (or unknown) case."""
        return next((kind for kind, name in _LOSS_FIELDS.items() if name == field), None)

    @classmethod
    def parse(cls, text: str | LossKind) -> LossKind:
        """``cross-entropy``/``mse`` (also the protobuf field names and the spellings ``cross_entropy``, ``cce``,
        ``mean_squared_error``); anything else raises ``UsageError`` naming the choices."""
        if isinstance(text, LossKind):
            return text
        found = _LOSS_SPELLINGS.get(text) or cls.from_field(text)
        if found is None:
            raise UsageError(f"unknown loss {text!r}; choose one of {', '.join(kind.value for kind in cls)}")
        return found

    def __str__(self) -> str:
        return self.value


_LOSS_FIELDS = {LossKind.CROSS_ENTROPY: "categoricalCrossEntropyLossLayer", LossKind.MSE: "meanSquaredErrorLossLayer"}
_LOSS_SPELLINGS = {"cross-entropy": LossKind.CROSS_ENTROPY, "cross_entropy": LossKind.CROSS_ENTROPY,
                   "cce": LossKind.CROSS_ENTROPY, "mse": LossKind.MSE, "mean_squared_error": LossKind.MSE}


class OptimizerKind(str, Enum):
    """An optimizer Core ML can train with: its value is the name users write (CLI, recipes, inspect --format json),
    ``field`` the ``Optimizer.OptimizerType`` case that stores it, ``parameter_keys`` the MLParameterKey names of
    its fields in the proto's field order (NeuralNetwork.proto, SGDOptimizer / AdamOptimizer)."""

    SGD = "sgd"
    ADAM = "adam"

    @property
    def field(self) -> str:
        return _OPTIMIZER_FIELDS[self]

    @property
    def parameter_keys(self) -> tuple[str, ...]:
        return _OPTIMIZER_PARAMETER_KEYS[self]

    @classmethod
    def from_field(cls, field: str | None) -> OptimizerKind | None:
        """The optimizer stored in ``Optimizer`` case ``field``; None for an unset (or unknown) case."""
        return next((kind for kind, name in _OPTIMIZER_FIELDS.items() if name == field), None)

    @classmethod
    def parse(cls, text: str | OptimizerKind) -> OptimizerKind:
        """``sgd``/``adam``; anything else raises ``UsageError`` naming the choices."""
        try:
            return cls(text)
        except ValueError:
            raise UsageError(f"unknown optimizer {text!r}; choose one of {', '.join(kind.value for kind in cls)}") \
                from None

    def __str__(self) -> str:
        return self.value


_OPTIMIZER_FIELDS = {OptimizerKind.SGD: "sgdOptimizer", OptimizerKind.ADAM: "adamOptimizer"}
_OPTIMIZER_PARAMETER_KEYS = {OptimizerKind.SGD: ("learningRate", "miniBatchSize", "momentum"),
                             OptimizerKind.ADAM: ("learningRate", "miniBatchSize", "beta1", "beta2", "eps")}
# The NetworkUpdateParameters fields besides the optimizer and losses, which are MLParameterKeys too.
NETWORK_PARAMETER_KEYS = ("epochs", "shuffle", "seed")

# The hyper-parameters mlsurgery writes when the user gives none (make-updatable, recipes). Adam's β1, β2 and ε
# are Kingma & Ba's, as in coremltools' AdamParams; SGD starts without momentum, as in its SgdParams.
DEFAULT_OPTIMIZER = OptimizerKind.SGD
DEFAULT_LEARNING_RATE = 0.001
DEFAULT_BATCH = 8
DEFAULT_MOMENTUM = 0.0
DEFAULT_BETA1 = 0.9
DEFAULT_BETA2 = 0.999
DEFAULT_EPS = 1e-8
DEFAULT_EPOCHS = 10


@dataclass(frozen=True)
class UpdateParameters:
    """A network's ``updateParams`` (NeuralNetwork.proto ``NetworkUpdateParameters``), read once for every user.

    ``declared``: the parameter messages the spec sets, keyed by MLParameterKey name: the optimizer's fields in
    field order, then epochs, shuffle and seed. ``optimizer_fields``: every field of the chosen optimizer, set or
    not (an unset one reads as its zero default, as protobuf gives it), then the set epochs, shuffle and seed.
    """

    optimizer: OptimizerKind | None
    declared: dict[str, object]
    optimizer_fields: dict[str, object]
    losses: tuple[object, ...]  # LossLayer messages


def read_update_parameters(update_params) -> UpdateParameters:
    """The typed view of a ``NetworkUpdateParameters`` message."""
    optimizer = OptimizerKind.from_field(update_params.optimizer.WhichOneof("OptimizerType"))
    declared: dict[str, object] = {}
    fields: dict[str, object] = {}
    if optimizer is not None:
        chosen = getattr(update_params.optimizer, optimizer.field)
        declared.update((descriptor.name, value) for descriptor, value in chosen.ListFields())
        fields.update((key, getattr(chosen, key)) for key in optimizer.parameter_keys)
    network = {key: getattr(update_params, key) for key in NETWORK_PARAMETER_KEYS if update_params.HasField(key)}
    return UpdateParameters(optimizer, {**declared, **network}, {**fields, **network},
                            tuple(update_params.lossLayers))


def is_quantized(weights) -> bool:
    """A WeightParams carries quantization parameters: Core ML's ``has_quantization()``, the test its updatable
    checks apply (its values are then rawValue or int8RawValue bytes, ValidatorUtils-inl.hpp valueType)."""
    return weights.HasField("quantization")


def holds_float_values(weights) -> bool:
    """A WeightParams stores fp32 or fp16 values (or nothing), not quantized or raw bytes that need decoding."""
    return not (weights.HasField("quantization") or weights.rawValue or weights.int8RawValue)


def updatable_parameters(layer) -> list[tuple[str, object]]:
    """The WeightParams Core ML checks on an updatable layer (``layer`` is a NeuralNetworkLayer message).

    For convolution and innerProduct: the weights, and the bias only when ``hasBias`` is set; uniDirectionalLSTM
    parameters are not looked at (upstream: UpdatableNeuralNetworkValidator.cpp, validateWeightParamsUpdatable).
    """
    kind = layer.WhichOneof("layer")
    if kind not in ("convolution", "innerProduct"):
        return []
    params = getattr(layer, kind)
    return [("weights", params.weights)] + ([("bias", params.bias)] if params.hasBias else [])


def accepts_updatable(layer) -> bool:
    """Core ML lets this NeuralNetworkLayer be marked updatable: its kind is one it trains and none of the
    parameters it checks (``updatable_parameters``) is quantized. A quantized bias with ``hasBias`` unset does not
    count: Core ML never reads it."""
    return (layer.WhichOneof("layer") in UPDATABLE_LAYER_KINDS
            and not any(is_quantized(weights) for _, weights in updatable_parameters(layer)))


# --- C++ integer semantics the validator's arithmetic relies on ----------------------------------------------

UINT64_MASK = (1 << 64) - 1


def int32(value: int) -> int:
    """C++ ``(int)`` of an integer: keep the low 32 bits, signed."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def int64(value: int) -> int:
    """C++ ``(int64_t)`` of an integer: keep the low 64 bits, signed."""
    value &= UINT64_MASK
    return value - (1 << 64) if value >= 1 << 63 else value


def c_div(a: int, b: int) -> int:
    """C++ integer division: truncates toward zero (``ZeroDivisionError`` where C++ would be undefined)."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def uint64_product(*values: int) -> int:
    """An unsigned 64-bit product, wrapping as in C++."""
    result = 1
    for value in values:
        result = (result * value) & UINT64_MASK
    return result
