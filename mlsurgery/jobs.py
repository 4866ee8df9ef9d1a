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

from .errors import InvalidModelError, MLSurgeryError, UsageError
from .network import trainable_network
from .io import check_output_path, load_package, load_spec, open_spec, save_spec
from .ops.changes import Changes
from .ops.make_updatable import make_updatable

Operation = Callable[[object], Changes]


@dataclass
class SurgeryResult:
    changes: Changes
    report: object  # mlsurgery.rules.base.ValidationReport
    written: Path | None


@dataclass
class OpenedModel:
    """A model as commands read it, and what reading it took."""

    spec: object
    conversion: str | None = None  # one line when an ML Program was converted to a NeuralNetwork to read it


def open_model(path, *, stored_weights: bool = False) -> OpenedModel:
    """Read the model at ``path`` (an ``.mlmodel`` file or an ``.mlpackage`` folder) as every command that works
    on NeuralNetworks takes it: an ML Program is converted to its NeuralNetwork equivalent first
    (``mlsurgery.mlprogram.convert``, the only path that imports coremltools), saying so in ``conversion``.
    ``stored_weights``: large weight fields stay in the file until the save (``mlsurgery.io.open_spec``)."""
    path = Path(path)
    spec, weights_dir = _read_model(path, stored_weights=stored_weights)
    if spec.WhichOneof("Type") != "mlProgram":
        return OpenedModel(spec)
    from .mlprogram.convert import to_neural_network

    converted = to_neural_network(spec, weights_dir, source=str(path))
    details = "; ".join(converted.notes)
    return OpenedModel(converted.spec, f"{path}: ML Program converted to a NeuralNetwork"
                                       f"{f' ({details})' if details else ''}")


def _open_leaving_weights(path) -> OpenedModel:
    """``open_model`` with large weight fields left in the file until the save copies them, as every job
    takes its model."""
    return open_model(path, stored_weights=True)


def _read_model(path: Path, *, stored_weights: bool = False):
    """(spec, weights folder of an ML Program package or None) of an ``.mlmodel`` file or ``.mlpackage`` folder."""
    if path.is_dir():  # a package holds its ML Program's weights beside the spec; load_package finds them
        from .package import is_package

        if is_package(path):
            loaded = load_package(path, stored_weights=stored_weights)
            return loaded.spec, loaded.weights_dir
    return (open_spec(path) if stored_weights else load_spec(path)), None


def convert_file(model, output, *, keep_fp16: bool = False, force: bool = False, dry_run: bool = False,
                 in_place: bool = False):
    """``mlsurgery convert``: the ML Program at ``model`` (``.mlpackage``, or an ``.mlmodel`` holding one) as a
    NeuralNetwork (``mlsurgery.mlprogram.convert.to_neural_network``), validated and written to ``output``.

    Returns (Conversion, SurgeryResult); anything that cannot be converted is refused in one line (exit 2).
    """
    from .mlprogram.convert import to_neural_network

    conversions = []

    def load(path):
        spec, weights_dir = _read_model(Path(path))
        conversions.append(to_neural_network(spec, weights_dir, source=str(path), keep_fp16=keep_fp16))
        return conversions[-1].spec

    def record_notes(spec) -> Changes:
        changes = Changes("convert")
        for note in conversions[-1].notes:
            changes.add("model", note)
        return changes

    saved = run_job(model, record_notes, output, load=load, force=force, dry_run=dry_run, in_place=in_place)
    return conversions[-1], saved


def open_network_model(path, *, allow_glm_head: bool = False) -> OpenedModel:
    """``open_model`` for surgery: a neural network, or a pipeline ending in one (or, with ``allow_glm_head``, in
    a GLM classifier, which make-updatable replaces by a network).

    Anything else is refused here, naming the file and the model type found, before any work is done.
    """
    from .ops.glm_head import glm_head_stage_path

    opened = _open_leaving_weights(path)
    if not (allow_glm_head and glm_head_stage_path(opened.spec) is not None):
        trainable_network(opened.spec, str(path))
    return opened


def load_network_spec(path, *, allow_glm_head: bool = False):
    """The spec ``open_network_model`` reads."""
    return open_network_model(path, allow_glm_head=allow_glm_head).spec


def run_job(model_path, operations: Operation | Sequence[Operation], output, *, dry_run: bool = False,
            force: bool = False, in_place: bool = False,
            load: Callable[[object], object] = open_network_model) -> SurgeryResult:
    """Load ``model_path``, apply ``operations`` (one, or several in order) to it, validate the result as Core ML
    would, and write it to ``output`` only if Core ML would accept it.

    Refuses before any work an ``output`` that cannot be written (the input itself needs ``in_place``).
    ``dry_run`` writes nothing (the result still carries the changes and the verdict); ``force`` writes a model
    the validator rejects. A rejected model raises ``InvalidModelError`` carrying the report (exit 1). ``load``
    reads the model and returns its spec, or an ``OpenedModel`` when reading took a conversion (default:
    ``open_network_model``, a network or a pipeline ending in one; an ML Program is converted first, and the
    conversion is the first of the changes).
    """
    steps = [operations] if callable(operations) else list(operations)
    if not steps:
        raise UsageError("no operations given; a job needs at least one")
    if not dry_run:
        check_output_path(output, source=model_path, in_place=in_place)
    loaded = load(model_path)
    opened = loaded if isinstance(loaded, OpenedModel) else OpenedModel(loaded)
    spec = opened.spec
    done = [step(spec) for step in steps]
    changes = done[0]
    if len(done) > 1 or opened.conversion:
        changes = Changes(" + ".join(part.operation for part in done))
        if opened.conversion:
            changes.add(str(model_path), opened.conversion.removeprefix(f"{model_path}: "))
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


def blob_shape_measure():
    """The engine's blob-shape measurement for N-D networks, when the engine (PyTorch) is installed; the engine is
    imported on the first measurement (PyTorch takes a second to import, and most runs measure nothing)."""
    try:
        from .engine.errors import require_torch  # importing the engine package already checks for PyTorch

        require_torch()
    except MLSurgeryError:  # EngineUnavailableError, raised before its class could be imported
        return None

    def measure(*args, **kwargs):
        from .engine.blob_shapes import measure_blob_shape

        return measure_blob_shape(*args, **kwargs)

    return measure


def _prove_with_engine(*args, **kwargs):
    """The engine's proof of a rewrite, imported on the first rewrite to prove (most models have none)."""
    from .engine.proof import prove_with_engine

    return prove_with_engine(*args, **kwargs)


def _prover_for(options: dict) -> None:
    """``make_updatable``'s ``--fix`` proves each rewrite by running the model: give it the engine's proof."""
    if options.get("fix"):
        options.setdefault("prove", _prove_with_engine)
    if options.get("keep_precision") or options.get("fix"):
        # Splitting off a reduced-precision part and an MSE target past a layer shape propagation does not know
        # both need a blob's shape, which then only running the network tells.
        options.setdefault("measure", blob_shape_measure())


def make_updatable_file(model, output, layers: list[str], *, force: bool = False, dry_run: bool = False,
                        in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery make-updatable`` as a function: load ``model``, run
    ``mlsurgery.ops.make_updatable.make_updatable(spec, layers, **options)``, validate, and write ``output``.

    ``force`` also lets through layers gradients cannot reach (the validator still reports them).
    """
    _prover_for(options)
    return run_job(model, lambda spec: make_updatable(spec, layers, allow_blocked=force, **options), output,
                   force=force, dry_run=dry_run, in_place=in_place,
                   load=functools.partial(open_network_model, allow_glm_head=True))


def make_knn_file(model, output, features: str | None = None, settings=None, *, force: bool = False,
                  dry_run: bool = False, in_place: bool = False) -> SurgeryResult:
    """``mlsurgery make-knn`` as a function: ``mlsurgery.ops.knn.make_knn`` on ``model``, validate, write ``output``.

    ``settings`` is a ``mlsurgery.ops.knn.KnnSettings`` (default: k 3 in [1, 1000], uniform, linear index).
    """
    from .ops.knn import KnnSettings, make_knn

    measure = blob_shape_measure()
    return run_job(model, lambda spec: make_knn(spec, features, settings or KnnSettings(), source=str(model),
                                                 measure=measure),
                   output, force=force, dry_run=dry_run, in_place=in_place, load=_open_leaving_weights)


def split_file(model, output, at: str, *, layers: list[str] | None = None, force: bool = False,
               dry_run: bool = False, in_place: bool = False, **options) -> SurgeryResult:
    """``mlsurgery split`` as a function: ``mlsurgery.ops.split.split_network`` after blob ``at``, then
    ``make_updatable`` on the head (``layers``, default auto, and ``options`` as make_updatable takes them),
    validate, and write ``output``.

    Without a loss choice, a head whose single output a softmax computes is trained with cross-entropy on it.
    """
    from .ops.split import split_network

    _prover_for(options)

    def split_and_train_head(spec) -> Changes:
        changes = split_network(spec, at, source=str(model), measure=blob_shape_measure())
        if options.get("loss") is None and options.get("loss_input") is None:
            options["loss_input"] = _softmax_output(spec)
        changes.extend(make_updatable(spec, layers or ["auto"], allow_blocked=force, **options))
        return changes

    return run_job(model, split_and_train_head, output, force=force, dry_run=dry_run, in_place=in_place,
                   load=_open_leaving_weights)


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
        outcome.append(fix(spec, only=only, prove=_prove_with_engine))
        return outcome[0].changes

    surgery = run_job(model, rewrite, output, dry_run=dry_run, force=force, in_place=in_place)
    return FixFileResult(outcome[0], surgery)

def train_file(model_path, data, output, *, overrides: dict[str, str] | None = None, validation=None,
               on_batch=None, on_epoch=None, force: bool = False, dry_run: bool = False, in_place: bool = False,
               spec=None):
    """``mlsurgery train`` as a job: check ``output``, load, check the overrides and data, train, validate, save.

    ``overrides`` are ``--set`` values (MLParameterKey → text); ``data`` and ``validation`` are files or folders
    ``mlsurgery.engine.data.load_dataset`` reads; ``on_batch`` / ``on_epoch`` see the progress
    (``mlsurgery.engine.training.train``). ``force`` also writes a run whose loss or weights became NaN.
    ``spec``: the model at ``model_path`` already read by ``open_model`` (an ML Program is not converted twice).
    Returns (TrainResult, SurgeryResult); nothing is written when anything fails before or during training.
    """
    from .engine.errors import require_torch

    require_torch()
    from .engine.data import load_dataset
    from .engine.losses import training_target
    from .engine.training import train
    from .engine.update_parameters import apply_overrides, loss_target, read_parameters, update_parameters

    outcome = []

    def train_spec(spec) -> Changes:
        location, update = update_parameters(spec)
        parameters = apply_overrides(spec, read_parameters(spec), overrides or {})
        target = training_target(location.model, location.kind == "neuralNetworkClassifier", loss_target(update))
        dataset = load_dataset(data, spec, target)
        validation_set = load_dataset(validation, spec, target) if validation is not None else None
        result = train(spec, dataset, parameters, validation=validation_set, on_batch=on_batch, on_epoch=on_epoch,
                       allow_divergence=force)
        spec.CopyFrom(result.spec)
        outcome.append(result)
        changes = Changes("train")
        for name in result.trained:
            layer, weights = name.split(".", 1)
            changes.add(f"layer {layer}", f"{weights} trained")
        return changes

    saved = run_job(model_path, train_spec, output, dry_run=dry_run, force=force, in_place=in_place,
                    load=_already_read(spec))
    return outcome[0], saved


def train_knn_file(model_path, data, output, *, features: dict[str, str] | None = None, force: bool = False,
                   dry_run: bool = False, in_place: bool = False, spec=None):
    """``mlsurgery train`` on a k-NN model (or a pipeline ending in one): store ``data``'s examples
    (``mlsurgery.engine.knn.knn_examples``), validate, write ``output``.

    Returns (KnnTrainResult, SurgeryResult); nothing is written when anything fails.
    """
    from .engine.errors import require_torch

    require_torch()
    from .engine.knn_training import knn_examples, train_knn

    outcome = []

    def store(spec) -> Changes:
        result = train_knn(spec, knn_examples(spec, data, features))
        outcome.append(result)
        changes = Changes("train")
        changes.add("k-NN", f"{result.added} examples stored ({result.examples} in all)")
        return changes

    saved = run_job(model_path, store, output, dry_run=dry_run, force=force, in_place=in_place,
                    load=_already_read(spec))
    return outcome[0], saved


def _already_read(spec) -> Callable[[object], object]:
    """A job's ``load`` for a model the caller has already read (``spec``), else ``open_model``."""
    return open_model if spec is None else (lambda _path: spec)
