"""The smallest reader of an ``.mlpackage`` the ``convert`` command needs: the root spec and its weights folder.

The full reader (refusals of corrupt packages, weight checks) belongs to ``mlsurgery.io``; this one only follows
``Manifest.json`` to the root model, as Core ML's ``ModelPackage`` does, and refuses what it cannot read.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ModelLoadError


def read_package(path) -> tuple[object, Path | None]:
    """The root ``Model`` spec of package ``path`` and its ``weights`` folder (``None`` when it has none)."""
    from ..io import parse_spec

    package = Path(path)
    manifest_file = package / "Manifest.json"
    if not package.is_dir():
        raise ModelLoadError(f"{package}: no such .mlpackage folder")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        entry = manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]
        relative = Path(entry["path"])
    except OSError:
        raise ModelLoadError(f"{manifest_file}: missing or unreadable; an .mlpackage needs its Manifest.json") from None
    except (ValueError, KeyError, TypeError):
        raise ModelLoadError(f"{manifest_file}: does not name a root model (rootModelIdentifier → itemInfoEntries "
                             "path); re-save the package with coremltools") from None
    if relative.is_absolute() or ".." in relative.parts:
        raise ModelLoadError(f"{manifest_file}: root model path {str(relative)!r} leaves the package's Data folder")
    spec_file = package / "Data" / relative
    try:
        data = spec_file.read_bytes()
    except OSError:
        raise ModelLoadError(f"{spec_file}: missing or unreadable; the package's manifest names it as its model") \
            from None
    spec = parse_spec(data, source=str(spec_file))
    weights = spec_file.parent / "weights"
    return spec, weights if weights.is_dir() else None


def load_and_convert(path, *, keep_fp16: bool = False):
    """``path`` (an ``.mlpackage``, or an ``.mlmodel`` holding an ML Program without external weights) read and
    converted: a ``mlsurgery.mlprogram.convert.Conversion``."""
    from ..io import load_spec
    from .convert import to_neural_network

    path = Path(path)
    if path.is_dir():
        spec, weights = read_package(path)
    else:
        spec, weights = load_spec(path), None
    return to_neural_network(spec, weights, source=str(path), keep_fp16=keep_fp16)
