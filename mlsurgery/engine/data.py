"""Training data from files: a folder of class folders of images, an ``.npz``, or a CSV (small array inputs)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .dataset import Dataset, refuse_non_finite
from .errors import InputError
from .features import UNREADABLE_FILE_ERRORS, array_shape, feature_kind, image_array

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".webp"}


def training_features(spec) -> dict[str, object]:
    """The training inputs Core ML asks for (``description.trainingInput``)."""
    features = {feature.name: feature for feature in spec.description.trainingInput}
    if not features:
        raise InputError("the model declares no training inputs; make it updatable with make-updatable first")
    return features


def load_dataset(path: str | Path, spec, target: str) -> Dataset:
    """Examples for the model's training inputs from ``path``; ``target`` is the loss's target feature."""
    return load_examples(path, training_features(spec), target)


def load_examples(path: str | Path, features: dict, target: str) -> Dataset:
    """Examples of ``features`` (name → FeatureDescription) from ``path``, laid out as ``train`` reads data."""
    path = Path(path)
    if path.is_dir():
        return _class_folders(path, features, target)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".npz":
        return _npz(path, features)
    if path.suffix.lower() == ".csv":
        return _csv(path, features)
    raise InputError(f"{path}: training data must be a folder of class folders, an .npz or a .csv")


def _class_folders(path: Path, features: dict, target: str) -> Dataset:
    images = [name for name, feature in features.items() if feature_kind(feature) == "imageType"]
    if len(images) != 1 or target not in features:
        raise InputError(f"{path}: a folder of class folders needs a model with one image training input and a "
                         f"label target; this one trains on {', '.join(features)}")
    feature = features[images[0]]
    pixels, labels = [], []
    classes = sorted(child for child in path.iterdir() if child.is_dir() and not child.name.startswith("."))
    for folder in classes:
        for file in sorted(folder.iterdir()):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                pixels.append(image_array(str(file), feature))
                labels.append(folder.name)
    if not pixels:
        raise InputError(f"{path}: no images found in class folders (expected {path}/LABEL/IMAGE.jpg)")
    return Dataset({images[0]: np.stack(pixels), target: _typed_labels(labels, features[target], path)},
                   len(pixels), str(path))


def _typed_labels(labels: list, feature, source) -> list:
    if feature_kind(feature) == "int64Type":
        try:
            return [int(label) for label in labels]
        except ValueError:
            raise InputError(f"{source}: the model's labels are integers; class folder names must be too") from None
    return [str(label) for label in labels]


def _npz(path: Path, features: dict) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except UNREADABLE_FILE_ERRORS as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be read as .npz, it is corrupt or truncated ({message})") from None
    missing = [name for name in features if name not in arrays]
    if missing:
        raise InputError(f"{path}: has no array {missing[0]!r}; it must hold one array per training input "
                         f"({', '.join(features)}), found {', '.join(arrays) or 'none'}")
    counts = {name: len(arrays[name]) for name in features}
    if len(set(counts.values())) != 1:
        raise InputError(f"{path}: arrays have different numbers of examples: {counts}")
    data = {}
    for name, feature in features.items():
        values = arrays[name]
        if values.dtype.kind in "fc":
            refuse_non_finite(values, f"{path}: array {name!r}")
        kind = feature_kind(feature)
        if kind in ("stringType", "int64Type"):
            data[name] = _typed_labels(values.reshape(len(values), -1)[:, 0].tolist(), feature, path)
        elif kind == "imageType":
            data[name] = np.stack([image_array(np.asarray(v), feature) for v in values])
        else:
            data[name] = np.asarray(values, dtype=np.float32)
    return Dataset(data, next(iter(counts.values())), str(path))


def _csv(path: Path, features: dict) -> Dataset:
    """Columns ``NAME`` (labels, scalars) or ``NAME[0]`` … ``NAME[k-1]`` (the k values of an array input)."""
    try:
        with path.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: cannot be read as CSV ({error.__class__.__name__})") from None
    if not rows:
        raise InputError(f"{path}: has no rows")
    short = next((index for index, row in enumerate(rows) if None in row.values() or None in row), None)
    if short is not None:
        raise InputError(f"{path}: example {short} (line {short + 2}) has not as many values as the header has "
                         "columns; the file is truncated or damaged")
    data = {}
    for name, feature in features.items():
        kind = feature_kind(feature)
        try:
            if kind in ("stringType", "int64Type"):
                data[name] = _typed_labels([row[name] for row in rows], feature, path)
            elif kind == "multiArrayType":
                shape = array_shape(feature)
                size = int(np.prod(shape)) if shape else 1
                columns = [name] if size == 1 and name in rows[0] else [f"{name}[{i}]" for i in range(size)]
                values = np.array([[_number(row, column, index, path) for column in columns]
                                   for index, row in enumerate(rows)], dtype=np.float32)
                data[name] = values.reshape(len(rows), *shape) if shape else values
            else:
                raise InputError(f"{path}: a CSV cannot hold {kind} input {name!r}; use an image folder or .npz")
        except KeyError as error:
            raise InputError(f"{path}: has no column {error.args[0]!r} (training input {name!r})") from None
        except ValueError as error:
            raise InputError(f"{path}: a value of {name!r} is not a number ({error})") from None
    return Dataset(data, len(rows), str(path))


def _number(row: dict, column: str, index: int, path: Path) -> float:
    """One CSV cell as a number; NaN or infinity is refused naming the column and the example."""
    text = row[column]
    value = float(text)
    if not np.isfinite(value):
        raise InputError(f"{path}: column {column!r} holds {text.strip()} at example {index}; training on it would "
                         "make every weight NaN — remove or fix that example")
    return value
