"""Validate a spec exactly as Core ML does, collecting every finding in Core ML's check order.

Core ML (mlmodel/src/Model.cpp) validates a model with ``Model::validate``: ``validateGeneric`` (specification
version, model description, then the updatable part and ``validateOptional``), followed by the validator of the
model type; a pipeline validates each stage with ``Model::validate`` again (PipelineValidator.cpp). Core ML stops
at its first failure; ``check_model`` follows the same order but keeps going, so the first error of the report is
the message Core ML gives (``ValidationReport.coreml_first``) and the rest are what the user would meet next.

Coverage: the generic, updatable, optional-feature, pipeline and k-NN checks are ported here; the
neural-network checks come from ``rules.interface``/``rules.network``; every other model type (tree ensembles,
GLMs, SVMs, feature engineering, Create ML models, ...) gets its type-specific validator from
``rules.MODEL_TYPE_CHECKS``. ML Programs and serialized models have none: Core ML accepts them after the
generic checks (an ML Program gets an info finding, MLS510, saying its operations were not checked).
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelLoadError
from .coreml import NETWORK_KINDS, PIPELINE_KINDS
from .io import opened_spec
from .rules import (
    MODEL_TYPE_CHECKS,
    device,
    fixable,
    generic,
    interface,
    knn,
    network,
    pipeline,
    updatable,
)
from .rules.base import Finding, ValidationReport


def validate_spec(spec) -> ValidationReport:
    """All findings for a ``Model`` spec in Core ML's check order.

    Warnings (device-time failures Core ML's validator does not report) follow the checks of the model they
    concern; they never change ``valid``.
    """
    # Checking allocates many short-lived objects and no cycles: the cyclic collector would only walk the heap
    # again and again (a tenth of the time on a 10,000-layer network).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with network.reusing_walks():  # the spec does not change while it is checked: walk each network once
            return ValidationReport(findings=check_model(spec))
    finally:
        if collecting:
            gc.enable()


def validate_file(path: str | os.PathLike) -> ValidationReport:
    """Load and validate one ``.mlmodel``; a file that is not a loadable model raises ``ModelLoadError``.

    Large weight fields stay in the file (validation needs their sizes, not their values), which is closed again
    before returning."""
    with opened_spec(path) as spec:
        return validate_spec(spec)


def check_model(spec, where: str = "") -> list[Finding]:
    """Core ML's ``Model::validate`` for one model (a pipeline stage passes its position as ``where``)."""
    findings = interface.check_model_description(spec, where)
    findings += generic.check_updatable_model(spec, where)
    findings += generic.check_optional(spec, where)
    kind = spec.WhichOneof("Type")
    if kind in NETWORK_KINDS:
        top_level = network.check_network_top_level(spec, where)
        # validate<neuralNetwork> checks that its outputs are produced only after validateNeuralNetworkTopLevel,
        # updatable part included (NeuralNetworkValidator.cpp); network.py reports it with the top level.
        outputs_produced = [f for f in top_level if kind == "neuralNetwork" and f.rule is network.OUTPUT_NOT_PRODUCED]
        findings += [f for f in top_level if f not in outputs_produced]
        # When its shape inference throws, validateNeuralNetworkTopLevel returns a "potentially invalid shapes"
        # result that counts as good, before reaching the updatable checks: Core ML then accepts the model
        # without checking its training setup at all (NeuralNetworkValidator.cpp, Result.cpp).
        shapes_failed = any(finding.rule is network.NETWORK_SHAPES for finding in top_level)
        if spec.isUpdatable and not shapes_failed:
            findings += updatable.check_updatable_network(spec, where)
            findings += updatable.check_training_inputs(spec, where)
        findings += outputs_produced
        if kind == "neuralNetworkClassifier":
            findings += network.check_classifier(spec, where)
        findings += device.check_device(spec, where)
        findings += fixable.check_fixable(spec, where)
    elif kind in PIPELINE_KINDS:
        findings += pipeline.check_pipeline(spec, where, check_model)
    elif kind == "kNearestNeighborsClassifier":
        findings += knn.check_knn(spec, where)
    elif kind == "mlProgram":
        findings += fixable.check_ml_program(spec, where)
    elif kind in MODEL_TYPE_CHECKS:
        findings += MODEL_TYPE_CHECKS[kind](spec, where)
    else:
        findings += generic.check_model_type_set(spec, where)
    return findings


@dataclass(frozen=True)
class FileResult:
    """The outcome for one path: a report, or the one-line reason the file could not be loaded."""

    path: str
    report: ValidationReport | None
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.report is not None and self.report.valid

    def to_dict(self) -> dict:
        """The ``--format json`` object for this file."""
        first = self.report.coreml_first if self.report else None
        return {
            "path": self.path,
            "valid": self.valid,
            "findings": [finding.to_dict() for finding in self.report.findings] if self.report else [],
            "coreml_first": first.to_dict() if first else None,
            "error": self.error,
        }


def validate_paths(paths: list[str]) -> list[FileResult]:
    """Validate each path in turn, a folder (not a package) as every model in it; a file that cannot be loaded is
    recorded, and the others are still checked."""
    results = []
    for given in paths:
        found = model_paths(given)
        if not found:
            results.append(FileResult(str(given), None, f"{given}: no .mlmodel or .mlpackage in this folder (hidden "
                                                        "folders are not searched)"))
        for path in found:
            try:
                results.append(FileResult(path, validate_file(path)))
            except ModelLoadError as error:
                results.append(FileResult(path, None, str(error)))
    return results


def model_paths(path: str | os.PathLike) -> list[str]:
    """``path`` itself, or for a folder that is not an ``.mlpackage``, the ``.mlmodel`` files and ``.mlpackage``
    folders under it in sorted order (not looking inside packages, nor in hidden folders such as .git or .venv)."""
    from .package import is_package

    root = Path(path)
    if not root.is_dir() or is_package(root):
        return [str(path)]
    found = []
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        packages = [name for name in subfolders if is_package(here / name)]
        found += [str(here / name) for name in packages]
        found += [str(here / name) for name in files if name.lower().endswith(".mlmodel")]
        subfolders[:] = [name for name in subfolders if name not in packages and not name.startswith(".")]
    return sorted(found)
