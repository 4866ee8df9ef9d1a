"""File-level entry points: load → operate → validate → save, as the CLI and recipes use them.

``run_job`` is that sequence, once, for every command that writes a model: an operation is any function
``spec -> Changes`` (``functools.partial`` or a lambda binds its arguments), so a new command is its operation
plus one ``run_job`` call, and it refuses, validates and writes exactly as the others do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidModelError, UsageError
from .network import trainable_network
from .io import check_output_path, load_spec, save_spec
from .ops.changes import Changes
from .ops.make_updatable import make_updatable

Operation = Callable[[object], Changes]


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


def run_job(model_path, operations: Operation | Sequence[Operation], output, *, dry_run: bool = False,
            force: bool = False, in_place: bool = False,
            load: Callable[[object], object] = load_network_spec) -> SurgeryResult:
    """Load ``model_path``, apply ``operations`` (one, or several in order) to it, validate the result as Core ML
    would, and write it to ``output`` only if Core ML would accept it.

    Refuses before any work an ``output`` that cannot be written (the input itself needs ``in_place``).
    ``dry_run`` writes nothing (the result still carries the changes and the verdict); ``force`` writes a model
    the validator rejects. A rejected model raises ``InvalidModelError`` carrying the report (exit 1). ``load``
    reads the model (default: ``load_network_spec``, a network or a pipeline ending in one).
    """
    steps = [operations] if callable(operations) else list(operations)
    if not steps:
        raise UsageError("no operations given; a job needs at least one")
    if not dry_run:
        check_output_path(output, source=model_path, in_place=in_place)
    spec = load(model_path)
    done = [step(spec) for step in steps]
    changes = done[0]
    if len(done) > 1:
        changes = Changes(" + ".join(part.operation for part in done))
        for part in done:
            changes.extend(part)
    return save_if_valid(spec, output, source=model_path, changes=changes, force=force, dry_run=dry_run,
                         in_place=in_place)


def save_if_valid(spec, output, *, source, changes: Changes, force: bool = False, dry_run: bool = False,
                  in_place: bool = False) -> SurgeryResult:
    """The last stage of a job: validate ``spec`` as Core ML would and write it only if Core ML would accept it
    (or ``force``). Recipes call it for each save of their in-memory model.

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


def widen_file(model, output, layer: str, num_classes: int, *, force: bool = False, dry_run: bool = False,
               in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery widen`` as a function: ``mlsurgery.ops.widen.widen_classifier(spec, layer, num_classes,
    **options)`` on ``model``, validated and written to ``output`` as ``run_job`` does."""
    from .ops.widen import widen_classifier

    return run_job(model, lambda spec: widen_classifier(spec, layer, num_classes, **options), output,
                   force=force, dry_run=dry_run, in_place=in_place)


def reinit_file(model, output, layers: list[str], *, force: bool = False, dry_run: bool = False,
                in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery reinit`` as a function: ``mlsurgery.ops.reinit.reinit_layers(spec, layers, **options)`` on
    ``model``, validated and written to ``output`` as ``run_job`` does."""
    from .ops.reinit import reinit_layers

    return run_job(model, lambda spec: reinit_layers(spec, layers, **options), output, force=force,
                   dry_run=dry_run, in_place=in_place)


def make_updatable_file(model, output, layers: list[str], *, force: bool = False, dry_run: bool = False,
                        in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery make-updatable`` as a function: load ``model``, run
    ``mlsurgery.ops.make_updatable.make_updatable(spec, layers, **options)``, validate, and write ``output``.

    ``force`` also lets through layers gradients cannot reach (the validator still reports them).
    """
    return run_job(model, lambda spec: make_updatable(spec, layers, allow_blocked=force, **options), output,
                   force=force, dry_run=dry_run, in_place=in_place,
                   load=functools.partial(load_network_spec, allow_glm_head=True))


def make_knn_file(model, output, features: str | None = None, settings=None, *, force: bool = False,
                  dry_run: bool = False, in_place: bool = False) -> SurgeryResult:
    """``mlsurgery make-knn`` as a function: ``mlsurgery.ops.knn.make_knn`` on ``model``, validate, write ``output``.

    ``settings`` is a ``mlsurgery.ops.knn.KnnSettings`` (default: k 3 in [1, 1000], uniform, linear index).
    """
    from .ops.knn import KnnSettings, make_knn

    return run_job(model, lambda spec: make_knn(spec, features, settings or KnnSettings(), source=str(model)),
                   output, force=force, dry_run=dry_run, in_place=in_place, load=load_spec)


def split_file(model, output, at: str, *, layers: list[str] | None = None, force: bool = False,
               dry_run: bool = False, in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery split`` as a function: ``mlsurgery.ops.split.split_network`` after blob ``at``, then
    ``make_updatable`` on the head (``layers``, default auto, and ``options`` as make_updatable takes them),
    validate, and write ``output``.

    Without a loss choice, a head whose single output a softmax computes is trained with cross-entropy on it.
    """
    from .ops.split import split_network

    def split_and_train_head(spec) -> Changes:
        changes = split_network(spec, at, source=str(model))
        if options.get("loss") is None and options.get("loss_input") is None:
            options["loss_input"] = _softmax_output(spec)
        changes.extend(make_updatable(spec, layers or ["auto"], allow_blocked=force, **options))
        return changes

    return run_job(model, split_and_train_head, output, force=force, dry_run=dry_run, in_place=in_place,
                   load=load_spec)


def _softmax_output(spec) -> str | None:
    """The single output of a non-classifier trainable network when a softmax computes it."""
    from .network import LayerGraph

    graph = LayerGraph.trainable(spec)
    outputs = graph.output_names
    if graph.is_classifier or len(outputs) != 1:
        return None
    producer = graph.blob_producer.get(outputs[0])
    return outputs[0] if producer is not None and producer.kind == "softmax" else None


@dataclass
class FixFileResult:
    fix: object  # mlsurgery.ops.fix.FixResult: applied and refused rewrites
    surgery: SurgeryResult


def fix_file(model, output, *, only: list[str] | None = None, force: bool = False, dry_run: bool = False,
             in_place: bool = False) -> FixFileResult:
    """``mlsurgery fix`` as a job: apply the provable converter-output rewrites (``mlsurgery.ops.fix.fix``) to
    ``model``, validate, and write ``output``."""
    from .ops.fix import fix

    outcome = []

    def rewrite(spec) -> Changes:
        outcome.append(fix(spec, only=only))
        return outcome[0].changes

    surgery = run_job(model, rewrite, output, dry_run=dry_run, force=force, in_place=in_place)
    return FixFileResult(outcome[0], surgery)


def train_knn_file(model_path, data, output, *, features: dict[str, str] | None = None, force: bool = False,
                   in_place: bool = False):
    """``mlsurgery train`` on a k-NN model: store ``data``'s examples, validate, write ``output``.

    ``data`` and ``features`` are read as ``mlsurgery.engine.knn.knn_examples`` reads them. Returns
    (KnnTrainResult, SurgeryResult); nothing is written when anything fails.
    """
    from .engine.knn_training import knn_examples, train_knn

    outcome = {}

    def store(spec) -> Changes:
        result = train_knn(spec, knn_examples(spec, data, features))
        outcome["result"] = result
        changes = Changes("train")
        changes.add("k-NN", f"{result.added} examples stored ({result.examples} in all)")
        return changes

    saved = run_job(model_path, store, output, force=force, in_place=in_place, load=load_spec)
    return outcome["result"], saved
