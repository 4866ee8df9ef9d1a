"""MLS482 sound-preprocessing-type."""

from rules import model_specs

def bad_no_preprocessing_type():
    spec = model_specs.vggish_preprocessing()
    spec.soundAnalysisPreprocessing.ClearField("vggish")
    spec.soundAnalysisPreprocessing.SetInParent()
    return spec


def good_vggish():
    return model_specs.vggish_preprocessing()
