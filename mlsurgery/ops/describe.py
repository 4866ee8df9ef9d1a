"""Human-readable text in a model: training-input descriptions and model metadata (what Xcode shows)."""

from __future__ import annotations

from ..errors import UsageError
from ..network import pipeline_stages, trainable_network
from .changes import Changes


def describe_training_inputs(spec, descriptions: dict[str, str]) -> Changes:
    """Set the ``shortDescription`` of training inputs by name, e.g. ``{"image": "Example image"}``.

    A pipeline lists its training inputs on every model from the top down to the trainable stage (that is how
    ``set_loss`` writes them), so each copy gets the description. Every name must be a training input: they only
    exist once a loss is attached, so this runs after ``set_loss``.
    """
    models = _models_down_to_trainable_network(spec)
    known = [feature.name for feature in models[0].description.trainingInput]
    changes = Changes("training-inputs")
    for name in descriptions:
        if name not in known:
            have = f"its training inputs are {', '.join(known)}" if known else \
                "it has no training inputs yet; attach a loss first, which adds them"
            raise UsageError(f"no training input named {name!r}: {have}")
    for name, text in descriptions.items():
        for model in models:
            for feature in model.description.trainingInput:
                if feature.name == name and feature.shortDescription != text:
                    if model is models[0]:
                        changes.add(f"training input {name}", f"description {feature.shortDescription!r} → {text!r}")
                    feature.shortDescription = text
    return changes


def set_metadata(spec, *, short_description: str | None = None, author: str | None = None,
                 license: str | None = None, version: str | None = None,
                 user_defined: dict[str, str | None] | None = None) -> Changes:
    """Set the model's metadata; ``None`` leaves a field as it is and ``""`` clears it.

    ``user_defined`` entries are added or replaced one by one (the others are kept); an entry whose value is
    ``None`` is removed.
    """
    metadata = spec.description.metadata
    changes = Changes("metadata")
    for field_name, value in (("shortDescription", short_description), ("author", author),
                              ("license", license), ("versionString", version)):
        if value is not None and getattr(metadata, field_name) != value:
            changes.add("metadata", f"{field_name} {getattr(metadata, field_name)!r} → {value!r}")
            setattr(metadata, field_name, value)
    for key, value in (user_defined or {}).items():
        current = metadata.userDefined.get(key)
        if value is None:
            if current is not None:
                del metadata.userDefined[key]
                changes.add("metadata", f"userDefined[{key!r}] removed (was {current!r})")
        elif current != value:
            metadata.userDefined[key] = value
            changes.add("metadata", f"userDefined[{key!r}] {current!r} → {value!r}" if current is not None
                        else f"userDefined[{key!r}] = {value!r}")
    return changes


def _models_down_to_trainable_network(spec) -> list:
    models = [spec]
    for index in trainable_network(spec).stage_path:
        models.append(pipeline_stages(models[-1])[index])
    return models
