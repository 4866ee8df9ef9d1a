"""What in an ML Program no NeuralNetwork can compute, read from the protobuf alone (no coremltools import).

Two kinds: an op with no NeuralNetwork layer (``ops.has_neural_network_layer``), and an op whose layer computes
something else for these arguments. The only case of the second kind is nearest-neighbour upsampling by a
fractional factor: NeuralNetwork's upsample layer takes whole factors in nearest mode, and coremltools' backend
silently falls back to bilinear interpolation there (coremltools/converters/mil/backend/nn/op_mapping.py,
``add_upsample_nn``), which gives different numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ops import has_neural_network_layer

# coremltools' backend treats a factor within 1e-4 of a whole number ≥ 1 as that number (add_upsample_nn).
_WHOLE_FACTOR_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Unconvertible:
    op_type: str
    output: str  # the op's first output ("" when it has none)
    reason: str  # why and what to do, completing "op TYPE (output NAME) …"


def scan(spec) -> list[Unconvertible]:
    """Every op of ``spec``'s ML Program a NeuralNetwork cannot compute, in program order, nested blocks included;
    empty for a spec that is not an ML Program."""
    if spec.WhichOneof("Type") != "mlProgram":
        return []
    found: list[Unconvertible] = []
    for function in spec.mlProgram.functions.values():
        block = function.block_specializations.get(function.opset)
        if block is None:
            continue
        shapes = {named.name: _dimensions(named.type) for named in function.inputs}
        _scan_block(block, {}, shapes, found)
    return found


def _scan_block(block, constants: dict, shapes: dict, found: list) -> None:
    for operation in block.operations:
        for output in operation.outputs:
            shapes[output.name] = _dimensions(output.type)
        output = operation.outputs[0].name if operation.outputs else ""
        if operation.type == "const" and operation.outputs:
            constants[output] = _immediate_numbers(operation.attributes.get("val"))
        if not has_neural_network_layer(operation.type):
            found.append(Unconvertible(operation.type, output, "has no NeuralNetwork layer; export the source model "
                                       "without it, or convert the source with coremltools.convert(..., "
                                       "convert_to=\"neuralnetwork\")"))
        else:
            factors = _nearest_factors(operation, constants, shapes)
            fractional = [f for f in factors if f is not None and not _whole(f)]
            if fractional:
                found.append(Unconvertible(operation.type, output, f"scales by {fractional[0]:g}, but NeuralNetwork "
                                           "nearest-neighbour upsampling takes whole factors only; export the "
                                           "source model with a whole scale factor or bilinear interpolation"))
        for nested in operation.blocks:
            _scan_block(nested, constants, shapes, found)


def _nearest_factors(operation, constants: dict, shapes: dict) -> list[float | None]:
    if operation.type == "upsample_nearest_neighbor":
        return [_scalar(operation, name, constants) for name in ("scale_factor_height", "scale_factor_width")]
    if operation.type == "resize_nearest_neighbor":
        source = _argument_name(operation, "x")
        dims = shapes.get(source) if source else None
        targets = [_scalar(operation, name, constants) for name in ("target_size_height", "target_size_width")]
        if not dims or len(dims) < 2 or None in dims[-2:] or 0 in dims[-2:]:
            return []
        return [None if target is None else target / size for target, size in zip(targets, dims[-2:])]
    return []


def _whole(factor: float) -> bool:
    return factor >= 1 - _WHOLE_FACTOR_TOLERANCE and abs(round(factor) - factor) < _WHOLE_FACTOR_TOLERANCE


def _argument_name(operation, name: str) -> str | None:
    argument = operation.inputs.get(name)
    if argument is None or not argument.arguments:
        return None
    binding = argument.arguments[0]
    return binding.name if binding.WhichOneof("binding") == "name" else None


def _scalar(operation, name: str, constants: dict) -> float | None:
    argument = operation.inputs.get(name)
    if argument is None or not argument.arguments:
        return None
    binding = argument.arguments[0]
    kind = binding.WhichOneof("binding")
    values = constants.get(binding.name) if kind == "name" else _immediate_numbers(binding.value)
    return float(values[0]) if values else None


def _immediate_numbers(value) -> list | None:
    if value is None or value.WhichOneof("value") != "immediateValue":
        return None
    tensor = value.immediateValue.tensor
    kind = tensor.WhichOneof("value")
    if kind in ("floats", "ints", "doubles", "longInts"):
        return list(getattr(tensor, kind).values)
    return None


def _dimensions(value_type) -> list[int | None] | None:
    if value_type.WhichOneof("type") != "tensorType":
        return None
    return [d.constant.size if d.WhichOneof("dimension") == "constant" else None
            for d in value_type.tensorType.dimensions]


