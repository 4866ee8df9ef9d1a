"""Edits of a coremltools MIL ``Program`` (read from an ML Program) that make it fit the NeuralNetwork backend.

Each function changes the program in place and returns what ``assemble`` needs to rebuild the parts the backend
cannot write (preprocessing, classifier). Importing this module imports coremltools.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from coremltools.converters.mil.mil import Builder as mb
from coremltools.converters.mil.mil import types

from .ops import ATTENTION, CLASSIFY, CONSTEXPR_PREFIX


@dataclass
class ImagePreprocessing:
    """What coremltools' ``insert_image_preprocessing_ops`` pass wrote as ops: ``x * scale + bias[channel]``."""
    scale: float
    bias: list[float]  # one per channel of the input tensor, in its channel order


@dataclass
class ClassifierOutputs:
    labels: list  # str or int, in the order of the probability vector
    probability_output: int  # index in the function's outputs of the probability vector
    probability_name: str = ""  # that output's name once the backend has run (its passes may rename it)


def _main(program):
    return program.functions["main"]


def _blocks(block):
    yield block
    for operation in list(block.operations):
        for nested in operation.blocks:
            yield from _blocks(nested)


# Types a NeuralNetwork does not compute in, and the type each becomes: fp16 weights and activations (an fp16
# package) and the narrow integers coremltools' iOS 17/18 passes write (``add_int16_cast`` for gather indices).
_WIDER_DTYPE = {"fp16": "fp32", "int16": "int32", "uint16": "int32", "int8": "int32", "uint8": "int32"}
_NUMPY_WIDER = {np.dtype(np.float16): np.float32, np.dtype(np.int16): np.int32, np.dtype(np.uint16): np.int32,
                np.dtype(np.int8): np.int32, np.dtype(np.uint8): np.int32}


def _dtype_name(var) -> str | None:
    dtype = var.dtype if types.is_tensor(var.sym_type) else var.sym_type
    try:
        return types.builtin_to_string(dtype)
    except (KeyError, TypeError):
        return None


def _is_fp16(var) -> bool:
    return _dtype_name(var) == "fp16"


def expand_weights(program, notes: list[str]) -> bool:
    """Replace compressed weights (``constexpr_*`` ops) by dense constants, and make every fp16 constant, cast and
    input fp32 (narrow integers int32), then re-infer every type, so the program computes as a NeuralNetwork
    does. Returns whether anything was fp16."""
    function = _main(program)
    expanded: Counter = Counter()
    widened: Counter = Counter()
    for name, var in function.inputs.items():
        wider = _WIDER_DTYPE.get(_dtype_name(var))
        if wider is not None:
            widened[f"{_dtype_name(var)} input"] += 1
            dtype = types.string_to_builtin(wider)
            var._sym_type = types.tensor(dtype, var.shape) if types.is_tensor(var.sym_type) else dtype
    for block in _blocks(function):
        with block:
            for operation in list(block.operations):
                if operation.op_type.startswith(CONSTEXPR_PREFIX) and not _feeds_only_constexpr(operation, block):
                    if len(operation.outputs) != 1:
                        raise ValueError(f"{operation.op_type} with {len(operation.outputs)} outputs")
                    # Same dtype as the op's output, so the consumers accept it; fp16 becomes fp32 below.
                    value = np.asarray(operation.materialized_val_inference())
                    expanded[operation.op_type] += 1
                    _replace(block, operation, mb.const(val=value, before_op=operation))
        _remove_dead_constexpr(block)
        # Changed in place, not replaced: coremltools checks that a replacement has the consumer's dtype, and
        # every consumer is re-typed below once all of its inputs are wide.
        with block:
            for operation in list(block.operations):
                if operation.op_type == "const" and _dtype_name(operation.outputs[0]) in _WIDER_DTYPE:
                    widened[f"{_dtype_name(operation.outputs[0])} constant"] += 1
                    operation.val._sym_val.val = _widened(np.asarray(operation.outputs[0].val))
                elif operation.op_type == "cast" and operation.dtype.val in _WIDER_DTYPE:
                    widened[f"cast to {operation.dtype.val}"] += 1
                    operation.set_inputs(dtype=mb.const(val=_WIDER_DTYPE[operation.dtype.val], before_op=operation))
    _retype(function)
    for op_type, count in sorted(expanded.items()):
        notes.append(f"{count} {op_type} weight(s) expanded to dense fp32")
    if widened:
        notes.append("widened to fp32 / int32: " + ", ".join(f"{what} ×{count}" for what, count in
                                                            sorted(widened.items())))
    return any(what.startswith("fp16") or what == "cast to fp16" for what in widened)


def _feeds_only_constexpr(operation, block) -> bool:
    """Whether ``operation`` (a constexpr op) only feeds other constexpr ops, which materialize it themselves."""
    outputs = operation.outputs
    return (not any(var in block.outputs for var in outputs)
            and all(child.op_type.startswith(CONSTEXPR_PREFIX) for var in outputs for child in var.child_ops)
            and any(var.child_ops for var in outputs))


def _widened(value: np.ndarray):
    wider = _NUMPY_WIDER.get(value.dtype)
    value = value.astype(wider) if wider is not None else value
    # A 0-d value becomes a Python scalar, which MIL types as a scalar of the wide type.
    return value if value.shape else value.item()


def _replace(block, operation, new_var) -> None:
    """Put ``new_var`` in place of ``operation``'s single output, under the same name."""
    old = operation.outputs[0]
    block.replace_uses_of_var_after_op(anchor_op=operation, old_var=old, new_var=new_var, no_check_var_types=True,
                                       force_replace=True)
    name, op_name = old.name, operation.name
    block.remove_ops([operation])
    new_var.name = name
    new_var.op.name = op_name


def _remove_dead_constexpr(block) -> None:
    for operation in reversed(list(block.operations)):
        if operation.op_type.startswith(CONSTEXPR_PREFIX) and not any(
                var.child_ops or var in block.outputs for var in operation.outputs):
            block.remove_ops([operation])


def _retype(block) -> None:
    """Re-run type inference over ``block`` in order, so fp32 flows where fp16 did."""
    with block:
        for operation in block.operations:
            for nested in operation.blocks:
                _retype(nested)
            operation.type_value_inference(overwrite_output=True)


def decompose_attention(program, notes: list[str]) -> None:
    """Replace every ``scaled_dot_product_attention`` op (iOS 18) by what it computes, in ops with NeuralNetwork
    layers: ``softmax(query @ keyᵀ / √d + mask) @ value``, a boolean mask adding −∞ where it is false
    (coremltools/converters/mil/mil/ops/defs/iOS18/transformers.py documents these semantics)."""
    count = 0
    for block in list(_blocks(_main(program))):
        for operation in [op for op in block.operations if op.op_type == ATTENTION]:
            with block:
                _decompose_one(block, operation)
            count += 1
    if count:
        notes.append(f"{count} scaled_dot_product_attention op(s) decomposed into matmul, softmax, matmul")


def _decompose_one(block, operation) -> None:
    query, key, value, mask = operation.query, operation.key, operation.value, operation.attn_mask
    dtype = types.nptype_from_builtin(query.dtype)
    scores = mb.matmul(x=query, y=key, transpose_y=True, before_op=operation)
    scores = mb.mul(x=scores, y=dtype(float(query.shape[-1]) ** -0.5), before_op=operation)
    if mask is not None:
        if mask.dtype == types.bool and mask.val is not None:  # e.g. PyTorch's is_causal=True
            mask = mb.const(val=np.where(mask.val, 0, -np.inf).astype(dtype), before_op=operation)
        elif mask.dtype == types.bool:
            shape = mask.shape  # select's branches are tensors: a scalar branch makes its result a scalar
            mask = mb.select(cond=mask, a=np.zeros(shape, dtype), b=np.full(shape, -np.inf, dtype),
                             before_op=operation)
        scores = mb.add(x=scores, y=mask, before_op=operation)
    weights = mb.softmax(x=scores, axis=-1, before_op=operation)
    _replace(block, operation, mb.matmul(x=weights, y=value, before_op=operation))


def take_image_preprocessing(program, description) -> dict[str, ImagePreprocessing]:
    """For every image input, the ``mul`` (scale) and ``add`` (per-channel bias) ops that follow it, removed from
    the program and returned for the NeuralNetwork's ``preprocessing`` scaler."""
    function = _main(program)
    found: dict[str, ImagePreprocessing] = {}
    for feature in description.input:
        if feature.type.WhichOneof("Type") != "imageType":
            continue
        var = function.inputs[feature.name]
        channels = 1 if len(var.shape) < 3 else var.shape[-3]
        scale, bias, current = 1.0, [0.0] * channels, var
        removed = []
        step = _sole_consumer(current, function)
        if step is not None and step.op_type == "mul":
            factor = _other_constant(step, current)
            if factor is not None and factor.size == 1:
                scale = float(factor.reshape(-1)[0])
                removed.append(step)
                current = step.outputs[0]
                step = _sole_consumer(current, function)
        if step is not None and step.op_type == "add":
            offset = _other_constant(step, current)
            if offset is not None and offset.size in (1, channels) and (
                    offset.size == 1 or offset.shape[-3:] == (channels, 1, 1)):
                bias = [float(v) for v in np.broadcast_to(offset.reshape(-1), (channels,))]
                removed.append(step)
                current = step.outputs[0]
        if removed:
            with function:
                function.replace_uses_of_var_after_op(anchor_op=removed[-1], old_var=current, new_var=var,
                                                      no_check_var_types=True)
                function.remove_ops(removed)
        found[feature.name] = ImagePreprocessing(scale, bias)
    return found


def _sole_consumer(var, block):
    children = var.child_ops
    if len(children) != 1 or var in block.outputs:
        return None
    return children[0]


def _other_constant(operation, var):
    """The constant operand of binary ``operation`` whose other operand is ``var`` (``None`` if there is none)."""
    x, y = operation.x, operation.y
    other = y if x is var else x if y is var else None
    if other is None or other.val is None:
        return None
    return np.asarray(other.val, dtype=np.float64)


def take_classify(program) -> ClassifierOutputs | None:
    """Remove the ``classify`` op, making its probabilities input a function output; return its labels."""
    function = _main(program)
    classify = [operation for operation in function.operations if operation.op_type == CLASSIFY]
    if not classify:
        return None
    (operation,) = classify
    labels = [label.item() if isinstance(label, np.generic) else label for label in operation.classes.val]
    probabilities = operation.probabilities
    outputs = [var for var in function.outputs if var not in operation.outputs]
    if probabilities not in outputs:
        outputs.append(probabilities)
    function.set_outputs(outputs)
    function.remove_ops([operation])
    return ClassifierOutputs(labels, outputs.index(probabilities))


def set_input_types(program, description) -> None:
    """Tell the backend each input's default shape (an ML Program's flexible inputs have symbolic dimensions)."""
    import coremltools as ct

    function = _main(program)
    input_types = []
    for feature in description.input:
        kind = feature.type.WhichOneof("Type")
        var = function.inputs.get(feature.name)
        if var is None:
            continue
        if kind == "multiArrayType":
            shape = tuple(int(d) for d in feature.type.multiArrayType.shape) or tuple(var.shape)
        elif kind == "imageType":
            image = feature.type.imageType
            shape = tuple(var.shape[:-2]) + (int(image.height), int(image.width))
        else:
            shape = tuple(var.shape)
        input_types.append(ct.TensorType(name=feature.name, shape=shape))
    function.set_input_types(tuple(input_types))


def blob_shapes(program) -> dict[str, tuple[int, ...]]:
    """The static shape of every tensor the program computes, by name (the backend names blobs after them)."""
    function = _main(program)
    shapes = {name: var.shape for name, var in function.inputs.items() if types.is_tensor(var.sym_type)}
    for block in _blocks(function):
        for operation in block.operations:
            for var in operation.outputs:
                if types.is_tensor(var.sym_type):
                    shapes[var.name] = var.shape
    return {name: tuple(int(d) for d in shape) for name, shape in shapes.items()
            if all(isinstance(d, (int, np.integer)) for d in shape)}
