"""Training a k-nearest-neighbours classifier as Core ML's update task does: every example is stored (its feature
vector and label) — no epochs, no loss. ``train_knn`` runs the stages before the k-NN on each example to get its
feature vector; ``knn_examples`` reads them from data laid out as ``train`` reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from .dataset import refuse_non_finite
from .errors import InputError
from .features import read_npy
from .knn import knn_stage
from .models import build_model


@dataclass
class KnnTrainResult:
    spec: object
    added: int
    examples: int  # stored after training


def train_knn(spec, examples: Iterable[tuple[dict[str, object], object]], *, batch_size: int = 16) -> KnnTrainResult:
    """Store each ``(inputs, label)`` example in ``spec``'s k-NN (in place), as Core ML's update task does.

    ``inputs`` are what ``EngineModel.predict`` takes for the whole model (images, arrays, or the outputs of an
    opaque stage such as a VisionFeaturePrint); the stages before the k-NN compute its feature vector.
    """
    knn_model = knn_stage(spec)
    knn = knn_model.kNearestNeighborsClassifier
    feature_name = knn_model.description.input[0].name
    front = build_model(spec) if knn_model is not spec else None
    int_labels = knn.WhichOneof("ClassLabels") == "int64ClassLabels" or (
        knn.WhichOneof("ClassLabels") is None and knn.WhichOneof("DefaultClassLabel") == "defaultInt64Label")
    dimensions = knn.nearestNeighborsIndex.numberOfDimensions
    added = 0
    for inputs, label in examples:
        vector = _feature_vector(front, inputs, feature_name)
        if vector.size != dimensions:
            raise InputError(f"an example gives {vector.size} feature values; the k-NN has {dimensions} dimensions")
        knn.nearestNeighborsIndex.floatSamples.add().vector.extend(vector.astype(np.float32).tolist())
        if int_labels:
            try:
                knn.int64ClassLabels.vector.append(int(label))
            except ValueError:
                raise InputError(f"label {label!r} is not an integer, but the k-NN's labels are Int64") from None
        else:
            knn.stringClassLabels.vector.append(str(label))
        added += 1
    return KnnTrainResult(spec, added, len(knn.nearestNeighborsIndex.floatSamples))


def _feature_vector(front, inputs: dict[str, object], feature_name: str) -> np.ndarray:
    if front is None or feature_name in inputs:
        value = inputs.get(feature_name)
        if value is None:
            raise InputError(f"an example lacks the k-NN's input {feature_name!r}")
        return np.asarray(value, dtype=np.float64).reshape(-1)
    features = {name: front._one(name, value) for name, value in front._checked(inputs).items()}
    with torch.no_grad():
        values = _run_until(front, features, feature_name)
    return values.reshape(-1).double().numpy()


def _run_until(pipeline, features: dict, feature_name: str) -> torch.Tensor:
    """Run the pipeline's stages until one produces ``feature_name`` (the k-NN's input)."""
    values = dict(features)
    for stage in pipeline.stages:
        if feature_name in values:
            break
        if not hasattr(stage, "run"):  # an opaque stage: its outputs were given as inputs
            continue
        values.update(stage.run({name: values[name] for name in stage.input_features if name in values}, 1))
    if feature_name not in values:
        raise InputError(f"no stage computed the k-NN's input {feature_name!r}; give it with --features")
    return values[feature_name]


def knn_examples(spec, data, features: dict[str, str] | None = None) -> list[tuple[dict[str, object], object]]:
    """``(inputs, label)`` examples for ``spec``'s k-NN from ``data``, laid out as ``train`` reads data.

    ``data`` is a folder of class folders of images, an ``.npz`` or a ``.csv`` with the model's training inputs
    (``mlsurgery.engine.data.load_dataset``). When a stage the engine cannot compute (a VisionFeaturePrint) comes
    before the k-NN, its output is given instead: ``features`` maps the k-NN's input to an ``.npy`` of one feature
    vector per example, in the order ``data`` lists them (class folders by name, files by name), or ``data`` itself
    holds the k-NN stage's training inputs (its input feature and the label).
    """
    from .data import load_dataset

    knn_model = knn_stage(spec)
    target = knn_model.description.trainingInput[-1].name if len(knn_model.description.trainingInput) else \
        knn_model.description.predictedFeatureName
    feature_name = knn_model.description.input[0].name
    if features:
        unknown = [name for name in features if name != feature_name]
        if unknown:
            raise InputError(f"--features {unknown[0]}: the k-NN reads {feature_name!r}; give "
                             f"--features {feature_name}=FILE.npy")
        vectors = _npy(features[feature_name])
        labels = _folder_labels(data, knn_model, target)
        if len(vectors) != len(labels):
            raise InputError(f"{features[feature_name]}: holds {len(vectors)} feature vectors for {len(labels)} "
                             f"examples in {data}")
        return [({feature_name: vector}, label) for vector, label in zip(vectors, labels)]
    try:
        dataset = load_dataset(data, spec, target)
    except InputError:
        if knn_model is spec:
            raise
        dataset = load_dataset(data, knn_model, target)
    names = [name for name in dataset.features if name != target]
    return [({name: dataset.features[name][i] for name in names}, dataset.features[target][i])
            for i in range(dataset.count)]


def _npy(path: str) -> np.ndarray:
    values = read_npy(path)
    if values.dtype.kind in "fc":
        refuse_non_finite(values, f"{path}: array")
    return values.reshape(len(values), -1) if values.ndim else values.reshape(1, -1)


def _folder_labels(data, knn_model, target: str) -> list:
    """The labels of a folder of class folders, one per file, in the order ``train`` reads them."""
    from pathlib import Path

    from .data import IMAGE_SUFFIXES

    folder = Path(data)
    if not folder.is_dir():
        raise InputError(f"{data}: with --features, DATA is the folder of class folders that gives the labels")
    labels = [child.name for child in sorted(folder.iterdir()) if child.is_dir() and not child.name.startswith(".")
              for file in sorted(child.iterdir())
              if file.suffix.lower() in IMAGE_SUFFIXES or file.suffix.lower() == ".npy"]
    if not labels:
        raise InputError(f"{data}: no examples found in class folders (expected {data}/LABEL/FILE)")
    label_type = next((f for f in knn_model.description.output if f.name == target), None)
    if label_type is not None and label_type.type.WhichOneof("Type") == "int64Type":
        try:
            return [int(label) for label in labels]
        except ValueError:
            raise InputError(f"{data}: the model's labels are integers; class folder names must be too") from None
    return labels
