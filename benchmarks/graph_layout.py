"""Layout engines for `mlsurgery graph` measured side by side on the 757-layer pose model (issue 17).

    python benchmarks/graph_layout.py [--repeat 3] [--model PATH]

The candidates that `pip install` can bring on Linux, macOS and Windows without a system Graphviz:
- graphviz-pure (what mlsurgery uses): Graphviz's dot ported to one program per wheel; input is the dot source
  mlsurgery already writes, output the finished SVG (boxes, HTML-like labels, spline edges, clusters, xlabels);
- grandalf (pure-Python Sugiyama) and igraph's ``layout_sugiyama`` (C): they return coordinates only, so the
  time shown is the layout alone, before any SVG, edge routing, label measuring or cluster drawing that
  mlsurgery would then have to write itself. Each is measured only when installed
  (``pip install grandalf igraph``); the report is benchmarks/graph_layout.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = ROOT / "fixtures" / "third_party" / "pose_cpm_757_layers.mlmodel"


def _fastest(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    from mlsurgery.io import load_spec
    from mlsurgery.picture.render import layout
    from mlsurgery.picture.scene import build_scene

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=MODEL)
    options = parser.parse_args()
    spec = load_spec(options.model)
    unfolded = build_scene(spec, options.model.name, fold=False)
    page = build_scene(spec, options.model.name, fold=True)
    page_graphs = [page.main] + [graph for _, graph in page.folds.values()]
    nodes = [node.id for node in unfolded.main.all_nodes()]
    edges = [(source, target) for source, target, _ in unfolded.main.edges]
    print(f"{options.model.name}: {len(nodes)} boxes and {len(edges)} edges unfolded (the SVG); the page: "
          f"{len(page_graphs)} graphs. Fastest of {options.repeat}.")
    rows = [("graphviz-pure: the SVG, all boxes unfolded (layout + finished SVG)",
             _fastest(lambda: layout([unfolded.main]), options.repeat)),
            ("graphviz-pure: the page, main graph + every fold (layout + finished SVGs)",
             _fastest(lambda: layout(page_graphs), options.repeat))]
    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout

        class _Box:  # grandalf reads each vertex's size from its view
            w, h = 140, 48

        def grandalf_layout():
            vertices = {node: Vertex(node) for node in nodes}
            for vertex in vertices.values():
                vertex.view = _Box()
            graph = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in edges])
            for component in graph.C:
                sugiyama = SugiyamaLayout(component)
                sugiyama.init_all()
                sugiyama.draw(2)

        rows.append(("grandalf Sugiyama, unfolded (coordinates only)", _fastest(grandalf_layout, options.repeat)))
    except ImportError:
        rows.append(("grandalf Sugiyama (not installed)", float("nan")))
    try:
        import igraph

        def igraph_layout():
            graph = igraph.Graph(directed=True)
            graph.add_vertices(nodes)
            graph.add_edges(edges)
            graph.layout_sugiyama()

        rows.append(("igraph layout_sugiyama, unfolded (coordinates only, equal-size points)",
                     _fastest(igraph_layout, options.repeat)))
    except ImportError:
        rows.append(("igraph layout_sugiyama (not installed)", float("nan")))
    for name, seconds in rows:
        print(f"  {name:78s} {seconds:6.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
