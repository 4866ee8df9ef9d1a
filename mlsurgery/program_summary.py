"""What ``inspect`` shows of an ML Program, read off its MIL protobuf (``Model.mlProgram``, MIL.proto) alone.

No coremltools import: the functions, their operations, the weights (a ``const`` op's tensor type, or the
``constexpr_*`` op that expands a compressed weight when Core ML loads the model) and the deployment target are
all fields of the spec. Whether an op has a NeuralNetwork equivalent is the converter's knowledge
(``mlsurgery.mlprogram.convert.unconvertible_ops``); the caller passes what it found.
"""

from __future__ import annotations

import math
from collections import Counter

from ._proto import enum_name, mil_pb2
from .coreml import DEPLOYMENT_TARGETS, MIL_WEIGHT_STORAGE

CONSTEXPR_PREFIX = "constexpr_"
_MIL_FLOAT_NAMES = {"FLOAT16": "fp16", "FLOAT32": "fp32", "FLOAT64": "fp64", "BFLOAT16": "bf16"}

VERDICT_CONVERTIBLE = "an ML Program: Core ML trains only NeuralNetwork models; `mlsurgery convert` makes one"


def summarize_program(spec, unconvertible: list[tuple[str, str]] | None = None) -> dict:
    """``inspect``'s ``ml_program`` object for an ML Program spec; ``unconvertible`` lists the ``(op type, output)``
    pairs no NeuralNetwork layer computes (None: not checked)."""
    program = spec.mlProgram
    functions = []
    operations: Counter = Counter()
    weights: dict[str, dict] = {}
    class_labels = None
    for name, function in sorted(program.functions.items()):
        block = function.block_specializations.get(function.opset)
        ops = list(_operations(block)) if block is not None else []
        operations.update(op.type for op in ops)
        functions.append({"name": name, "opset": function.opset,
                          "inputs": [{"name": value.name, "type": value_type_label(value.type)}
                                     for value in function.inputs],
                          "outputs": list(block.outputs) if block is not None else [], "operations": len(ops)})
        for storage, values in _weights(ops):
            entry = weights.setdefault(storage, {"storage": storage, "tensors": 0, "values": 0})
            entry["tensors"] += 1
            entry["values"] += values
        class_labels = class_labels or _classify_labels(ops)
    summary = {
        "functions": functions,
        "operations": dict(sorted(operations.items(), key=lambda item: (-item[1], item[0]))),
        "weights": sorted(weights.values(), key=lambda entry: -entry["values"]),
        "deployment_target": DEPLOYMENT_TARGETS.get(spec.specificationVersion),
        "stateful": bool(spec.description.state),
        "class_labels": class_labels,
        "unconvertible": None if unconvertible is None else [{"op": op, "output": output}
                                                              for op, output in unconvertible],
    }
    summary["verdict"] = _verdict(summary)
    return summary


def _verdict(summary: dict) -> str:
    blockers = []
    if summary["unconvertible"]:
        found = summary["unconvertible"]
        shown = ", ".join(f"{item['op']} (output {item['output']!r})" for item in found[:3])
        more = f" and {len(found) - 3} more" if len(found) > 3 else ""
        blockers.append(f"no NeuralNetwork layer computes {shown}{more}")
    if len(summary["functions"]) > 1:
        blockers.append(f"it has {len(summary['functions'])} functions "
                        f"({', '.join(f['name'] for f in summary['functions'])}), a NeuralNetwork one")
    if summary["stateful"]:
        blockers.append("it is stateful (a NeuralNetwork keeps no state between predictions)")
    if not blockers:
        return VERDICT_CONVERTIBLE
    return ("an ML Program: Core ML trains only NeuralNetwork models, and `mlsurgery convert` cannot make one: "
            + "; ".join(blockers))


def _operations(block):
    for operation in block.operations:
        yield operation
        for nested in operation.blocks:
            yield from _operations(nested)


def _input_names(operation):
    for argument in operation.inputs.values():
        for binding in argument.arguments:
            if binding.WhichOneof("binding") == "name":
                yield binding.name


def _weights(ops) -> list[tuple[str, int]]:
    """``(storage, number of values)`` of each weight: a float ``const`` tensor, or the last ``constexpr_*`` op of
    a compressed weight (the one a computing op reads), labelled by every constexpr kind of its chain. The
    consts a constexpr op reads (indices, look-up tables, scales) are parts of that weight, not weights."""
    producers = {output.name: op for op in ops for output in op.outputs}
    consumers: dict[str, list] = {}
    for op in ops:
        for name in _input_names(op):
            consumers.setdefault(name, []).append(op)
    found = []
    for op in ops:
        if not op.outputs:
            continue
        output = op.outputs[0]
        readers = consumers.get(output.name, [])
        read_by_constexpr_only = bool(readers) and all(r.type.startswith(CONSTEXPR_PREFIX) for r in readers)
        if op.type == "const":
            storage = _float_storage(output.type)
            if storage and output.type.tensorType.rank > 0 and not read_by_constexpr_only:
                found.append((storage, _element_count(output.type)))
        elif op.type.startswith(CONSTEXPR_PREFIX) and not read_by_constexpr_only:
            kinds = sorted(_chain_storage(op, producers))
            found.append((" + ".join(kinds), _element_count(output.type)))
    return found


def _chain_storage(op, producers) -> set[str]:
    kinds = {MIL_WEIGHT_STORAGE.get(op.type, op.type.removeprefix(CONSTEXPR_PREFIX))}
    for name in _input_names(op):
        producer = producers.get(name)
        if producer is not None and producer.type.startswith(CONSTEXPR_PREFIX):
            kinds |= _chain_storage(producer, producers)
    return kinds


def _float_storage(value_type) -> str | None:
    if value_type.WhichOneof("type") != "tensorType":
        return None
    name = enum_name(mil_pb2().DataType, value_type.tensorType.dataType)
    return _MIL_FLOAT_NAMES.get(name)


def _element_count(value_type) -> int:
    if value_type.WhichOneof("type") != "tensorType":
        return 0
    sizes = [d.constant.size for d in value_type.tensorType.dimensions if d.WhichOneof("dimension") == "constant"]
    return math.prod(sizes) if len(sizes) == len(value_type.tensorType.dimensions) else 0


def value_type_label(value_type) -> str:
    """``fp16[1, 3, 224, 224]``, ``int32[?, 128]``, ``state(fp16[1, 4])``, ``list``, … for a MIL ValueType."""
    kind = value_type.WhichOneof("type")
    if kind == "tensorType":
        tensor = value_type.tensorType
        name = enum_name(mil_pb2().DataType, tensor.dataType)
        dtype = _MIL_FLOAT_NAMES.get(name, name.lower())
        dims = ["?" if d.WhichOneof("dimension") != "constant" else str(d.constant.size) for d in tensor.dimensions]
        return f"{dtype}[{', '.join(dims)}]"
    if kind == "stateType":
        return f"state({value_type_label(value_type.stateType.wrappedType)})"
    return (kind or "unset").removesuffix("Type")


def _classify_labels(ops) -> list | None:
    """The class labels a ``classify`` op reads from a const (strings or integers)."""
    producers = {output.name: op for op in ops for output in op.outputs}
    for op in ops:
        if op.type != "classify" or "classes" not in op.inputs:
            continue
        for binding in op.inputs["classes"].arguments:
            source = producers.get(binding.name) if binding.WhichOneof("binding") == "name" else None
            value = source.attributes.get("val") if source is not None and source.type == "const" else \
                binding.value if binding.WhichOneof("binding") == "value" else None
            labels = _immediate_scalars(value) if value is not None else None
            if labels:
                return labels
    return None


def _immediate_scalars(value) -> list | None:
    """The strings or integers of an immediate tensor value, or of a list of scalar ones (how coremltools writes
    ``classify``'s classes)."""
    if value.WhichOneof("value") != "immediateValue":
        return None
    immediate = value.immediateValue
    if immediate.WhichOneof("value") == "list":
        found = [_immediate_scalars(item) for item in immediate.list.values]
        return None if any(item is None for item in found) else [x for item in found for x in item]
    if immediate.WhichOneof("value") != "tensor":
        return None
    which = immediate.tensor.WhichOneof("value")
    return list(getattr(immediate.tensor, which).values) if which in ("strings", "longInts", "ints") else None
