"""MLS447 dict-vectorizer-map."""

from rules import model_specs

def bad_no_map():
    spec = model_specs.dict_vectorizer()
    spec.dictVectorizer.ClearField("stringToIndex")
    return spec


def good_int64_keys():
    spec = model_specs.dict_vectorizer()
    spec.dictVectorizer.int64ToIndex.vector.extend([3, 1, 2])
    return spec
