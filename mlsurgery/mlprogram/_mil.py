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

from .ops import CLASSIFY, CONSTEXPR_PREFIX


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


def _is_fp16(var) -> bool:
    dtype = var.dtype if types.is_tensor(var.sym_type) else var.sym_type
    return dtype == types.fp16


def expand_weights(program, notes: list[str]) -> bool:
    """Replace compressed weights (``constexpr_*`` ops) and fp16 constants by fp32 constants and casts to fp16 by
    casts to fp32, then re-infer every type, so the whole program computes in fp32. Returns whether anything
    was fp16."""
    function = _main(program)
    expanded: Counter = Counter()
    fp16_constants = fp16_casts = 0
    for name, var in function.inputs.items():
        if _is_fp16(var):
            var._sym_type = types.tensor(types.fp32, var.shape) if types.is_tensor(var.sym_type) else types.fp32
            notes.append(f"input {name!r}: fp16 → fp32 (NeuralNetwork inputs are fp32)")
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
        # every consumer is re-typed below once all of its inputs are fp32.
        with block:
            for operation in list(block.operations):
                if operation.op_type == "const" and _is_fp16(operation.outputs[0]):
                    fp16_constants += 1
                    operation.val._sym_val.val = _fp32(np.asarray(operation.outputs[0].val))
                elif operation.op_type == "cast" and operation.dtype.val == "fp16":
                    fp16_casts += 1
                    operation.set_inputs(dtype=mb.const(val="fp32", before_op=operation))
    _retype(function)
    for op_type, count in sorted(expanded.items()):
        notes.append(f"{count} {op_type} weight(s) expanded to dense fp32")
    if fp16_constants or fp16_casts:
        notes.append(f"fp16 → fp32: {fp16_constants} constant(s), {fp16_casts} cast(s)")
    return bool(fp16_constants or fp16_casts or any(_is_fp16(v) for v in function.inputs.values()))


def _feeds_only_constexpr(operation, block) -> bool:
    """Whether ``operation`` (a constexpr op) only feeds other constexpr ops, which materialize it themselves."""
    outputs = operation.outputs
    return (not any(var in block.outputs for var in outputs)
            and all(child.op_type.startswith(CONSTEXPR_PREFIX) for var in outputs for child in var.child_ops)
            and any(var.child_ops for var in outputs))


def _fp32(value: np.ndarray):
    value = value.astype(np.float32) if value.dtype == np.float16 else value
    return value if value.shape else value.item() if value.dtype.kind == "f" else value


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


def take_classify(program, source: str) -> ClassifierOutputs | None:
    """Remove the ``classify`` op, making its probabilities input a function output; return its labels."""
    function = _main(program)
    classify = [operation for operation in function.operations if operation.op_type == CLASSIFY]
    if not classify:
        return None
    (operation,) = classify
    labels = list(operation.classes.sym_val if hasattr(operation.classes, "sym_val") else operation.classes.val)
    labels = [label.item() if isinstance(label, np.generic) else label for label in labels]
    probabilities = operation.probabilities
    outputs = [var for var in function.outputs if var not in operation.outputs]
    if probabilities not in outputs:
        outputs.append(probabilities)
    function.set_outputs(outputs)
    function.remove_ops([operation])
    if hasattr(function, "output_types") and function.output_types:
        function.set_output_types(None)
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
