"""Model inputs and outputs as Core ML's FeatureTypes.proto declares them: shapes, images, random values."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import InputError, UnsupportedModelError

GRAYSCALE, RGB, BGR, GRAYSCALE_FLOAT16 = 10, 20, 30, 40


def feature_kind(feature) -> str:
    return feature.type.WhichOneof("Type") or "unset"


def array_shape(feature) -> tuple[int, ...]:
    """The declared (default) shape of a multiArray feature; flexible shapes give their first / smallest."""
    array = feature.type.multiArrayType
    if len(array.shape):
        return tuple(int(d) for d in array.shape)
    flexible = array.WhichOneof("ShapeFlexibility")
    if flexible == "enumeratedShapes" and array.enumeratedShapes.shapes:
        return tuple(int(d) for d in array.enumeratedShapes.shapes[0].shape)
    if flexible == "shapeRange":
        return tuple(max(1, int(r.lowerBound)) for r in array.shapeRange.sizeRanges)
    return ()


def image_size(feature) -> tuple[int, int]:
    """(width, height) of an image feature; flexible sizes give their first / smallest."""
    image = feature.type.imageType
    if image.width and image.height:
        return int(image.width), int(image.height)
    flexible = image.WhichOneof("SizeFlexibility")
    if flexible == "enumeratedSizes" and image.enumeratedSizes.sizes:
        size = image.enumeratedSizes.sizes[0]
        return int(size.width), int(size.height)
    if flexible == "imageSizeRange":
        ranges = image.imageSizeRange
        return max(1, int(ranges.widthRange.lowerBound)), max(1, int(ranges.heightRange.lowerBound))
    return int(image.width), int(image.height)


def image_channels(feature) -> int:
    return 1 if feature.type.imageType.colorSpace in (GRAYSCALE, GRAYSCALE_FLOAT16) else 3


def image_array(value, feature) -> np.ndarray:
    """A PIL image, a path, or an ``[C, H, W]`` / ``[H, W, C]`` array → float32 ``[C, H, W]`` pixels 0–255 in the
    model's channel order (RGB, BGR or gray), resized with pillow to the model's size (bilinear)."""
    if isinstance(value, np.ndarray):
        return _array_image(value, feature)
    from PIL import Image, UnidentifiedImageError

    if isinstance(value, (str, os.PathLike)):
        try:
            with Image.open(value) as opened:
                value = opened.copy()
        except (OSError, UnidentifiedImageError) as error:
            raise InputError(f"{value}: cannot be read as an image for input {feature.name!r} "
                             f"({error.__class__.__name__})") from None
    if not isinstance(value, Image.Image):
        raise InputError(f"input {feature.name!r} is an image: give a PIL image, an image file or an array, "
                         f"not {type(value).__name__}")
    channels = image_channels(feature)
    image = value.convert("L" if channels == 1 else "RGB")
    width, height = image_size(feature)
    if image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    if feature.type.imageType.colorSpace == BGR:
        pixels = pixels[::-1]
    return np.ascontiguousarray(pixels)


def _array_image(value: np.ndarray, feature) -> np.ndarray:
    channels = image_channels(feature)
    width, height = image_size(feature)
    if value.ndim == 2 and channels == 1:
        value = value[None]
    if value.ndim == 3 and value.shape[-1] == channels and value.shape[0] != channels:
        value = value.transpose(2, 0, 1)
    if value.shape != (channels, height, width):
        raise InputError(f"input {feature.name!r}: an image array must be [{channels}, {height}, {width}] in the "
                         f"model's channel order, not {list(value.shape)}")
    return np.asarray(value, dtype=np.float32)


def array_value(value, feature) -> np.ndarray:
    """A multiArray input as float32 of the declared shape (an array of the same size is reshaped to it)."""
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError(f"input {feature.name!r} is a multiArray; {type(value).__name__} is not numeric") from None
    shape = array_shape(feature)
    fixed = bool(len(feature.type.multiArrayType.shape)) and feature.type.multiArrayType.WhichOneof(
        "ShapeFlexibility") is None
    if shape and array.shape != shape:
        if fixed and array.size == int(np.prod(shape)):
            return array.reshape(shape)
        if fixed or array.ndim != len(shape):
            raise InputError(f"input {feature.name!r} must have shape {list(shape)}, not {list(array.shape)}")
    return array


# ---- random inputs -------------------------------------------------------------------------------------------

def random_inputs(spec, seed: int, count: int = 1) -> list[dict]:
    """``count`` seeded input dicts of the spec's declared input types and (default) shapes.

    multiArrays: standard normal (integer arrays and arrays feeding an embedding: valid indices); images: PIL
    images of uniform random pixels; int64 / double / string: small values; dictionaries: three keys.
    """
    rng = np.random.default_rng(seed)
    index_limits = _embedding_index_limits(spec)
    return [{feature.name: _random_value(feature, rng, index_limits.get(feature.name))
             for feature in spec.description.input} for _ in range(count)]


def _random_value(feature, rng: np.random.Generator, index_limit: int | None):
    kind = feature_kind(feature)
    if kind == "multiArrayType":
        shape = array_shape(feature)
        data_type = feature.type.multiArrayType.dataType
        if index_limit is not None or data_type == 131104:  # INT32
            return rng.integers(0, index_limit or 2, size=shape).astype(np.float32)
        return rng.standard_normal(shape).astype(np.float32)
    if kind == "imageType":
        from PIL import Image

        width, height = image_size(feature)
        if image_channels(feature) == 1:
            return Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8), "L")
        return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")
    if kind == "int64Type":
        return int(rng.integers(0, 10))
    if kind == "doubleType":
        return float(rng.standard_normal())
    if kind == "stringType":
        return f"text{int(rng.integers(0, 10))}"
    if kind == "dictionaryType":
        if feature.type.dictionaryType.WhichOneof("KeyType") == "int64KeyType":
            return {int(k): float(rng.standard_normal()) for k in range(3)}
        return {f"key{k}": float(rng.standard_normal()) for k in range(3)}
    raise UnsupportedModelError(f"input {feature.name!r} has feature type {kind!r}, which random inputs cannot "
                                "produce")


def _embedding_index_limits(spec) -> dict[str, int]:
    """Inputs read directly by an embedding layer, with the vocabulary size their values must stay under."""
    from ..network import find_networks

    limits: dict[str, int] = {}
    inputs = {feature.name for feature in spec.description.input}
    for location in find_networks(spec):
        for layer in location.network.layers:
            kind = layer.WhichOneof("layer")
            if kind in ("embedding", "embeddingND"):
                params = getattr(layer, kind)
                size = int(params.inputDim if kind == "embedding" else params.vocabSize)
                for name in layer.input:
                    if name in inputs:
                        limits[name] = min(size, limits.get(name, size))
    return limits


def read_input_file(path: str, feature):
    """A ``--input NAME=FILE`` value: ``.npy`` array, image file, or a JSON literal (for other types)."""
    import json

    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: cannot be read as a .npy array ({error})") from None
    if feature is not None and feature_kind(feature) == "imageType":
        return path
    if Path(path).is_file():
        try:
            return json.loads(Path(path).read_text())
        except (OSError, ValueError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: is neither .npy, an image nor JSON ({error.__class__.__name__})") from None
    try:
        return json.loads(path)
    except ValueError:
        if feature is not None and feature_kind(feature) == "stringType":
            return path
        raise InputError(f"{path}: no such file, and not a JSON literal") from None
