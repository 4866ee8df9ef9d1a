"""``evaluate`` and ``predict --data`` as jobs: run a model on a data file and measure it, or write its predictions.

What is compared with what (README, "Measuring a model: evaluate"):

- a classifier (a ``*Classifier`` network, pipeline, k-NN or GLM): its predicted label against DATA's values of
  the predicted label feature (``classLabel``…), with top-k from its class probabilities when it outputs them;
- any other model, output by output: DATA's values named after the output, or after the training target its
  loss compares with that output (an updatable model's ``output_true``). One whole number per example against an
  output of several values is a class index (argmax of the output: a network that ends in a softmax or in
  logits); otherwise the output is a regression and its errors are measured.

DATA is read as ``train`` reads it (``mlsurgery.engine.data``): a folder of class folders, an ``.npz`` or a CSV.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .engine.errors import InputError
from .metrics import ClassificationMetrics, RegressionMetrics, classification_metrics, regression_metrics

# Examples per engine call: large enough to amortise the per-call cost, small enough to bound memory.
BATCH_SIZE = 64

OnProgress = Callable[[int, int], None]  # examples done, examples in all


@dataclass
class OutputEvaluation:
    output: str  # the model output measured
    truth: str  # DATA's key holding the true values
    task: str  # "classification" or "regression"
    metrics: ClassificationMetrics | RegressionMetrics

    def to_dict(self) -> dict:
        return {"output": self.output, "truth": self.truth, "task": self.task, "metrics": self.metrics.to_dict()}


@dataclass
class Evaluation:
    model: str
    data: str
    examples: int
    outputs: list[OutputEvaluation] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"model": self.model, "data": self.data, "examples": self.examples,
                "outputs": [output.to_dict() for output in self.outputs]}

    def classification(self) -> ClassificationMetrics | None:
        """The first classification measured (the training report's confusion matrix)."""
        return next((o.metrics for o in self.outputs if o.task == "classification"), None)


@dataclass
class _Truth:
    output: str
    key: str
    feature: object  # the FeatureDescription DATA's values are read as


# ---- what to read ---------------------------------------------------------------------------------------------

def _predicted_label(spec) -> str | None:
    """The classifier's predicted label output, or None for a model that is not a classifier."""
    name = spec.description.predictedFeatureName
    outputs = {feature.name: feature for feature in spec.description.output}
    if name in outputs and outputs[name].type.WhichOneof("Type") in ("stringType", "int64Type"):
        return name
    return None


def _paired_targets(spec) -> dict[str, object]:
    """Output name → the training input its loss compares it with (an updatable model's ``*_true`` target)."""
    from .network import find_networks

    training = {feature.name: feature for feature in spec.description.trainingInput}
    paired = {}
    for location in find_networks(spec):
        for loss in location.network.updateParams.lossLayers:
            kind = loss.WhichOneof("LossLayerType")
            if kind is None:
                continue
            params = getattr(loss, kind)
            if params.target in training:
                paired[params.input] = training[params.target]
    return paired


def _truths(spec, available: dict | None, source: str = "the data") -> list[_Truth]:
    """The outputs to measure and DATA's key for each; ``available`` is ``_data_keys`` of DATA (None: a folder of
    class folders, whose labels fit any key)."""
    outputs = {feature.name: feature for feature in spec.description.output}
    label = _predicted_label(spec)
    if label is not None:
        return [_Truth(label, label, outputs[label])]
    paired = _paired_targets(spec)
    truths = []
    for name, feature in outputs.items():
        candidates = [(name, feature)] + ([(paired[name].name, paired[name])] if name in paired else [])
        for key, described in candidates:
            if available is None or key in available:
                truths.append(_Truth(name, key, _sized(described, (available or {}).get(key))))
                break
    if not truths:
        wanted = ", ".join(sorted({k for n, f in outputs.items() for k in [n] + ([paired[n].name] if n in paired
                                                                                 else [])}))
        raise InputError(f"{source}: holds no true values for any output; name an array or column after an output "
                         f"({wanted})")
    return truths


def _data_keys(path: Path) -> dict[str, int | None] | None:
    """The arrays of an .npz (→ None) or the columns of a CSV (array columns NAME[i] as NAME → their count); None
    for a folder or a file that cannot be read (reading it for real then reports it in one line)."""
    if path.is_dir():
        return None
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return dict.fromkeys(archive.files)
        if suffix == ".csv":
            with path.open(newline="") as stream:
                header = next(csv.reader(stream), [])
            columns: dict[str, int | None] = {}
            for column in header:
                name = column.split("[", 1)[0]
                columns[name] = (columns.get(name) or 0) + 1
            return columns
    except (OSError, ValueError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile):
        return None  # unreadable: the real read reports the file in one line
    return {}


def _sized(feature, columns: int | None):
    """An output whose shape the model leaves open, read from ``columns`` CSV columns: declared as [columns]."""
    if columns is None or columns < 2 or feature.type.WhichOneof("Type") != "multiArrayType" or \
            len(feature.type.multiArrayType.shape):
        return feature
    sized = type(feature)()
    sized.CopyFrom(feature)
    sized.type.multiArrayType.ClearField("ShapeFlexibility")
    sized.type.multiArrayType.shape.append(columns)
    return sized


def _input_features(spec, model) -> dict[str, object]:
    """The inputs DATA must hold: the declared ones, except that a pipeline stage the engine cannot compute
    (VisionFeaturePrint) takes its output from DATA instead of the image it reads."""
    accepted = model.accepted_inputs()
    declared = {feature.name: feature for feature in spec.description.input}
    opaque_outputs = {name: accepted[name] for name in accepted if name not in declared}
    if not opaque_outputs:
        return declared
    computed = getattr(model, "stages", [])
    read = {name for stage in computed if hasattr(stage, "run") for name in stage.input_features}
    return {**{name: feature for name, feature in declared.items() if name in read}, **opaque_outputs}


# ---- running -------------------------------------------------------------------------------------------------

def _batches(count: int, size: int = BATCH_SIZE):
    for start in range(0, count, size):
        yield np.arange(start, min(count, start + size))


def run_dataset(model, dataset, input_names, on_progress: OnProgress | None = None) -> dict[str, list]:
    """The model's raw outputs (``EngineModel.run_batch``) for every example of ``dataset``, batch by batch."""
    parts: dict[str, list] = {}
    done = 0
    for indices in _batches(dataset.count):
        taken = dataset.take(indices)
        outputs = model.run_batch({name: taken[name] for name in input_names})
        for name, value in outputs.items():
            parts.setdefault(name, []).append(value)
        done += len(indices)
        if on_progress:
            on_progress(done, dataset.count)
    return parts


def _measure(model, spec, truth: _Truth, parts: dict[str, list], dataset, top_k) -> OutputEvaluation:
    from .engine.models import ClassProbabilities

    true_values = dataset.features[truth.key]
    label = _predicted_label(spec)
    if label is not None:
        predicted = [value for part in parts[label] for value in part]
        probabilities = parts.get(spec.description.predictedProbabilitiesName)
        scores, classes = None, None
        if probabilities and isinstance(probabilities[0], ClassProbabilities):
            classes = list(probabilities[0].labels)
            scores = np.concatenate([part.values.detach().numpy() for part in probabilities])
        if classes is None:
            classes = _model_labels(model) or list(dict.fromkeys(predicted))
        metrics = classification_metrics(list(true_values), predicted, classes, scores=scores, top_k=top_k)
        return OutputEvaluation(truth.output, truth.key, "classification", metrics)
    values = np.concatenate([_numeric(part) for part in parts[truth.output]])
    truth_array = np.asarray(true_values, dtype=np.float64).reshape(dataset.count, -1)
    per_example = values.reshape(dataset.count, -1)
    if truth_array.shape[1] == 1 and per_example.shape[1] > 1 and np.all(truth_array == np.round(truth_array)):
        classes = list(range(per_example.shape[1]))
        indices = truth_array[:, 0].astype(np.int64)
        metrics = classification_metrics(indices.tolist(), per_example.argmax(axis=1).tolist(), classes,
                                         scores=per_example, top_k=top_k)
        return OutputEvaluation(truth.output, truth.key, "classification", metrics)
    if truth_array.shape[1] != per_example.shape[1]:
        raise InputError(f"{dataset.source}: {truth.key!r} holds {truth_array.shape[1]} values per example; output "
                         f"{truth.output!r} has {per_example.shape[1]}")
    return OutputEvaluation(truth.output, truth.key, "regression", regression_metrics(truth_array, per_example))


def _numeric(part) -> np.ndarray:
    if hasattr(part, "detach"):
        return part.detach().numpy()
    return np.asarray(part, dtype=np.float64)


def _model_labels(model) -> list | None:
    """The class labels of a classifier runner (a pipeline's last stage's), in its probabilities' order."""
    while hasattr(model, "stages"):
        model = model.stages[-1]
    labels = getattr(model, "class_labels", None) or getattr(model, "labels", None)
    return list(labels) if labels else None


def evaluate_dataset(spec, dataset, *, top_k=(5,), on_progress: OnProgress | None = None,
                     model=None) -> list[OutputEvaluation]:
    """Measure ``spec`` on ``dataset`` (an ``engine.training.Dataset`` holding the model's inputs and true values,
    as ``load_evaluation_data`` reads them)."""
    from .engine.models import build_model

    model = model or build_model(spec)
    inputs = _input_features(spec, model)
    truths = _truths(spec, dict.fromkeys(dataset.features), dataset.source or "the data")
    parts = run_dataset(model, dataset, list(inputs), on_progress)
    return [_measure(model, spec, truth, parts, dataset, top_k) for truth in truths]


def load_evaluation_data(spec, data, model=None):
    """DATA read for ``spec``: its inputs and the true values of the outputs it can be measured on."""
    from .engine.data import load_examples
    from .engine.models import build_model

    model = model or build_model(spec)
    path = Path(data)
    truths = _truths(spec, _data_keys(path), str(path))
    features = {**_input_features(spec, model), **{truth.key: truth.feature for truth in truths}}
    return load_examples(path, features, truths[0].key)


def evaluate_file(model_path, data, *, top_k=(5,), on_progress: OnProgress | None = None) -> Evaluation:
    """``mlsurgery evaluate`` as a function: load the model and DATA, run every example, measure each output."""
    from .engine.models import build_model
    from .io import load_spec

    spec = load_spec(model_path)
    model = build_model(spec)
    dataset = load_evaluation_data(spec, data, model)
    if dataset.count == 0:
        raise InputError(f"{data}: has no examples")
    outputs = evaluate_dataset(spec, dataset, top_k=top_k, on_progress=on_progress, model=model)
    return Evaluation(str(model_path), str(data), dataset.count, outputs)


# ---- predict --data ------------------------------------------------------------------------------------------

PREDICTION_FORMATS = (".csv", ".jsonl")


def predict_data_file(model_path, data, output, *, on_progress: OnProgress | None = None) -> int:
    """``mlsurgery predict --data DATA -o OUT``: one row per example of DATA, written atomically to OUT (.csv or
    .jsonl); returns the number of rows. Class probabilities become one column per class (CSV) or an object."""
    from .engine.data import load_examples
    from .engine.models import build_model
    from .io import check_output_path, load_spec

    output = Path(output)
    if output.suffix.lower() not in PREDICTION_FORMATS:
        raise InputError(f"-o {output}: predictions are written as .csv or .jsonl")
    for source in (model_path, data):
        check_output_path(output, source=source)
    spec = load_spec(model_path)
    model = build_model(spec)
    inputs = _input_features(spec, model)
    label = _predicted_label(spec)
    path = Path(data)
    features = dict(inputs)
    if path.is_dir() and label is not None:  # class folders: the folder names are read (and not written)
        features[label] = {feature.name: feature for feature in spec.description.output}[label]
    dataset = load_examples(path, features, label or "")
    rows = _prediction_rows(run_dataset(model, dataset, list(inputs), on_progress), dataset.count)
    _write_rows(rows, output)
    return len(rows)


def _prediction_rows(parts: dict[str, list], count: int) -> list[dict]:
    from .engine.models import ClassProbabilities

    rows = [{"example": index} for index in range(count)]
    for name, chunks in parts.items():
        index = 0
        for chunk in chunks:
            if isinstance(chunk, ClassProbabilities):
                values = chunk.values.detach().numpy()
                for scores in values:
                    rows[index][name] = {_key(label): float(p) for label, p in zip(chunk.labels, scores)}
                    index += 1
            elif hasattr(chunk, "detach"):
                for value in chunk.detach().numpy():
                    rows[index][name] = value.item() if value.ndim == 0 else value.astype(np.float64).tolist()
                    index += 1
            else:
                for value in chunk:
                    rows[index][name] = value.item() if isinstance(value, np.generic) else value
                    index += 1
    return rows


def _key(label) -> str:
    return str(label.item() if isinstance(label, np.generic) else label)


def _write_rows(rows: list[dict], output: Path) -> None:
    from .io import write_bytes_atomically

    if output.suffix.lower() == ".jsonl":
        text = "".join(json.dumps(row, ensure_ascii=False, allow_nan=True) + "\n" for row in rows)
    else:
        flat = [_flat(row) for row in rows]
        columns = list(dict.fromkeys(column for row in flat for column in row))
        from io import StringIO

        buffer = StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        text = buffer.getvalue()
    write_bytes_atomically(text.encode("utf-8"), output)


def _flat(row: dict) -> dict:
    """CSV columns as ``train`` reads them: NAME for scalars and labels, NAME[i] for arrays, NAME[label] for
    class probabilities."""
    flat = {}
    for name, value in row.items():
        if isinstance(value, dict):
            flat.update({f"{name}[{label}]": p for label, p in value.items()})
        elif isinstance(value, list):
            flat.update({f"{name}[{i}]": v for i, v in enumerate(np.asarray(value).reshape(-1).tolist())})
        else:
            flat[name] = value
    return flat
