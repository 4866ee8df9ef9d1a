"""MLS442 one-hot-categories."""

from rules import model_specs

def bad_no_categories():
    spec = model_specs.one_hot_encoder()
    spec.oneHotEncoder.ClearField("stringCategories")
    return spec


def good_empty_category_list_is_set():
    spec = model_specs.one_hot_encoder()
    del spec.oneHotEncoder.stringCategories.vector[:]
    return spec
