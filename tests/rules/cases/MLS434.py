"""MLS434 tree-structure."""

from rules import model_specs

def _branch(ensemble, node_id: int, false_child: int, true_child: int):
    node = ensemble.nodes.add()
    node.nodeId, node.falseChildNodeId, node.trueChildNodeId = node_id, false_child, true_child
    return node


def bad_node_is_its_own_child():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.nodes[0].falseChildNodeId = 0
    return spec


def bad_node_with_two_parents():
    spec = model_specs.tree_regressor(trees=1)
    _branch(spec.treeEnsembleRegressor.treeEnsemble, 3, 1, 2)
    return spec


def bad_tree_with_two_roots():
    spec = model_specs.tree_regressor(trees=1)
    leaf = spec.treeEnsembleRegressor.treeEnsemble.nodes.add()
    leaf.CopyFrom(spec.treeEnsembleRegressor.treeEnsemble.nodes[1])
    leaf.nodeId = 5
    return spec


def bad_cycle_no_root_reaches():
    spec = model_specs.tree_regressor(trees=1)
    ensemble = spec.treeEnsembleRegressor.treeEnsemble
    _branch(ensemble, 3, 4, 5)
    _branch(ensemble, 4, 3, 6)
    for node_id in (5, 6):
        leaf = ensemble.nodes.add()
        leaf.CopyFrom(ensemble.nodes[1])
        leaf.nodeId = node_id
    return spec


def good_ensemble_without_nodes():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.ClearField("nodes")
    return spec
