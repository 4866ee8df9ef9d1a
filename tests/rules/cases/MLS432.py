"""MLS432 tree-node-ids."""

from rules import model_specs

def bad_duplicated_node():
    spec = model_specs.tree_regressor()
    nodes = spec.treeEnsembleRegressor.treeEnsemble.nodes
    nodes.add().CopyFrom(nodes[1])
    return spec


def bad_child_not_declared():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.nodes[0].trueChildNodeId = 9
    return spec


def good_same_node_ids_in_different_trees():
    return model_specs.tree_regressor(trees=3)
