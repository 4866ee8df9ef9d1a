"""MLS464 recommender-columns."""

from rules import model_specs

def bad_no_output_named():
    spec = model_specs.item_similarity_recommender()
    spec.itemSimilarityRecommender.recommendedItemListOutputFeatureName = ""
    return spec


def bad_unnamed_item_input_among_two_inputs():
    spec = model_specs.item_similarity_recommender()
    spec.itemSimilarityRecommender.itemInputFeatureName = ""
    model_specs.feature(spec.description.input, "count", "int64Type")
    return spec


def good_unnamed_item_input_when_it_is_the_only_input():
    spec = model_specs.item_similarity_recommender()
    spec.itemSimilarityRecommender.itemInputFeatureName = ""
    return spec
