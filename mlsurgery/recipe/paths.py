"""Where a recipe may read and write: paths written in a recipe are relative to it, and may point only into the
recipe's folder or the current folder (a recipe from elsewhere cannot reach beyond them); a path given on the
command line (``--set``) is the user's own choice.
"""

from __future__ import annotations

import os
from pathlib import Path


def beside(recipe_path: Path, relative: str) -> Path:
    """A path written in the recipe, resolved against the recipe's folder (``recipes/../out`` shown as ``out``)."""
    return Path(os.path.normpath(recipe_path.parent / relative))


def from_command_line(place: str) -> bool:
    return place.startswith("--set ")


def allowed_folders(recipe_path: Path) -> list[Path]:
    """Where a recipe's own paths may point: the recipe's folder and the current folder, with their subfolders.

    Both were chosen by whoever runs the recipe (by naming the recipe and by standing where they stand), so a
    recipe from elsewhere (a pull request, a download) cannot read or overwrite files beyond them.
    """
    return [recipe_path.parent.resolve(), Path.cwd().resolve()]


def allowed_folders_text(recipe_path: Path) -> str:
    recipe_folder, current = allowed_folders(recipe_path)
    return f"the recipe's folder {recipe_folder} and the current folder {current}, with their subfolders"


def inside_allowed_folders(path: Path, recipe_path: Path) -> bool:
    """Whether ``path``, with ``..`` and symbolic links resolved, lies in a folder of ``allowed_folders``."""
    real = path.resolve()
    return any(real == folder or folder in real.parents for folder in allowed_folders(recipe_path))


def same_path(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()
