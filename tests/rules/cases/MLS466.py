"""MLS466 linked-model-file."""

from rules import model_specs

def bad_no_link():
    spec = model_specs.linked_model()
    spec.linkedModel.ClearField("linkedModelFile")
    return spec


def bad_empty_file_name():
    spec = model_specs.linked_model()
    spec.linkedModel.linkedModelFile.linkedModelSearchPath.defaultValue = "models"
    spec.linkedModel.linkedModelFile.linkedModelFileName.defaultValue = ""
    return spec


def good_search_path_may_be_empty():
    spec = model_specs.linked_model()
    spec.linkedModel.linkedModelFile.ClearField("linkedModelSearchPath")
    return spec
