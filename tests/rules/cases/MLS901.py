"""MLS901 lstm-before-updatable-layer."""

from rules import specs


def bad_lstm_feeds_the_updatable_dense_layer():
    return specs.lstm_then_updatable_dense()


def bad_updatable_lstm():
    return specs.lstm_then_updatable_dense(lstm_updatable=True)


def good_no_lstm():
    return specs.valid_updatable_network()
