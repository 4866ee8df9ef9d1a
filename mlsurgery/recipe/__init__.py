"""YAML recipes: a surgery script as reviewable data, checked before it runs and reproducible to the byte.

A recipe names the model to start from, an optional ``seed`` and a list of ``steps``; each step is a one-key
mapping ``operation: {arguments}`` whose argument names are the keyword names of the Python function the
operation calls (``recipe.steps.OPERATIONS`` is the complete, explicit list)::

    input: ../fixtures/turi_squeezenet.mlmodel   # relative to this file
    seed: 42                                     # numpy.random.default_rng(42), shared by every random step
    steps:
      - widen: {layer: fullyconnected0, num_classes: 10}
      - make-updatable: {layers: [fullyconnected0]}
      - save: {path: ../out/HandsTuri.mlmodel}

``load_recipe`` parses the YAML safely (no object-constructing tags) and checks every key, type and argument
with pydantic before any model is read; a problem is one line naming the file, line and step. ``plan_recipe``
then runs the steps on an in-memory copy of the input, validating the model at every ``save``; ``apply_recipe``
writes the saved models only once every step has succeeded, so a failing recipe writes nothing. Random steps
draw from one generator seeded by ``seed``, in step order, so the same recipe gives byte-identical files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..jobs import load_network_spec, save_if_valid
from ..errors import InvalidModelError, MLSurgeryError
from ..io import save_spec
from ..ops.changes import Changes
from .parse import Recipe, RecipeError, Step, load_recipe
from .paths import allowed_folders_text, beside, inside_allowed_folders, same_path
from .steps import OPERATIONS, RecipeHeader, SAVE

__all__ = ["OPERATIONS", "Recipe", "RecipeError", "Step", "apply_recipe", "load_recipe", "plan_recipe",
           "recipe_json_schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


# --- running ---------------------------------------------------------------------------------------------------

@dataclass
class SavedModel:
    path: Path
    report: object  # mlsurgery.rules.base.ValidationReport
    spec: object  # the model as it is at this save (a copy: later steps keep changing the working spec)
    written: bool = False


@dataclass
class StepOutcome:
    step: Step
    changes: Changes | None  # None for a save
    saved: SavedModel | None = None


def plan_recipe(recipe: Recipe, *, output_dir: str | os.PathLike | None = None) -> list[StepOutcome]:
    """Run every step on an in-memory model, validating it at each save; nothing is written.

    ``output_dir`` puts every saved file into that folder under its own file name instead of the recipe's folder.
    Raises the operation's error prefixed with the step's place; ``InvalidModelError`` (exit 1) when a save would
    write a model Core ML rejects.
    """
    targets = _save_targets(recipe, output_dir)
    try:
        spec = load_network_spec(recipe.input, allow_glm_head=True)
    except MLSurgeryError as error:
        raise type(error)(f"{recipe.input_where}: {error}") from None
    rng = np.random.default_rng(recipe.seed) if recipe.seed is not None else None
    outcomes = []
    for step in recipe.steps:
        try:
            if step.operation == SAVE:
                target = targets[step.number]
                result = save_if_valid(spec, target, source=recipe.input, changes=Changes(SAVE),
                                       force=step.arguments.force, dry_run=True)
                snapshot = type(spec)()
                snapshot.CopyFrom(spec)
                outcomes.append(StepOutcome(step, None, SavedModel(target, result.report, snapshot)))
            else:
                outcomes.append(StepOutcome(step, OPERATIONS[step.operation].run(spec, step.arguments, rng)))
        except InvalidModelError as error:
            raise InvalidModelError(f"{step.label}: {error}", error.report) from None
        except MLSurgeryError as error:
            raise type(error)(f"{step.label}: {error}") from None
    return outcomes


def apply_recipe(recipe: Recipe, *, dry_run: bool = False,
                 output_dir: str | os.PathLike | None = None) -> list[StepOutcome]:
    """``plan_recipe``, then (unless ``dry_run``) write every saved model; a failing recipe writes nothing."""
    outcomes = plan_recipe(recipe, output_dir=output_dir)
    if dry_run:
        return outcomes
    for outcome in outcomes:
        if outcome.saved is not None:
            outcome.saved.path.parent.mkdir(parents=True, exist_ok=True)
            save_spec(outcome.saved.spec, outcome.saved.path, source=recipe.input)
            outcome.saved.written = True
    return outcomes


def _save_targets(recipe: Recipe, output_dir) -> dict[int, Path]:
    """Where each save step writes, checked so that the writing phase cannot fail half-way on a bad path."""
    targets: dict[int, Path] = {}
    for step in recipe.steps:
        if step.operation != SAVE:
            continue
        target = beside(recipe.path, step.arguments.path)
        if output_dir is not None:
            target = Path(output_dir) / target.name
            clash = next((n for n, p in targets.items() if p.name == target.name), None)
            if clash is not None:
                raise RecipeError(f"--output-dir {output_dir}: steps {clash} and {step.number} both save "
                                  f"{target.name}; give the saves different file names")
            if same_path(target, recipe.input):
                raise RecipeError(f"--output-dir {output_dir}: step {step.number} would overwrite the input model "
                                  f"{recipe.input}; choose another folder")
        elif step.number not in recipe.command_line_saves and not inside_allowed_folders(target, recipe.path):
            raise RecipeError(f"{step.label}: {target} is outside the folders a recipe may write "
                              f"({allowed_folders_text(recipe.path)}); to write there anyway, say so on the command "
                              f"line: --output-dir DIR or --set steps.{step.number}.save.path={target}")
        if target.is_dir():
            raise RecipeError(f"{step.label}: {target} is a folder; give the path of the .mlmodel file to write")
        targets[step.number] = target
    return targets


# --- JSON Schema -----------------------------------------------------------------------------------------------

def recipe_json_schema() -> dict:
    """A JSON Schema of the recipe format, built from the pydantic models, for editor completion."""
    schema = {"$schema": JSON_SCHEMA_DIALECT, **RecipeHeader.model_json_schema()}
    definitions = schema.setdefault("$defs", {})
    alternatives = []
    for name, operation in OPERATIONS.items():
        model = operation.arguments
        arguments = model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(arguments.pop("$defs", {}))
        definitions[model.__name__] = arguments
        reference = {"$ref": f"#/$defs/{model.__name__}"}
        if not arguments.get("required"):
            reference = {"anyOf": [reference, {"type": "null"}]}
        alternatives.append({"type": "object", "title": name, "description": operation.summary,
                             "properties": {name: reference}, "required": [name], "additionalProperties": False})
    steps = schema["properties"]["steps"]
    steps["items"] = {"oneOf": alternatives}
    return schema
