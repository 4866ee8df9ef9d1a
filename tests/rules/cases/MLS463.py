"""MLS463 recommender-item-ids."""

from rules import model_specs

def bad_int64_and_string_ids():
    spec = model_specs.item_similarity_recommender()
    spec.itemSimilarityRecommender.itemInt64Ids.vector.extend([7, 8, 9])
    return spec


def bad_too_few_int64_ids():
    spec = model_specs.item_similarity_recommender()
    recommender = spec.itemSimilarityRecommender
    recommender.ClearField("itemStringIds")
    recommender.itemInt64Ids.vector.extend([7, 8])
    return spec


def bad_duplicate_string_ids():
    spec = model_specs.item_similarity_recommender()
    spec.itemSimilarityRecommender.itemStringIds.vector[2] = "apple"
    return spec


def good_string_ids_reaching_the_largest_index():
    # Core ML wants more Int64 ids than the largest item index, but String ids only as many.
    spec = model_specs.item_similarity_recommender()
    del spec.itemSimilarityRecommender.itemStringIds.vector[2:]
    return spec
