"""What differs between two Core ML models: interface, update parameters, layers, and each weight array's numbers.

``diff_specs(a, b)`` walks the two specs side by side: the model fields and interface (inputs, outputs, training
inputs), every neural network (pipelines stage by stage) with its layers matched by name (added, removed, changed:
settings, wiring, flags and weight arrays) and its ``updateParams``, and every other model type field by field.
``diff_files`` also keeps both files mapped and skips every message (network, layer, weight array) whose bytes are
the same in both, and reads fp32 weight arrays straight from the mapped files: comparing equal messages with
protobuf costs about as much as serializing them, which for a 400 MB layer is seconds. Without the bytes, equal
sub-messages are skipped with protobuf's own comparison. Weight arrays are compared with NumPy a bounded chunk at
a time (count of changed values, largest absolute and L2 difference), so two multi-hundred-MB models compare at
about the speed of parsing them.

``DiffReport.only_updatable_changed`` is the check that a model trained on a device (or by ``mlsurgery train``) is
the shipped model plus training: every difference is a new value of a parameter Core ML updates — a weight or
bias marked updatable in a layer marked updatable (``coreml.updatable_parameters``), or the stored examples of an
updatable k-NN classifier — with the same storage and size.
"""

from __future__ import annotations

import mmap
import os
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import wire
from .coreml import NETWORK_KINDS, PIPELINE_KINDS, holds_float_values, updatable_parameters
from .network import pipeline_stages, weight_count, weight_storage
from .io import load_spec
from .inspection import feature_type, feature_type_label
from .weights import FLOAT32_LE, FLOAT_VALUE_FIELD, float_values

_WEIGHT_PARAMS = "CoreML.Specification.WeightParams"
# Values compared per NumPy pass: bounds the float64 temporaries to a few tens of MB whatever the array's size.
_CHUNK = 1 << 22
# Repeated items and long scalar lists shown one by one up to this many; beyond, a count.
_SHOWN = 16
# The fields of a WeightParams that hold its values (NeuralNetwork.proto); compare_weights reads them.
_WEIGHT_VALUES = ("floatValue", "float16Value", "rawValue", "int8RawValue")
# What training writes into an updatable k-NN classifier (KNearestNeighborsClassifier in
# NearestNeighbors.proto): the stored examples and their labels.
_KNN_TRAINED_FIELDS = ("nearestNeighborsIndex.floatSamples", "stringClassLabels", "int64ClassLabels")


@dataclass
class FieldChange:
    """One field that differs, named by its path inside the message (``convolution.stride``), with both values as
    text (``None``: not set on that side)."""

    where: str
    field: str
    a: str | None
    b: str | None
    updatable: bool = False  # a value Core ML's training writes (only the k-NN's examples)


@dataclass
class WeightChange:
    """A weight array (a ``WeightParams``) that differs. ``changed``, ``max_abs_diff`` and ``l2_diff`` compare the
    values (fp16 widened to float32) when both sides hold the same number of float values; quantized or raw
    storage is compared byte by byte (``changed`` counts bytes, the differences are then ``None``)."""

    field: str
    storage_a: str
    storage_b: str
    size_a: int
    size_b: int
    changed: int | None
    max_abs_diff: float | None
    l2_diff: float | None
    updatable: bool  # Core ML trains this array (updatable layer, updatable WeightParams) and it kept its form


@dataclass
class LayerChange:
    where: str
    name: str
    type_a: str
    type_b: str
    settings: list[FieldChange] = field(default_factory=list)
    weights: list[WeightChange] = field(default_factory=list)


@dataclass
class LayerRef:
    where: str
    name: str
    type: str


@dataclass
class DiffReport:
    a: str
    b: str
    model: list[FieldChange] = field(default_factory=list)  # model, network and pipeline fields, other model types
    interface: list[FieldChange] = field(default_factory=list)
    update_parameters: list[FieldChange] = field(default_factory=list)
    layers_added: list[LayerRef] = field(default_factory=list)
    layers_removed: list[LayerRef] = field(default_factory=list)
    layers_changed: list[LayerChange] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.model or self.interface or self.update_parameters or self.layers_added
                    or self.layers_removed or self.layers_changed)

    @property
    def only_updatable_changed(self) -> bool:
        """Nothing differs but the values of parameters Core ML's training updates (True when nothing differs)."""
        return (not (self.interface or self.update_parameters or self.layers_added or self.layers_removed)
                and all(change.updatable for change in self.model)
                and all(not layer.settings and all(weights.updatable for weights in layer.weights)
                        for layer in self.layers_changed))

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(same=self.same, only_updatable_changed=self.only_updatable_changed)
        return data


# The serialized bytes of the same message in A and in B (memoryviews of the mapped files), when known.
Raw = tuple[memoryview, memoryview] | None


def diff_files(path_a: str | os.PathLike, path_b: str | os.PathLike) -> DiffReport:
    """Load two model files (one-line ``ModelLoadError`` when one cannot be) and compare them."""
    spec_a, spec_b = load_spec(path_a), load_spec(path_b)
    with ExitStack() as stack:
        data_a, data_b = _mapped(Path(path_a), stack), _mapped(Path(path_b), stack)
        raw = (data_a, data_b) if data_a is not None and data_b is not None else None
        report = diff_specs(spec_a, spec_b, str(path_a), str(path_b), raw=raw)
        del raw, data_a, data_b  # every view of the mappings goes before they close
    return report


def _mapped(path: Path, stack: ExitStack) -> memoryview | None:
    if path.stat().st_size == 0:
        return None
    stream = stack.enter_context(path.open("rb"))
    mapped = stack.enter_context(mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ))
    return stack.enter_context(memoryview(mapped))


def diff_specs(a, b, name_a: str = "A", name_b: str = "B", *, raw: Raw = None) -> DiffReport:
    """Everything that differs between the specs ``a`` and ``b`` (see the module's docstring); ``raw``: the bytes
    each was parsed from, to skip what is byte-identical."""
    report = DiffReport(name_a, name_b)
    _compare_model(a, b, "", report, raw)
    return report


def _same_bytes(raw: Raw) -> bool:
    """The two serialized messages are byte for byte the same (then so are the messages). Compared 8 bytes at a
    time, 16 MiB at a time: twice as fast as bytewise, with bounded temporaries."""
    data_a, data_b = raw
    if len(data_a) != len(data_b):
        return False
    step = _CHUNK * 4
    for start in range(0, len(data_a), step):
        part_a, part_b = data_a[start:start + step], data_b[start:start + step]
        whole = len(part_a) // 8 * 8
        if not np.array_equal(np.frombuffer(part_a[:whole], np.uint64), np.frombuffer(part_b[:whole], np.uint64)) \
                or part_a[whole:] != part_b[whole:]:
            return False
    return True


def _occurrences(data: memoryview, number: int) -> list[memoryview] | None:
    """The value of each occurrence of length-delimited field ``number`` in a serialized message; None when the
    bytes are not such a message (then the caller compares the parsed messages instead)."""
    found = []
    try:
        for _, field_number, wire_type, start in wire.fields(data):
            if field_number == 0:
                break
            if field_number == number:
                if wire_type != wire.LENGTH_DELIMITED:
                    return None
                length, position = wire.read_varint(data, start)
                found.append(data[position:position + length])
    except (ValueError, IndexError):
        return None
    return found


def _sub(raw: Raw, message, name: str) -> Raw:
    """The bytes of the singular message field ``name`` in both, when each side holds it exactly once."""
    if raw is None:
        return None
    number = message.DESCRIPTOR.fields_by_name[name].number
    found_a, found_b = _occurrences(raw[0], number), _occurrences(raw[1], number)
    if found_a is None or found_b is None or len(found_a) != 1 or len(found_b) != 1:
        return None
    return found_a[0], found_b[0]


def _items(raw: Raw, message_a, message_b, name: str) -> tuple[list[memoryview], list[memoryview]] | None:
    """The bytes of each item of the repeated message field ``name`` on both sides, when they line up."""
    if raw is None:
        return None
    number = message_a.DESCRIPTOR.fields_by_name[name].number
    found_a, found_b = _occurrences(raw[0], number), _occurrences(raw[1], number)
    if found_a is None or found_b is None or len(found_a) != len(getattr(message_a, name)) \
            or len(found_b) != len(getattr(message_b, name)):
        return None
    return found_a, found_b


def _compare_model(a, b, where: str, report: DiffReport, raw: Raw = None) -> None:
    # With the bytes known, equality is decided layer by layer below: comparing the whole model first would read
    # every byte once more whenever the difference is near the end (a retrained classifier).
    for name in ("specificationVersion", "isUpdatable"):
        if getattr(a, name) != getattr(b, name):
            report.model.append(FieldChange(where, name, _text(getattr(a, name)), _text(getattr(b, name))))
    if a.description != b.description:
        _compare_description(a.description, b.description, where, report)
    kind_a, kind_b = a.WhichOneof("Type"), b.WhichOneof("Type")
    if kind_a != kind_b:
        report.model.append(FieldChange(where, "type", kind_a, kind_b))
        for model, side in ((a, report.layers_removed), (b, report.layers_added)):
            side.extend(_all_layers(model, where))
        return
    if kind_a is None:
        return
    inner = _sub(raw, a, kind_a)
    if inner is None and getattr(a, kind_a) == getattr(b, kind_a):
        return
    if kind_a in NETWORK_KINDS:
        _compare_network(getattr(a, kind_a), getattr(b, kind_a), where, report, inner)
    elif kind_a in PIPELINE_KINDS:
        _compare_pipeline(a, b, kind_a, where, report, inner)
    elif not _equal(getattr(a, kind_a), getattr(b, kind_a), inner):
        trained = _KNN_TRAINED_FIELDS if kind_a == "kNearestNeighborsClassifier" and a.isUpdatable else ()
        for change in _field_changes(getattr(a, kind_a), getattr(b, kind_a), where, f"{kind_a}."):
            change.updatable = change.field.removeprefix(f"{kind_a}.").startswith(trained) if trained else False
            report.model.append(change)


def _compare_description(a, b, where: str, report: DiffReport) -> None:
    """Inputs, outputs and training inputs matched by name; the other description fields (metadata, predicted
    feature names) as field changes. At the root these are the interface; inside a pipeline, model changes."""
    target = report.interface if not where else report.model
    for role in ("input", "output", "trainingInput"):
        features_a = {feature.name: feature for feature in getattr(a, role)}
        features_b = {feature.name: feature for feature in getattr(b, role)}
        for name in list(features_a) + [name for name in features_b if name not in features_a]:
            feature_a, feature_b = features_a.get(name), features_b.get(name)
            if feature_a is None or feature_b is None:
                present = feature_a or feature_b
                text = _feature_text(present)
                target.append(FieldChange(where, f"{role} {name}", text if feature_a else None,
                                          text if feature_b else None))
            elif feature_a != feature_b:
                target.append(FieldChange(where, f"{role} {name}", _feature_text(feature_a),
                                          _feature_text(feature_b)))
        order_a = [name for name in features_a if name in features_b]
        order_b = [name for name in features_b if name in features_a]
        if order_a != order_b:
            target.append(FieldChange(where, f"{role} order", ", ".join(order_a), ", ".join(order_b)))
    for change in _field_changes(a, b, where, "description.", skip=("input", "output", "trainingInput")):
        target.append(change)


def _feature_text(feature) -> str:
    described = feature_type(feature.type)
    text = feature_type_label(described) + (" (optional)" if described["optional"] else "")
    return text + (f" — {feature.shortDescription}" if feature.shortDescription else "")


def _equal(a, b, raw: Raw) -> bool:
    """Two messages are equal: by their bytes when known (fast), else by protobuf's comparison."""
    if raw is not None and _same_bytes(raw):
        return True
    return a == b if raw is None else False


def _compare_pipeline(a, b, kind: str, where: str, report: DiffReport, raw: Raw) -> None:
    container_a = a.pipeline if kind == "pipeline" else getattr(a, kind).pipeline
    container_b = b.pipeline if kind == "pipeline" else getattr(b, kind).pipeline
    if kind != "pipeline":
        raw = _sub(raw, getattr(a, kind), "pipeline")
    items = _items(raw, container_a, container_b, "models")
    if list(container_a.names) != list(container_b.names):
        report.model.append(FieldChange(where, "pipeline names", ", ".join(container_a.names),
                                        ", ".join(container_b.names)))
    stages_a, stages_b = pipeline_stages(a), pipeline_stages(b)
    for index in range(max(len(stages_a), len(stages_b))):
        stage_where = f"{where} › pipeline stage {index + 1}".removeprefix(" › ")
        if index >= len(stages_a) or index >= len(stages_b):
            present = stages_a[index] if index < len(stages_a) else stages_b[index]
            added = index >= len(stages_a)
            report.model.append(FieldChange(stage_where, "stage", None if added else present.WhichOneof("Type"),
                                            present.WhichOneof("Type") if added else None))
            (report.layers_added if added else report.layers_removed).extend(_all_layers(present, stage_where))
        else:
            stage_raw = (items[0][index], items[1][index]) if items is not None else None
            if stage_raw is not None or stages_a[index] != stages_b[index]:
                _compare_model(stages_a[index], stages_b[index], stage_where, report, stage_raw)


def _all_layers(model, where: str) -> list[LayerRef]:
    kind = model.WhichOneof("Type")
    if kind in NETWORK_KINDS:
        return [LayerRef(where, layer.name, _layer_type(layer)) for layer in getattr(model, kind).layers]
    found = []
    for index, stage in enumerate(pipeline_stages(model)):
        found.extend(_all_layers(stage, f"{where} › pipeline stage {index + 1}".removeprefix(" › ")))
    return found


def _layer_type(layer) -> str:
    kind = layer.WhichOneof("layer") or "unset"
    activation = layer.activation.WhichOneof("NonlinearityType") if kind == "activation" else None
    return f"activation/{activation}" if activation else kind


def _compare_network(a, b, where: str, report: DiffReport, raw: Raw) -> None:
    report.model.extend(_field_changes(a, b, where, "", skip=("layers", "updateParams")))
    items = _items(raw, a, b, "layers")
    if a.updateParams != b.updateParams:
        report.update_parameters.extend(_field_changes(a.updateParams, b.updateParams, where, ""))
    layers_a, layers_b = _keyed_layers(a.layers), _keyed_layers(b.layers)
    for key, index in layers_a.items():
        if key not in layers_b:
            report.layers_removed.append(LayerRef(where, key, _layer_type(a.layers[index])))
    for key, index in layers_b.items():
        if key not in layers_a:
            report.layers_added.append(LayerRef(where, key, _layer_type(b.layers[index])))
    common_a = [key for key in layers_a if key in layers_b]
    common_b = [key for key in layers_b if key in layers_a]
    if common_a != common_b:
        report.model.append(FieldChange(where, "layer order", f"{len(common_a)} layers in one order",
                                        "another order"))
    for key in common_a:
        layer_a, layer_b = a.layers[layers_a[key]], b.layers[layers_b[key]]
        layer_raw = (items[0][layers_a[key]], items[1][layers_b[key]]) if items is not None else None
        if _equal(layer_a, layer_b, layer_raw):
            continue
        change = LayerChange(where, key, _layer_type(layer_a), _layer_type(layer_b))
        kind = layer_a.WhichOneof("layer")
        trained = frozenset(f"{kind}.{name}" for name, weights in updatable_parameters(layer_a)
                            if layer_a.isUpdatable and weights.isUpdatable)
        change.settings = _field_changes(layer_a, layer_b, where, "", weights=change.weights, trained=trained,
                                         raw=layer_raw)
        if change.settings or change.weights:
            report.layers_changed.append(change)


def _keyed_layers(layers) -> dict[str, int]:
    """Layer positions by name; a name used again gets ``#2``, ``#3`` … (Core ML does not require unique names)."""
    keyed: dict[str, int] = {}
    for index, layer in enumerate(layers):
        key, count = layer.name, 1
        while key in keyed:
            count += 1
            key = f"{layer.name}#{count}"
        keyed[key] = index
    return keyed


def _field_changes(a, b, where: str, prefix: str, *, skip: tuple[str, ...] = (), weights: list | None = None,
                   trained: frozenset[str] = frozenset(), absent: str = "", raw: Raw = None) -> list[FieldChange]:
    """The fields of two messages of one type that differ, as paths from ``prefix``. Weight arrays go to
    ``weights`` (as ``WeightChange``) when given; ``trained`` holds the paths of the arrays Core ML trains. ``absent``
("a" or "b") marks the side that stands in for a sub-message the model does not have: its values show as None.
``raw``: the bytes of ``a`` and ``b``, to skip byte-identical sub-messages and read weight arrays in place."""
    changes: list[FieldChange] = []
    names = [descriptor.name for descriptor, _ in a.ListFields()]
    names += [descriptor.name for descriptor, _ in b.ListFields() if descriptor.name not in names]
    for name in names:
        if name in skip:
            continue
        descriptor = a.DESCRIPTOR.fields_by_name[name]
        value_a, value_b = getattr(a, name), getattr(b, name)
        path = f"{prefix}{name}"
        message = descriptor.message_type
        if message is not None and message.GetOptions().map_entry:
            changes.extend(_map_changes(value_a, value_b, where, path, message))
        elif message is not None and descriptor.is_repeated:
            if len(value_a) != len(value_b):
                changes.append(FieldChange(where, path, f"{len(value_a)} items" if absent != "a" else None,
                                           f"{len(value_b)} items" if absent != "b" else None))
            differing = [index for index in range(max(len(value_a), len(value_b)))
                         if index >= len(value_a) or index >= len(value_b) or value_a[index] != value_b[index]]
            for index in differing[:_SHOWN]:
                item_a = value_a[index] if index < len(value_a) else None
                item_b = value_b[index] if index < len(value_b) else None
                changes.extend(_message_changes(item_a, item_b, where, f"{path}[{index}]", weights, trained, absent))
            if len(differing) > _SHOWN:
                changes.append(FieldChange(where, f"{path}[…]", None, f"{len(differing) - _SHOWN} more items differ"))
        elif message is not None:
            present_a, present_b = a.HasField(name), b.HasField(name)
            inner = _sub(raw, a, name) if present_a and present_b else None
            if present_a == present_b and _equal(value_a, value_b, inner):
                continue
            changes.extend(_message_changes(value_a if present_a else None, value_b if present_b else None, where,
                                            path, weights, trained, absent, inner))
        elif descriptor.is_repeated:
            if list(value_a) != list(value_b):
                change = _repeated_scalars_change(where, path, list(value_a), list(value_b))
                changes.append(_blank(change, absent))
        elif value_a != value_b:
            change = FieldChange(where, path, _text(value_a, descriptor), _text(value_b, descriptor))
            changes.append(_blank(change, absent))
    return changes


def _message_changes(a, b, where: str, path: str, weights: list | None, trained: frozenset[str],
                     absent: str = "", raw: Raw = None) -> list[FieldChange]:
    """How two sub-messages differ; ``None`` is a sub-message present on the other side only: its fields are
    listed against an empty one (shown as not set), and a present one without fields is named ``set``."""
    changes = []
    if a is None or b is None:
        present = a if a is not None else b
        absent = "a" if a is None else "b"
        if not present.ListFields() and present.DESCRIPTOR.full_name != _WEIGHT_PARAMS:
            changes.append(FieldChange(where, path, None if a is None else "set", None if b is None else "set"))
        empty = type(present)()
        a, b = (empty, b) if a is None else (a, empty)
    if a.DESCRIPTOR.full_name == _WEIGHT_PARAMS and weights is not None:
        change = compare_weights(path, a, b, updatable=path in trained, raw=raw)
        if change.storage_a != change.storage_b or change.size_a != change.size_b or change.changed != 0:
            weights.append(change)
        # The array's other fields (isUpdatable, quantization parameters) are settings of the layer.
        return changes + _field_changes(a, b, where, f"{path}.", skip=_WEIGHT_VALUES, absent=absent)
    return changes + _field_changes(a, b, where, f"{path}.", weights=weights, trained=trained, absent=absent,
                                    raw=raw)


def _blank(change: FieldChange, absent: str) -> FieldChange:
    if absent == "a":
        change.a = None
    elif absent == "b":
        change.b = None
    return change


def _map_changes(a, b, where: str, path: str, entry) -> list[FieldChange]:
    changes = []
    holds_messages = entry.fields_by_name["value"].message_type is not None
    for key in sorted(set(a) | set(b), key=str):
        value_a = a[key] if key in a else None
        value_b = b[key] if key in b else None
        if value_a == value_b:
            continue
        if holds_messages and value_a is not None and value_b is not None:
            changes.extend(_field_changes(value_a, value_b, where, f"{path}[{key!r}]."))
        else:
            shown = (lambda value: None if value is None else ("set" if holds_messages else _text(value)))
            changes.append(FieldChange(where, f"{path}[{key!r}]", shown(value_a), shown(value_b)))
    return changes


def _repeated_scalars_change(where: str, path: str, a: list, b: list) -> FieldChange:
    if len(a) <= _SHOWN and len(b) <= _SHOWN:
        return FieldChange(where, path, _text(a), _text(b))
    if len(a) != len(b):
        return FieldChange(where, path, f"{len(a)} values", f"{len(b)} values")
    differing = sum(1 for x, y in zip(a, b) if x != y)
    return FieldChange(where, path, f"{len(a)} values", f"{differing} of them differ")


def _text(value, descriptor=None) -> str:
    if descriptor is not None and descriptor.enum_type is not None:
        names = descriptor.enum_type.values_by_number
        return names[value].name if value in names else str(value)
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    return str(value)


def compare_weights(path: str, a, b, *, updatable: bool = False, raw: Raw = None) -> WeightChange:
    """How two ``WeightParams`` differ: storage, size, and (same size) the count of changed values, the largest
    absolute and the L2 difference. NaN against NaN counts as unchanged; NaN against a number as changed, with
    an infinite difference. ``raw``: the two messages' bytes, from which fp32 values are read in place."""
    storage_a, storage_b = weight_storage(a), weight_storage(b)
    size_a, size_b = weight_count(a), weight_count(b)
    changed = max_abs = l2 = None
    if holds_float_values(a) and holds_float_values(b) and size_a == size_b:
        values_a = _floats_in_place(raw[0], a) if raw is not None else None
        values_b = _floats_in_place(raw[1], b) if raw is not None else None
        changed, max_abs, l2 = _compare_values(values_a if values_a is not None else float_values(a),
                                               values_b if values_b is not None else float_values(b))
    elif not holds_float_values(a) and storage_a == storage_b and a.quantization == b.quantization:
        bytes_a = np.frombuffer(a.rawValue or a.int8RawValue, dtype=np.uint8)
        bytes_b = np.frombuffer(b.rawValue or b.int8RawValue, dtype=np.uint8)
        if bytes_a.size == bytes_b.size:
            changed = int(np.count_nonzero(bytes_a != bytes_b))
    kept_form = storage_a == storage_b and size_a == size_b and a.isUpdatable == b.isUpdatable
    return WeightChange(path, storage_a, storage_b, size_a, size_b, changed, max_abs, l2,
                        updatable and kept_form and changed is not None and max_abs is not None)


def _floats_in_place(data: memoryview, weights) -> np.ndarray | None:
    """A WeightParams' fp32 values as a view of its serialized bytes: its ``floatValue`` written as one packed
    field (as every protobuf writer does); None otherwise (then ``float_values`` reads the parsed message)."""
    count = len(weights.floatValue)
    if not count:
        return None
    found = []
    try:
        for _, number, wire_type, start in wire.fields(data):
            if number == FLOAT_VALUE_FIELD:
                if wire_type != wire.LENGTH_DELIMITED:
                    return None  # unpacked floats, one field each
                length, position = wire.read_varint(data, start)
                found.append((position, length))
    except (ValueError, IndexError):
        return None
    if len(found) != 1 or found[0][1] != 4 * count:
        return None
    return np.frombuffer(data, dtype=FLOAT32_LE, count=count, offset=found[0][0])


def _compare_values(a: np.ndarray, b: np.ndarray) -> tuple[int, float, float]:
    """Changed count, largest absolute and L2 difference of two float32 arrays of one size. One float32
    comparison pass over everything; the float64 differences are computed for the changed values only."""
    changed, max_abs, squares = 0, 0.0, 0.0
    for start in range(0, a.size, _CHUNK):
        part_a, part_b = a[start:start + _CHUNK], b[start:start + _CHUNK]
        differs = part_a != part_b  # NaN against NaN too: dropped below
        if not differs.any():
            continue
        values_a = part_a[differs].astype(np.float64)
        values_b = part_b[differs].astype(np.float64)
        really = ~(np.isnan(values_a) & np.isnan(values_b))
        difference = np.abs(values_a[really] - values_b[really])
        difference[np.isnan(difference)] = np.inf  # NaN against a number
        changed += difference.size
        if difference.size:
            max_abs = max(max_abs, float(difference.max()))
            squares += float(np.dot(difference, difference))
    return changed, max_abs, float(np.sqrt(squares))
