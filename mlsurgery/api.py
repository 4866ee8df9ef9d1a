"""File-level entry points: load → operate → validate → save, as the CLI and recipes use them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidModelError
from .graph import trainable_network
from .io import load_spec, save_spec
from .ops.changes import Changes
from .ops.make_updatable import make_updatable


@dataclass
class SurgeryResult:
    changes: Changes
    report: object  # mlsurgery.rules.base.ValidationReport
    written: Path | None


def load_network_spec(path, *, allow_glm_head: bool = False):
    """Load a model that surgery can work on: a neural network, or a pipeline ending in one (or, with
    ``allow_glm_head``, in a GLM classifier, which make-updatable replaces by a network).

    Anything else is refused here, naming the file and the model type found, before any work is done.
    """
    from .ops.glm_head import glm_head_stage_path

    spec = load_spec(path)
    if not (allow_glm_head and glm_head_stage_path(spec) is not None):
        trainable_network(spec, str(path))
    return spec


def save_if_valid(spec, output, *, source, changes: Changes, force: bool = False, dry_run: bool = False,
                  in_place: bool = False) -> SurgeryResult:
    """Validate ``spec`` as Core ML would and write it only if Core ML would accept it (or ``force``).

    Raises ``InvalidModelError`` (carrying the report) when the model is refused.
    """
    from .validate import validate_spec

    report = validate_spec(spec)
    if not report.valid and not force:
        first = report.coreml_first
        raise InvalidModelError(f"{output}: not written, Core ML would reject it: [{first.code}] {first.message}",
                                report)
    written = None if dry_run else save_spec(spec, output, source=source, in_place=in_place)
    return SurgeryResult(changes, report, written)


def make_updatable_file(model, output, layers: list[str], *, force: bool = False, dry_run: bool = False,
                        in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery make-updatable`` as a function: load ``model``, run
    ``mlsurgery.ops.make_updatable.make_updatable(spec, layers, **options)``, validate, and write ``output``.

    ``force`` also lets through layers gradients cannot reach (the validator still reports them).
    """
    spec = load_network_spec(model, allow_glm_head=True)
    changes = make_updatable(spec, layers, allow_blocked=force, **options)
    return save_if_valid(spec, output, source=model, changes=changes, force=force, dry_run=dry_run,
                         in_place=in_place)


def make_knn_file(model, output, features: str | None = None, settings=None, *, force: bool = False,
                  dry_run: bool = False, in_place: bool = False) -> SurgeryResult:
    """``mlsurgery make-knn`` as a function: ``mlsurgery.ops.knn.make_knn`` on ``model``, validate, write ``output``.

    ``settings`` is a ``mlsurgery.ops.knn.KnnSettings`` (default: k 3 in [1, 1000], uniform, linear index).
    """
    from .ops.knn import KnnSettings, make_knn

    spec = load_spec(model)
    changes = make_knn(spec, features, settings or KnnSettings(), source=str(model))
    return save_if_valid(spec, output, source=model, changes=changes, force=force, dry_run=dry_run,
                         in_place=in_place)


def split_file(model, output, at: str, *, layers: list[str] | None = None, force: bool = False,
               dry_run: bool = False, in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery split`` as a function: ``mlsurgery.ops.split.split_network`` after blob ``at``, then
    ``make_updatable`` on the head (``layers``, default auto, and ``options`` as make_updatable takes them),
    validate, and write ``output``.

    Without a loss choice, a head whose single output a softmax computes is trained with cross-entropy on it.
    """
    from .ops.split import split_network

    spec = load_spec(model)
    changes = split_network(spec, at, source=str(model))
    if options.get("loss") is None and options.get("loss_input") is None:
        options["loss_input"] = _softmax_output(spec)
    changes.extend(make_updatable(spec, layers or ["auto"], allow_blocked=force, **options))
    return save_if_valid(spec, output, source=model, changes=changes, force=force, dry_run=dry_run,
                         in_place=in_place)


def _softmax_output(spec) -> str | None:
    """The single output of a non-classifier trainable network when a softmax computes it."""
    from .graph import LayerGraph

    graph = LayerGraph.of(spec)
    outputs = graph.output_names
    if graph.is_classifier or len(outputs) != 1:
        return None
    producer = graph.blob_producer.get(outputs[0])
    return outputs[0] if producer is not None and producer.kind == "softmax" else None
