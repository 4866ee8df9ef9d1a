"""MLS431 tree-node-behavior."""

from rules import model_specs

def bad_unknown_node_behavior():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.nodes[0].nodeBehavior = 7
    return spec


def bad_unknown_behavior_hides_other_errors():
    spec = model_specs.tree_regressor()
    nodes = spec.treeEnsembleRegressor.treeEnsemble.nodes
    nodes[1].ClearField("evaluationInfo")
    nodes[2].nodeBehavior = 99
    return spec


def good_every_branch_comparison():
    spec = model_specs.tree_regressor(trees=6)
    for tree, behavior in enumerate(range(6)):
        spec.treeEnsembleRegressor.treeEnsemble.nodes[3 * tree].nodeBehavior = behavior
    return spec
