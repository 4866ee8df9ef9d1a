"""Reading a recipe: YAML with line numbers, ``--set`` overrides, and one-line errors naming file, line and step.

``load_recipe`` parses the YAML safely (no object-constructing tags) and checks every key, type and argument with
the pydantic models of ``recipe.steps``, and every path against ``recipe.paths``, before any model is read;
``recipe.messages`` words what is wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import UsageError
from .messages import explain, first_error, suggestion, type_name
from .paths import allowed_folders_text, beside, from_command_line, inside_allowed_folders, same_path
from .steps import Arguments, OPERATIONS, RecipeHeader, SAVE


class RecipeError(UsageError):
    """A recipe that cannot run as written; the message starts with ``file:line`` (or the ``--set`` at fault)."""


# --- parsed recipes --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as messages and --set count
    operation: str
    arguments: Arguments
    where: str  # "recipe.yaml:12", or the --set that gave the value at fault

    @property
    def label(self) -> str:
        return f"{self.where}: step {self.number} ({self.operation})"


@dataclass(frozen=True)
class Recipe:
    path: Path
    input: Path
    seed: int | None
    steps: tuple[Step, ...]
    input_where: str
    # Numbers of the save steps whose path was given on the command line (--set steps.N.save.path=...).
    command_line_saves: frozenset[int] = frozenset()


def load_recipe(path: str | os.PathLike, overrides: Sequence[str] = ()) -> Recipe:
    """Parse and check a recipe file (and ``--set`` overrides); raises ``RecipeError`` naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecipeError(f"{path}: cannot be read as a UTF-8 text file ({error})") from None
    data, places = _parse_yaml(text, str(path))
    if data is None:
        raise RecipeError(f"{path}: is empty; a recipe needs 'input' and 'steps'")
    if not isinstance(data, dict):
        raise RecipeError(f"{places.at(())}: a recipe is a mapping with 'input', 'seed' and 'steps', "
                          f"not a {type_name(data)}")
    for override in overrides:
        _apply_override(data, places, override)
    try:
        header = RecipeHeader.model_validate(data)
    except ValidationError as error:
        detail = first_error(error, data)
        raise RecipeError(f"{places.at(detail['loc'], detail['type'])}: "
                          f"{explain(detail, RecipeHeader, 'key')}") from None
    steps = tuple(_check_step(raw, index, places) for index, raw in enumerate(header.steps))
    if header.seed is None:
        random = next((step for step in steps if step.arguments.draws_random_numbers()), None)
        if random is not None:
            raise RecipeError(f"{random.label}: init {random.arguments.init!r} draws random numbers; add "
                              "'seed: N' at the top of the recipe so every run writes the same model")
    command_line_saves = frozenset(step.number for step in steps if step.operation == SAVE and from_command_line(
        places.at(("steps", step.number - 1, SAVE, "path"))))
    recipe = Recipe(path, beside(path, header.input), header.seed, steps, places.at(("input",)), command_line_saves)
    _check_paths(recipe)
    return recipe


def _check_step(raw, index: int, places: _Places) -> Step:
    number, where = index + 1, places.at(("steps", index))
    form = "write each step as 'operation: {arguments}', e.g. '- save: {path: out.mlmodel}'"
    if isinstance(raw, str) and raw in OPERATIONS:
        raise RecipeError(f"{where}: step {number} ({raw}): has no arguments mapping; write '- {raw}: {{}}'")
    if not isinstance(raw, dict) or len(raw) != 1:
        got = f"{len(raw)} keys ({', '.join(map(str, raw))})" if isinstance(raw, dict) else f"a {type_name(raw)}"
        raise RecipeError(f"{where}: step {number}: {form}; got {got}")
    (operation, arguments), = raw.items()
    if operation not in OPERATIONS:
        raise RecipeError(f"{where}: step {number}: unknown operation {operation!r}"
                          f"{suggestion(str(operation), OPERATIONS)}")
    label = f"step {number} ({operation})"
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RecipeError(f"{places.at(('steps', index, operation))}: {label}: arguments must be a mapping "
                          f"of name: value, not a {type_name(arguments)}")
    model = OPERATIONS[operation].arguments
    try:
        parsed = model.model_validate(arguments)
    except ValidationError as error:
        detail = first_error(error, arguments)
        loc = ("steps", index, operation) + tuple(detail["loc"])
        raise RecipeError(f"{places.at(loc, detail['type'])}: {label}: {explain(detail, model, 'argument')}") \
            from None
    return Step(number, operation, parsed, where)


def _check_paths(recipe: Recipe) -> None:
    """Catch, before any work, an input that does not exist and saves that would clobber the input or each other."""
    if not recipe.input.exists():
        raise RecipeError(f"{recipe.input_where}: input {recipe.input}: no such file (paths in a recipe are relative "
                          "to the recipe file)")
    if not from_command_line(recipe.input_where) and not inside_allowed_folders(recipe.input, recipe.path):
        raise RecipeError(f"{recipe.input_where}: input {recipe.input} is outside the folders a recipe may read "
                          f"({allowed_folders_text(recipe.path)}); to use it anyway, give it on the command line: "
                          f"--set input={recipe.input}")
    written: dict[Path, Step] = {}
    for step in recipe.steps:
        if step.operation != SAVE:
            continue
        target = beside(recipe.path, step.arguments.path)
        if same_path(target, recipe.input):
            raise RecipeError(f"{step.label}: {target} is the input model; recipes never overwrite their input, "
                              "save under another name")
        earlier = next((s for p, s in written.items() if same_path(p, target)), None)
        if earlier is not None:
            raise RecipeError(f"{step.label}: {target} is already saved by step {earlier.number}; give each save "
                              "its own path")
        written[target] = step


# --- YAML with line numbers ------------------------------------------------------------------------------------

class _RecipeLoader(yaml.SafeLoader):
    """SafeLoader (no object-constructing tags) that also reads ``1e-8`` as a float, as YAML 1.2 does."""


_RecipeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


class _Places:
    """Where each value of the document came from: ``file:line`` per path of keys and indexes, or a ``--set``."""

    def __init__(self, source: str):
        self.source = source
        self.values: dict[tuple, str] = {}
        self.keys: dict[tuple, str] = {}

    def at(self, loc: Sequence, error_type: str = "") -> str:
        """The place of ``loc``: the key itself for an unknown key, the value (or its nearest parent) otherwise."""
        loc = tuple(loc)
        if error_type == "extra_forbidden" and loc in self.keys:
            return self.keys[loc]
        if error_type == "missing":
            loc = loc[:-1]
        while loc not in self.values and loc:
            loc = loc[:-1]
        return self.values.get(loc, f"{self.source}:1")

    def record(self, node, path: tuple = (), open_nodes: tuple = ()) -> None:
        self.values[path] = f"{self.source}:{node.start_mark.line + 1}"
        if id(node) in open_nodes:  # an alias of an enclosing node: the data is recursive, stop here
            return
        open_nodes += (id(node),)
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # a list or mapping as a key: the constructor rejects it as unhashable
                key = key_node.value
                if key in seen:
                    raise RecipeError(f"{self.source}:{key_node.start_mark.line + 1}: duplicate key {key!r} "
                                      f"(first on line {seen[key]}); YAML would silently keep only the last one")
                seen[key] = key_node.start_mark.line + 1
                self.keys[path + (key,)] = f"{self.source}:{key_node.start_mark.line + 1}"
                self.record(value_node, path + (key,), open_nodes)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.record(item, path + (index,), open_nodes)

    def replace(self, path: tuple, place: str) -> None:
        """Everything at and under ``path`` now comes from ``place`` (a --set)."""
        for table in (self.values, self.keys):
            for loc in [loc for loc in table if loc[:len(path)] == path]:
                del table[loc]
        self.values[path] = self.keys[path] = place


def _parse_yaml(text: str, source: str, numbered: bool = True):
    try:
        # The reader checks the characters as the loader is made: a control character raises here already.
        loader = _RecipeLoader(text)
    except yaml.reader.ReaderError as error:
        raise RecipeError(f"{source}: not valid YAML: character {error.character!r} at offset {error.position} "
                          "is not allowed in YAML; remove it") from None
    try:
        node = loader.get_single_node()
        places = _Places(source)
        if node is None:
            return None, places
        places.record(node)
        # Keys are compared as written; the steps' operation names and argument keys are plain strings.
        return loader.construct_document(node), places
    except yaml.constructor.ConstructorError as error:
        raise RecipeError(f"{_mark(source, error, numbered)}: {_constructor_problem(error)}") from None
    except yaml.MarkedYAMLError as error:
        raise RecipeError(f"{_mark(source, error, numbered)}: not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise RecipeError(f"{source}: not valid YAML: {' '.join(str(error).split())}") from None
    finally:
        loader.dispose()


def _mark(source: str, error: yaml.MarkedYAMLError, numbered: bool) -> str:
    mark = error.problem_mark or error.context_mark
    return f"{source}:{mark.line + 1}" if mark is not None and numbered else source


def _constructor_problem(error: yaml.constructor.ConstructorError) -> str:
    tag = re.search(r"tag '([^']+)'", error.problem or "")
    if tag:
        shown = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        return (f"tag {shown} is not allowed: recipes are plain YAML (mappings, lists, strings, numbers, booleans) "
                "and never construct Python objects")
    return f"not valid YAML: {error.problem}"


# --- --set overrides -------------------------------------------------------------------------------------------

def _apply_override(data: dict, places: _Places, override: str) -> None:
    """``KEY=VALUE`` for a top-level key, or ``steps.N.OPERATION.ARGUMENT=VALUE`` (N counts from 1)."""
    label = f"--set {override}"
    key, equals, text = override.partition("=")
    if not equals or not key:
        raise RecipeError(f"{label}: expected KEY=VALUE, e.g. seed=3 or steps.2.widen.num_classes=12")
    value = _override_value(text, label)
    parts = key.split(".")
    if parts[0] != "steps":
        if len(parts) != 1:
            raise RecipeError(f"{label}: only step arguments have dotted names (steps.N.OPERATION.ARGUMENT)")
        data[key] = value
        places.replace((key,), label)
        return
    steps = data.get("steps")
    if len(parts) != 4 or not parts[1].isdigit():
        raise RecipeError(f"{label}: a step argument is set as steps.N.OPERATION.ARGUMENT=VALUE "
                          "(N counts from 1), e.g. steps.2.widen.num_classes=12")
    number, operation, argument = int(parts[1]), parts[2], parts[3]
    if not isinstance(steps, list) or not 1 <= number <= len(steps):
        count = len(steps) if isinstance(steps, list) else 0
        raise RecipeError(f"{label}: there is no step {number}; the recipe has {count} step(s)")
    step = steps[number - 1]
    actual = next(iter(step), None) if isinstance(step, dict) and len(step) == 1 else None
    if actual != operation:
        raise RecipeError(f"{label}: step {number} is {actual!r}, not {operation!r}; check the step number")
    if step[operation] is None:
        step[operation] = {}
    if not isinstance(step[operation], dict):
        raise RecipeError(f"{label}: step {number} ({operation}) has no arguments mapping to set {argument!r} in")
    step[operation][argument] = value
    places.replace(("steps", number - 1, operation, argument), label)


def _override_value(text: str, label: str):
    """A --set value is read as a YAML value: 12 is a number, [1, 2] a list, 'true' a boolean, anything else text."""
    data, _ = _parse_yaml(text, label, numbered=False) if text.strip() else ("", None)
    return data
