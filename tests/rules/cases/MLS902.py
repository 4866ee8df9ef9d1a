"""MLS902 frozen-inner-product-feeds-loss."""

from rules import specs


def _mse_behind_second_layer(second_updatable: bool):
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True, layers=2)
    network.layers[1].isUpdatable = second_updatable
    specs.add_mean_squared_error(model, network, "mse", "B", "B_true")
    specs.add_sgd_defaults(network)
    return model


def bad_frozen_last_inner_product():
    return _mse_behind_second_layer(False)


def good_last_inner_product_updatable():
    return _mse_behind_second_layer(True)
