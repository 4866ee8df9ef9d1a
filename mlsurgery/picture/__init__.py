"""A picture of a model's network: layers coloured by training role, Core ML's backprop route, folded runs.

``write_picture(spec, path, title)`` writes ``.html`` (self-contained, interactive) or ``.svg`` (static); the
pieces are ``roles`` (what each layer is, from Core ML's walk), ``scene`` (the Graphviz graph) and ``render``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError

FORMATS = {".html": "html", ".htm": "html", ".svg": "svg"}


def render_picture(spec, title: str, picture_format: str) -> str:
    from .render import html_document, svg_document
    from .scene import build_scene

    scene = build_scene(spec, title, fold=picture_format == "html")
    return html_document(scene) if picture_format == "html" else svg_document(scene)


def write_picture(spec, output: str | Path, title: str) -> Path:
    """Render ``spec`` and write it atomically to ``output`` (its suffix, .html or .svg, picks the format)."""
    from ..io import write_bytes_atomically

    path = Path(output)
    picture_format = FORMATS.get(path.suffix.lower())
    if picture_format is None:
        raise UsageError(f"{path}: the picture is written as .html or .svg; give an output path ending in one")
    if not path.parent.exists():
        raise UsageError(f"{path}: folder {path.parent} does not exist")
    write_bytes_atomically(render_picture(spec, title, picture_format).encode("utf-8"), path)
    return path
