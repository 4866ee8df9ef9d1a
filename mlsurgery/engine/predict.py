"""``predict`` as a function: a model file, named input values or files, and the outputs as plain data."""

from __future__ import annotations

import numpy as np
import torch

from ..io import load_spec
from .errors import InputError
from .features import random_inputs, read_input_file
from .models import build_model


def parse_assignments(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """``NAME=VALUE`` pairs of a repeated option; the one-line error names the option and the pair."""
    parsed = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise InputError(f"{option} {pair!r}: expected NAME=FILE")
        parsed[name] = value
    return parsed


def predict_file(model_path: str, inputs: dict[str, str], *, features: dict[str, str] | None = None,
                 random: bool = False, seed: int = 0, spec=None) -> dict[str, object]:
    """Outputs of the model at ``model_path`` for one example (``spec``: that model already read, e.g. by
    ``mlsurgery.jobs.open_model``, which converts an ML Program).

    ``inputs`` / ``features`` map names to FILE strings (``.npy``, an image, or JSON); with ``random`` every
    declared input not given is filled with seeded random values of its declared type and shape.
    """
    spec = load_spec(model_path) if spec is None else spec
    model = build_model(spec)
    accepted = model.accepted_inputs()
    given = {**inputs, **(features or {})}
    values = {}
    for name, source in given.items():
        if name not in accepted:
            raise InputError(f"unknown input {name!r}; the model's inputs are {', '.join(accepted)}")
        values[name] = read_input_file(source, accepted[name])
    if random:
        opaque_outputs = set(accepted) - set(model.input_features)
        for name, value in random_inputs(spec, seed)[0].items():
            # An input only an opaque pipeline stage reads is not needed when that stage's output is given.
            if name not in values and not (opaque_outputs and opaque_outputs <= set(values)):
                values[name] = value
    with torch.inference_mode():  # no autograd records, no version counters: inference only
        return model.predict(values)


def jsonable(outputs: dict[str, object]) -> dict[str, object]:
    """Arrays as nested lists, labels as they are, probabilities as a label → probability object."""
    result = {}
    for name, value in outputs.items():
        if isinstance(value, np.ndarray):
            result[name] = value.astype(np.float64).tolist()
        elif isinstance(value, dict):
            result[name] = {str(label): float(p) for label, p in value.items()}
        elif isinstance(value, (np.generic,)):
            result[name] = value.item()
        else:
            result[name] = value
    return result
