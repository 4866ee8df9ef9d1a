"""Lay the scene out with Graphviz's dot algorithm and write it as SVG or as one self-contained HTML page.

The layout engine is ``graphviz-pure`` (a PyPI wheel for Linux, macOS and Windows holding a self-contained port of
Graphviz's ``dot`` program), so ``pip install`` brings everything and no system Graphviz is needed or used. One
process lays out the main graph and every fold's graph together (one input file each); the SVG it writes is then
given ``data-*`` attributes (layer name, role, storage, fold) and hover text. The HTML page embeds that SVG, the
folds' SVGs and a small script of its own (``viewer.js``) for hover and opening folds: no network access, nothing
to install in the browser.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib import resources
from pathlib import Path

from ..errors import UsageError
from .scene import ROLE_STYLE, ROUTE_COLOUR, Graph, Node, Scene, escape

_GRAPH_ATTRIBUTES = ('rankdir=TB; nodesep=0.22; ranksep=0.32; bgcolor="transparent"; '
                     'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, margin="0.12,0.05"]; '
                     'edge [color="#90a4ae", arrowsize=0.6, fontname="Helvetica"];')


def dot_source(graph: Graph) -> str:
    lines = [f'digraph "{graph.name}" {{', _GRAPH_ATTRIBUTES]
    for node in graph.nodes:
        lines.append(_node_line(node))
    for cluster_id, label, nodes in graph.clusters:
        lines.append(f'subgraph "{cluster_id}" {{ label=<<b>{escape(label)}</b>>; fontname="Helvetica"; '
                     'fontsize=11; style="rounded,dashed"; color="#78909c"; margin=12;')
        lines.extend(_node_line(node) for node in nodes)
        lines.append("}")
    for source, target, attributes in graph.edges:
        lines.append(f'"{source}" -> "{target}" [{_attributes(attributes)}];')
    lines.append("}")
    return "\n".join(lines)


def _node_line(node: Node) -> str:
    return f'"{node.id}" [id="{node.id}", label=<{node.label}>, {_attributes(node.attributes)}];'


def _attributes(attributes: dict[str, str]) -> str:
    return ", ".join(f'{key}="{_quoted(value)}"' for key, value in attributes.items())


def _quoted(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


# The program the graphviz-pure wheel installs beside the interpreter (bin/ or Scripts\\).
_ENGINE = "graphviz-pure" + (".exe" if os.name == "nt" else "")


def layout_program() -> str:
    """The graphviz-pure program of this Python environment (found even when the environment is not activated),
    else the one on PATH."""
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    if sys.flags.no_user_site == 0:
        folders.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    for folder in folders:
        candidate = Path(folder) / _ENGINE
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(_ENGINE)
    if found is None:
        raise UsageError("the layout engine graphviz-pure is not installed in this Python environment; "
                         "run: pip install 'graphviz-pure>=0.2.2,<0.3' (or reinstall mlsurgery)")
    return found


def layout(graphs: list[Graph]) -> list[str]:
    """SVG for each graph, from one graphviz-pure run (it writes one SVG document per input file, in order)."""
    program = layout_program()
    with tempfile.TemporaryDirectory(prefix="mlsurgery-graph-") as folder:
        sources = []
        for number, graph in enumerate(graphs):
            source = Path(folder) / f"{number}.gv"
            source.write_text(dot_source(graph), encoding="utf-8")
            sources.append(str(source))
        # -q: the port warns about glyph widths of non-ASCII characters (×, …) it estimates; the text is right.
        done = subprocess.run([program, "-q", "-Tsvg", *sources], capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"graphviz-pure failed: {done.stderr.decode('utf-8', 'replace')[:500]}")
    documents = re.split(r"(?=<\?xml )", done.stdout.decode("utf-8"))
    svgs = [_svg_element(document) for document in documents if document.strip()]
    if len(svgs) != len(graphs):
        raise RuntimeError(f"graphviz-pure wrote {len(svgs)} SVG documents for {len(graphs)} graphs")
    return [_annotate(svg, graph) for svg, graph in zip(svgs, graphs)]


def _svg_element(document: str) -> str:
    """The ``<svg>…</svg>`` element of a document the layout engine wrote (no XML declaration, no doctype)."""
    return document[document.index("<svg"):document.rindex("</svg>") + len("</svg>")]


def _annotate(svg: str, graph: Graph) -> str:
    """Put each node's data attributes on its SVG group and its hover text in its ``<title>``."""
    nodes = {node.id: node for node in graph.all_nodes()}

    def group(match: re.Match) -> str:
        node = nodes.get(html.unescape(match.group(2)))
        if node is None:
            return match.group(0)
        data = "".join(f' data-{key}="{html.escape(value, quote=True)}"' for key, value in node.data.items())
        return f"{match.group(1)}{data}>\n<title>{html.escape(node.tooltip, quote=False)}</title>"

    return re.sub(r'(<g id="([^"]+)" class="[^"]*\bnode\b[^"]*")>\s*<title>[^<]*</title>', group, svg)


def svg_document(scene: Scene) -> str:
    """A standalone SVG with a legend in a comment; hover (the ``<title>``) shows each layer's parameters."""
    (svg,) = layout([scene.main])
    legend = ", ".join(f"{text} ({fill})" for fill, _, text in ROLE_STYLE.values())
    header = f"<!-- {escape(scene.title)}: {escape(scene.summary)}. Colours: {legend}; orange edges: " \
             f"Core ML's backprop route from the loss. -->\n"
    return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + header + svg + "\n"


def html_document(scene: Scene) -> str:
    """One self-contained page: the folded network, each fold's layers (opened on click), hover details."""
    fold_ids = list(scene.folds)
    svgs = layout([scene.main] + [scene.folds[fold_id][1] for fold_id in fold_ids])
    main_svg, fold_svgs = svgs[0], svgs[1:]
    folds_html = "\n".join(
        f'<section class="fold-interior" data-fold-interior="{html.escape(fold_id)}" hidden>'
        f"<h2>{html.escape(scene.folds[fold_id][0])}</h2>{svg}</section>"
        for fold_id, svg in zip(fold_ids, fold_svgs))
    legend = "".join(f'<span class="chip" style="background:{fill};border-color:{border}">{html.escape(text)}</span>'
                     for fill, border, text in ROLE_STYLE.values())
    legend += (f'<span class="chip route" style="border-color:{ROUTE_COLOUR}">backprop route from the loss</span>'
               '<span class="chip" style="background:#eceff1;border-color:#607d8b">▸ folded frozen layers '
               "(click)</span>")
    values = {
        "title": html.escape(scene.title), "summary": html.escape(scene.summary), "legend": legend,
        "graph": main_svg, "folds": folds_html, "css": _asset("viewer.css"), "js": _asset("viewer.js"),
        "counts": html.escape(json.dumps(_role_counts(scene))),
    }
    return re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], _asset("viewer.html"))


def _role_counts(scene: Scene) -> dict[str, int]:
    counts: dict[str, int] = {}
    nodes = scene.main.all_nodes() + [node for _, fold in scene.folds.values() for node in fold.nodes]
    for node in nodes:
        if "layer" in node.data:
            counts[node.data["role"]] = counts.get(node.data["role"], 0) + 1
    return counts


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")
