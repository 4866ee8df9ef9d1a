"""MLS419 probit-inputs."""

from rules import model_specs

def bad_float32_input():
    spec = model_specs.bayesian_probit_regressor()
    spec.description.input[0].type.multiArrayType.dataType = model_specs.FLOAT32
    return spec


def bad_rank_3_input():
    spec = model_specs.bayesian_probit_regressor()
    spec.description.input[0].type.multiArrayType.shape.append(2)
    return spec


def good_rank_1_input():
    spec = model_specs.bayesian_probit_regressor()
    del spec.description.input[0].type.multiArrayType.shape[1:]
    return spec
