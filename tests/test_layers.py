"""The package's layers (pyproject.toml, [tool.importlinter]) hold, and no module imports itself in a circle.

Both look at every import statement, including the lazy ones inside functions.
"""

from __future__ import annotations

from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent

# Import cycles that live in sibling branches' files, each removed when that branch lands (see pyproject.toml's
# ignore_imports): (importer, imported) edges left out of the cycle search.
KNOWN_CYCLE_EDGES = {
    ("mlsurgery.engine.data", "mlsurgery.engine.training"),  # removed when branch guards lands
    ("mlsurgery.engine.training", "mlsurgery.jobs"),  # removed when branch guards lands
    ("mlsurgery.ops.rewrites.loss_input", "mlsurgery.ops.loss"),  # removed when branch edits lands
}


def test_the_layers_contract_holds(monkeypatch):
    monkeypatch.chdir(ROOT)  # lint-imports reads ./pyproject.toml and imports mlsurgery from here
    monkeypatch.syspath_prepend(str(ROOT))
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0, \
        "an import breaks the layers contract: see the output above, or run lint-imports"


def test_no_module_imports_itself_through_others(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    graph = grimp.build_graph("mlsurgery", cache_dir=None)
    for importer, imported in KNOWN_CYCLE_EDGES:
        if graph.direct_import_exists(importer=importer, imported=imported):
            graph.remove_import(importer=importer, imported=imported)
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_lazy_imports_inside_functions_are_in_the_graph(monkeypatch):
    """Both checks would miss upward or circular imports hidden in functions if the graph left them out."""
    monkeypatch.syspath_prepend(str(ROOT))
    graph = grimp.build_graph("mlsurgery", cache_dir=None)
    # cli/predict.py imports the engine only inside the command, so that --help does not load PyTorch.
    assert graph.direct_import_exists(importer="mlsurgery.cli.predict", imported="mlsurgery.engine.predict")
