"""Mark layers (and the model) updatable, replacing whatever updatable set the spec had before."""

from __future__ import annotations

from ..errors import SurgeryError, UsageError
from ..coreml import MIN_UPDATABLE_SPEC_VERSION, PIPELINE_KINDS, UPDATABLE_LAYER_KINDS
from ..network import LayerGraph, pipeline_stages, trainable_network
from .changes import Changes


def mark_updatable(spec, layers: list[str]) -> Changes:
    """Make exactly ``layers`` updatable: their ``isUpdatable`` and that of each weight and bias they hold.

    Every other layer of the network loses its flags, so the updatable set is replaced, never accumulated. The
    model (and, for a pipeline, each pipeline on the way to the last stage) is marked updatable and its
    specification version raised to at least 4.
    """
    changes = Changes("mark-updatable")
    if not layers:
        raise UsageError("no layers given; name at least one layer to make updatable (e.g. --layers fc0)")
    location = trainable_network(spec)
    graph = LayerGraph(location)
    chosen = [graph.layer(name) for name in dict.fromkeys(layers)]
    for layer in chosen:
        if not layer.can_be_updatable:
            reason = (f"Core ML can only train {', '.join(UPDATABLE_LAYER_KINDS[:-1])} and {UPDATABLE_LAYER_KINDS[-1]} "
                      "layers" if layer.kind not in UPDATABLE_LAYER_KINDS else
                      "its weights are quantized; pass --dequantize to expand them to fp32 first")
            raise SurgeryError(f"layer {layer.name!r} ({layer.type_label}) cannot be made updatable: {reason}")
    chosen_names = {layer.name for layer in chosen}
    for layer in graph.layers:
        wanted = layer.name in chosen_names
        if layer.proto.isUpdatable != wanted:
            changes.add(f"layer {layer.name}", "marked updatable" if wanted else "no longer updatable")
        layer.proto.isUpdatable = wanted
        for _, weights in layer.weights:
            weights.isUpdatable = wanted
    _mark_model_path(spec, location.stage_path, changes)
    return changes


def _mark_model_path(spec, stage_path: tuple[int, ...], changes: Changes, where: str = "model") -> None:
    if not spec.isUpdatable:
        changes.add(where, "isUpdatable = true")
    spec.isUpdatable = True
    if spec.specificationVersion < MIN_UPDATABLE_SPEC_VERSION:
        changes.add(where, f"specificationVersion {spec.specificationVersion} → {MIN_UPDATABLE_SPEC_VERSION}")
        spec.specificationVersion = MIN_UPDATABLE_SPEC_VERSION
    if not stage_path:
        return
    if spec.WhichOneof("Type") not in PIPELINE_KINDS:
        raise SurgeryError(f"{where}: expected a pipeline on the way to the trainable network")
    stages = pipeline_stages(spec)
    # Core ML requires every stage but the last to stay non-updatable (upstream: PipelineValidator.cpp).
    for index, stage in enumerate(stages[:-1]):
        if stage.isUpdatable:
            changes.add(f"{where} › stage {index + 1}", "isUpdatable = false (only the last stage may train)")
            stage.isUpdatable = False
    _mark_model_path(stages[stage_path[0]], stage_path[1:], changes, f"{where} › stage {stage_path[0] + 1}")
