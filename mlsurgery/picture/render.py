"""Lay the scene out with Graphviz ``dot`` and write it as SVG or as one self-contained HTML page.

Graphviz places the boxes (one ``dot`` process lays out the main graph and every fold's graph together); the
SVG it writes is then given ``data-*`` attributes (layer name, role, storage, fold) and hover text. The HTML page
embeds that SVG, the folds' SVGs and a small script of its own (``viewer.js``) for hover and opening folds: no
network access, nothing to install in the browser.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from importlib import resources

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


def layout(graphs: list[Graph]) -> list[str]:
    """SVG for each graph, from one ``dot`` run."""
    dot = shutil.which("dot")
    if dot is None:
        raise UsageError("Graphviz's `dot` is not installed; install Graphviz (apt-get install graphviz, "
                         "brew install graphviz) and run again")
    source = "\n".join(dot_source(graph) for graph in graphs)
    done = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace')[:500]}")
    documents = re.split(r"(?=<\?xml )", done.stdout.decode("utf-8"))
    svgs = [_svg_element(document) for document in documents if document.strip()]
    return [_annotate(svg, graph) for svg, graph in zip(svgs, graphs)]


def _svg_element(document: str) -> str:
    """The ``<svg>…</svg>`` element of a document dot wrote (without its XML declaration and doctype)."""
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
