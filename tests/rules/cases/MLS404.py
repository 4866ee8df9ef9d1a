"""MLS404 named-feature-missing."""

from rules import model_specs

def bad_predicted_feature_is_not_an_output():
    spec = model_specs.glm_regressor()
    spec.description.predictedFeatureName = "z"
    return spec


def bad_probabilities_output_is_not_declared():
    spec = model_specs.glm_classifier()
    spec.description.predictedProbabilitiesName = "scores"
    return spec


def bad_nms_coordinates_input_is_not_declared():
    spec = model_specs.non_maximum_suppression()
    del spec.description.input[1]
    return spec


def bad_word_tagger_without_a_tags_output():
    spec = model_specs.word_tagger()
    spec.wordTagger.tokenTagsOutputFeatureName = ""
    del spec.description.output[0]
    return spec


def bad_recommender_item_input_is_not_declared():
    spec = model_specs.item_similarity_recommender()
    spec.itemSimilarityRecommender.itemInputFeatureName = "basket"
    return spec


def good_nms_without_threshold_inputs():
    spec = model_specs.non_maximum_suppression()
    spec.nonMaximumSuppression.iouThresholdInputFeatureName = ""
    spec.nonMaximumSuppression.confidenceThresholdInputFeatureName = ""
    del spec.description.input[2:]
    return spec
