"""Recipes: checked completely before anything runs (one located line per problem), run in memory, written only
when every step succeeds, and the same bytes on every run."""

import dataclasses
import inspect
import shutil
import textwrap

import numpy as np
import pytest

from conftest import FIXTURES
from mlsurgery.errors import InvalidModelError, SurgeryError, UsageError
from mlsurgery.io import load_spec
from mlsurgery.ops import describe, loss, make_updatable, mark_updatable, precision, reinit, update_parameters, widen
from mlsurgery.recipe import OPERATIONS, RecipeError, apply_recipe, load_recipe, plan_recipe, recipe_json_schema
from mlsurgery.recipe.steps import OptimizerArguments

MNIST_STEPS = """\
steps:
  - mark-updatable:
      layers: [dense_3]
  - loss: {kind: cross-entropy}
  - optimizer:
      learning_rate: 0.01
      batch: 32
  - epochs: {epochs: 10}
  - save: {path: out/mnist.mlmodel}
"""


@pytest.fixture
def write_recipe(tmp_path):
    """Write a recipe (dedented) into tmp_path next to copies of the fixtures it may name."""
    for name in ("mnist_mlp.mlmodel", "turi_squeezenet.mlmodel"):
        shutil.copyfile(FIXTURES / name, tmp_path / name)

    def write(text: str, name: str = "recipe.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def _written(tmp_path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.suffix == ".mlmodel"
                  and p.name not in ("mnist_mlp.mlmodel", "turi_squeezenet.mlmodel"))


# --- every operation maps one-to-one onto its Python function ---------------------------------------------------

FUNCTIONS = {
    "widen": (widen.widen_classifier, {"spec", "rng"}),
    "reinit": (reinit.reinit_layers, {"spec", "rng"}),
    # The step does the command's whole job; the settings that have steps of their own keep the command's defaults.
    # prove, measure: callables the job passes (the engine's proof and shape measurement); not recipe settings.
    "make-updatable": (make_updatable.make_updatable,
                       {"spec", "optimizer", "epochs", "shuffle", "seed", "fix", "prove", "measure"}),
    "mark-updatable": (mark_updatable.mark_updatable, {"spec"}),
    # target_description: written by make-updatable --fix for a one-hot target; measure: a callable the job passes.
    "loss": (loss.set_loss, {"spec", "target_description", "measure"}),
    "shuffle": (update_parameters.set_shuffle, {"spec"}),
    "training-inputs": (describe.describe_training_inputs, {"spec"}),
    "metadata": (describe.set_metadata, {"spec"}),
    "to-fp32": (precision.convert_fp16_to_fp32, {"spec_or_network"}),
    "dequantize": (precision.dequantize_layers, {"spec"}),
}


@pytest.mark.parametrize("operation", sorted(FUNCTIONS))
def test_step_keys_are_the_functions_keyword_names_with_its_defaults(operation):
    function, not_arguments = FUNCTIONS[operation]
    parameters = {name: p for name, p in inspect.signature(function).parameters.items() if name not in not_arguments}
    fields = OPERATIONS[operation].arguments.model_fields

    assert set(fields) == set(parameters)
    for name, parameter in parameters.items():
        if parameter.default is not inspect.Parameter.empty:
            assert fields[name].default == parameter.default, name


@pytest.mark.parametrize("operation, settings", [("optimizer", update_parameters.OptimizerSettings),
                                                 ("epochs", update_parameters.EpochSettings)])
def test_settings_steps_take_the_dataclass_fields(operation, settings):
    fields = OPERATIONS[operation].arguments.model_fields
    assert list(fields) == [field.name for field in dataclasses.fields(settings)]


def test_optimizer_defaults_are_the_settings_defaults():
    assert OptimizerArguments().settings() == update_parameters.OptimizerSettings()


def test_every_operation_is_in_the_json_schema():
    schema = recipe_json_schema()
    alternatives = schema["properties"]["steps"]["items"]["oneOf"]

    assert [alternative["required"] for alternative in alternatives] == [[name] for name in OPERATIONS]
    for alternative in alternatives:
        (name, reference), = alternative["properties"].items()
        target = reference.get("$ref") or reference["anyOf"][0]["$ref"]
        definition = schema["$defs"][target.rsplit("/", 1)[1]]
        assert set(definition["properties"]) == set(OPERATIONS[name].arguments.model_fields)
    assert set(schema["required"]) == {"input", "steps"}
    assert schema["additionalProperties"] is False


# --- loading ----------------------------------------------------------------------------------------------------

def test_paths_are_relative_to_the_recipe_file(write_recipe, tmp_path, monkeypatch):
    # From tmp_path, ../mnist_mlp.mlmodel read relative to the current folder would not exist; the recipe's paths
    # reach tmp_path (the current folder, where a recipe may read and write) only relative to recipes/r.yaml.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recipes").mkdir()
    path = write_recipe("input: ../mnist_mlp.mlmodel\n" + MNIST_STEPS.replace("out/", "../out/"),
                        "recipes/r.yaml")

    recipe = load_recipe(path)
    apply_recipe(recipe)

    assert recipe.input == tmp_path / "mnist_mlp.mlmodel"
    assert _written(tmp_path) == ["out/mnist.mlmodel"]


def test_steps_keep_their_number_and_line(write_recipe):
    recipe = load_recipe(write_recipe("input: mnist_mlp.mlmodel\n" + MNIST_STEPS))

    assert [(s.number, s.operation, s.where.rsplit(":", 1)[1]) for s in recipe.steps] == [
        (1, "mark-updatable", "3"), (2, "loss", "5"), (3, "optimizer", "6"), (4, "epochs", "9"), (5, "save", "10")]
    assert recipe.steps[2].arguments.settings() == update_parameters.OptimizerSettings(learning_rate=0.01, batch=32)


def test_exponent_floats_are_numbers_as_in_yaml_1_2(write_recipe):
    recipe = load_recipe(write_recipe("""\
        input: mnist_mlp.mlmodel
        steps:
          - optimizer: {kind: adam, eps: 1e-8, learning_rate: 5E-4}
        """))

    assert (recipe.steps[0].arguments.eps, recipe.steps[0].arguments.learning_rate) == (1e-8, 5e-4)


BROKEN = [
    # (recipe text, how the one-line error starts[, a further part of it]); recipe.yaml stands for its path
    ("input: mnist_mlp.mlmodel\nsteps:\n  - make-updatable: {layers: [dense_3]}\n  - los: {}\n",
     "recipe.yaml:4: step 2: unknown operation 'los' (did you mean 'loss'?)"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - widen:\n      layer: dense_3\n      num_clases: 12\n",
     "recipe.yaml:5: step 1 (widen): unknown key 'num_clases' (did you mean 'num_classes'?)"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - widen:\n      layer: dense_3\n      num_classes: ten\n",
     "recipe.yaml:5: step 1 (widen): num_classes should be a valid integer, got 'ten' (write it without quotes)"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - optimizer:\n      batch: 8.0\n",
     "recipe.yaml:4: step 1 (optimizer): batch should be a valid integer, got 8.0"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - metadata: {version: 1.0}\n",
     "recipe.yaml:3: step 1 (metadata): version should be a valid string, got 1.0 (quote it to keep it text: '1.0')"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - widen:\n      layer: dense_3\n",
     "recipe.yaml:4: step 1 (widen): missing argument 'num_classes' (number of outputs after widening)"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - reinit: {layers: [dense_3], init: kaiming-uniform}\n",
     "recipe.yaml:3: step 1 (reinit): init 'kaiming-uniform' draws random numbers; add 'seed: N' at the top"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - optimizer: {learning_rate: 2.0}\n",
     "recipe.yaml:3: step 1 (optimizer): learning rate 2.0 is outside its allowed range [0.0, 1.0]"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - optimizer:\n      learning_rate_range: [0, x]\n",
     "recipe.yaml:4: step 1 (optimizer): learning_rate_range[1] should be a valid number, got 'x'"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - to-fp32\n",
     "recipe.yaml:3: step 1 (to-fp32): has no arguments mapping; write '- to-fp32: {}'"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - to-fp32: {}\n    save: {path: a.mlmodel}\n",
     "recipe.yaml:3: step 1: write each step as 'operation: {arguments}'"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - widen: [dense_3]\n",
     "recipe.yaml:3: step 1 (widen): arguments must be a mapping of name: value, not a list"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - optimizer:\n      learning_rate: !!python/object/apply:os.system [x]\n",
     "recipe.yaml:4: tag !!python/object/apply:os.system is not allowed"),
    ("!!python/object/new:dict {}\n", "recipe.yaml:1: tag !!python/object/new:dict is not allowed"),
    ("input: missing.mlmodel\nsteps:\n  - to-fp32: {}\n",
     "recipe.yaml:1: input ", "missing.mlmodel: no such file (paths in a recipe are relative to the recipe file)"),
    ("inpt: mnist_mlp.mlmodel\nsteps:\n  - to-fp32: {}\n",
     "recipe.yaml:1: unknown key 'inpt' (did you mean 'input'?)"),
    ("seed: 1\nsteps:\n  - to-fp32: {}\n",
     "recipe.yaml:1: missing key 'input' (the model to start from, relative to the recipe file)"),
    ("input: mnist_mlp.mlmodel\nsteps: []\n", "recipe.yaml:2: steps needs at least 1 item(s), got []"),
    ("input: mnist_mlp.mlmodel\nseed: 1\nseed: 2\nsteps:\n  - to-fp32: {}\n",
     "recipe.yaml:3: duplicate key 'seed' (first on line 2)"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - save: {path: mnist_mlp.mlmodel}\n",
     "recipe.yaml:3: step 1 (save): ", "mnist_mlp.mlmodel is the input model; recipes never overwrite their input"),
    ("input: mnist_mlp.mlmodel\nsteps:\n  - save: {path: a.mlmodel}\n  - save: {path: ./a.mlmodel}\n",
     "recipe.yaml:4: step 2 (save): ", "a.mlmodel is already saved by step 1"),
    ("input: [a\n", "recipe.yaml:2: not valid YAML: "),
    ("- input\n", "recipe.yaml:1: a recipe is a mapping with 'input', 'seed' and 'steps', not a list"),
    ("", "recipe.yaml: is empty; a recipe needs 'input' and 'steps'"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[case[1] for case in BROKEN])
def test_broken_recipes_give_one_located_line(write_recipe, case):
    text, start, *more = case
    path = write_recipe(text)

    with pytest.raises(RecipeError) as raised:
        load_recipe(path)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(start.replace("recipe.yaml", str(path)))
    assert all(part in message for part in more)


def test_the_kind_literal_message(write_recipe):
    path = write_recipe("input: mnist_mlp.mlmodel\nsteps:\n  - loss: {kind: hinge}\n")
    with pytest.raises(RecipeError, match=r"kind should be 'cross-entropy' or 'mse', got 'hinge'$"):
        load_recipe(path)


# --- --set ------------------------------------------------------------------------------------------------------

def test_overrides_set_top_level_keys_and_step_arguments_as_yaml_values(write_recipe):
    path = write_recipe("input: mnist_mlp.mlmodel\n" + MNIST_STEPS)

    recipe = load_recipe(path, ["seed=3", "steps.3.optimizer.batch_values=[8, 32]", "steps.3.optimizer.kind=adam",
                                "steps.2.loss.name=trainingLoss"])

    assert recipe.seed == 3
    assert recipe.steps[2].arguments.settings() == update_parameters.OptimizerSettings(
        kind="adam", learning_rate=0.01, batch=32, batch_values=(8, 32))
    assert recipe.steps[1].arguments.name == "trainingLoss"


@pytest.mark.parametrize("override, message", [
    ("steps.3.optimizer.learnig_rate=0.1",
     "--set steps.3.optimizer.learnig_rate=0.1: step 3 (optimizer): unknown key 'learnig_rate' (did you mean "
     "'learning_rate'?)"),
    ("steps.3.optimizer.batch=big",
     "--set steps.3.optimizer.batch=big: step 3 (optimizer): batch should be a valid integer, got 'big'"),
    ("steps.2.optimizer.batch=8", "--set steps.2.optimizer.batch=8: step 2 is 'loss', not 'optimizer'"),
    ("steps.9.loss.kind=mse", "--set steps.9.loss.kind=mse: there is no step 9; the recipe has 5 step(s)"),
    ("steps.loss.kind=mse", "--set steps.loss.kind=mse: a step argument is set as steps.N.OPERATION.ARGUMENT=VALUE"),
    ("seed", "--set seed: expected KEY=VALUE"),
    ("sed=3", "--set sed=3: unknown key 'sed' (did you mean 'seed'?)"),
    ("seed=!!python/name:os.system", "--set seed=!!python/name:os.system: tag !!python/name:os.system is not allowed"),
])
def test_bad_overrides_name_the_override(write_recipe, override, message):
    path = write_recipe("input: mnist_mlp.mlmodel\n" + MNIST_STEPS)

    with pytest.raises(RecipeError) as raised:
        load_recipe(path, [override])
    assert str(raised.value).startswith(message)


# --- running ----------------------------------------------------------------------------------------------------

def test_dry_run_plans_every_step_and_writes_nothing(write_recipe, tmp_path):
    recipe = load_recipe(write_recipe("input: mnist_mlp.mlmodel\n" + MNIST_STEPS))

    outcomes = apply_recipe(recipe, dry_run=True)

    assert [len(o.changes) if o.changes is not None else None for o in outcomes] == [3, 2, 1, 1, None]
    saved = outcomes[-1].saved
    assert saved.report.valid and not saved.written
    assert saved.path == tmp_path / "out" / "mnist.mlmodel"
    assert _written(tmp_path) == []


def test_a_failing_step_after_a_save_writes_nothing(write_recipe, tmp_path):
    path = write_recipe("input: mnist_mlp.mlmodel\n" + MNIST_STEPS + "  - mark-updatable: {layers: [dense_9]}\n"
                        "  - save: {path: out/second.mlmodel}\n")

    with pytest.raises(UsageError, match=r"recipe.yaml:11: step 6 \(mark-updatable\): no layer named 'dense_9'"):
        apply_recipe(load_recipe(path))
    assert _written(tmp_path) == []


def test_operation_errors_keep_their_kind_and_gain_the_step(write_recipe):
    path = write_recipe("input: mnist_mlp.mlmodel\nsteps:\n  - mark-updatable: {layers: [flatten]}\n")

    with pytest.raises(SurgeryError, match=r"recipe.yaml:3: step 1 \(mark-updatable\): layer 'flatten'"):
        plan_recipe(load_recipe(path))


def test_a_model_core_ml_would_reject_is_refused_with_its_report(write_recipe, tmp_path):
    path = write_recipe("input: mnist_mlp.mlmodel\n" + MNIST_STEPS.replace("  - epochs: {epochs: 10}\n", ""))

    with pytest.raises(InvalidModelError) as refused:
        apply_recipe(load_recipe(path))

    assert str(refused.value).startswith(f"{path}:9: step 4 (save): ")
    assert "not written, Core ML would reject it" in str(refused.value)
    assert not refused.value.report.valid
    assert _written(tmp_path) == []


def test_force_writes_a_model_core_ml_would_reject(write_recipe, tmp_path):
    path = write_recipe("input: mnist_mlp.mlmodel\n" + MNIST_STEPS.replace("  - epochs: {epochs: 10}\n", "")
                        .replace("{path: out/mnist.mlmodel}", "{path: out/mnist.mlmodel, force: true}"))

    outcomes = apply_recipe(load_recipe(path))

    assert outcomes[-1].saved.written and not outcomes[-1].saved.report.valid
    assert not load_spec(tmp_path / "out" / "mnist.mlmodel").neuralNetworkClassifier.updateParams.HasField("epochs")


def test_each_save_holds_the_model_as_it_was_at_that_step(write_recipe, tmp_path):
    path = write_recipe("""\
        input: mnist_mlp.mlmodel
        seed: 5
        steps:
          - save: {path: before.mlmodel}
          - reinit: {layers: [dense_3]}
          - save: {path: after.mlmodel}
        """)

    apply_recipe(load_recipe(path))

    def dense_3(name):
        return np.array(load_spec(tmp_path / name).neuralNetworkClassifier.layers[5].innerProduct.weights.floatValue)

    original = np.array(load_spec(FIXTURES / "mnist_mlp.mlmodel").neuralNetworkClassifier.layers[5]
                        .innerProduct.weights.floatValue)
    assert np.array_equal(dense_3("before.mlmodel"), original)
    assert not np.array_equal(dense_3("after.mlmodel"), original)


def test_one_generator_threads_through_the_random_steps_in_order(write_recipe, tmp_path):
    path = write_recipe("""\
        input: mnist_mlp.mlmodel
        seed: 11
        steps:
          - reinit: {layers: [dense_2]}
          - reinit: {layers: [dense_3]}
          - save: {path: twice.mlmodel}
        """)
    apply_recipe(load_recipe(path))

    expected = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    rng = np.random.default_rng(11)
    reinit.reinit_layers(expected, ["dense_2"], rng=rng)
    reinit.reinit_layers(expected, ["dense_3"], rng=rng)
    assert load_spec(tmp_path / "twice.mlmodel") == expected


def test_same_recipe_and_seed_give_the_same_bytes_another_seed_other_bytes(write_recipe, tmp_path):
    path = write_recipe("""\
        input: turi_squeezenet.mlmodel
        seed: 42
        steps:
          - widen: {layer: fullyconnected0, num_classes: 10, init: kaiming}
          - reinit: {layers: [conv10]}
          - save: {path: out.mlmodel}
        """)
    runs = []
    for directory, overrides in (("a", []), ("b", []), ("c", ["seed=43"])):
        apply_recipe(load_recipe(path, overrides), output_dir=tmp_path / directory)
        runs.append((tmp_path / directory / "out.mlmodel").read_bytes())

    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_output_dir_keeps_file_names_and_refuses_two_saves_of_one_name(write_recipe, tmp_path):
    path = write_recipe("input: mnist_mlp.mlmodel\nsteps:\n  - save: {path: a/m.mlmodel}\n"
                        "  - save: {path: b/m.mlmodel}\n")

    with pytest.raises(RecipeError, match=r"--output-dir .*: steps 1 and 2 both save m.mlmodel"):
        apply_recipe(load_recipe(path), output_dir=tmp_path / "elsewhere")
    assert _written(tmp_path) == []


def test_output_dir_never_overwrites_the_input(write_recipe, tmp_path):
    path = write_recipe("input: mnist_mlp.mlmodel\nsteps:\n  - save: {path: out/mnist_mlp.mlmodel}\n")

    with pytest.raises(RecipeError, match="step 1 would overwrite the input model"):
        apply_recipe(load_recipe(path), output_dir=tmp_path)


# --- confinement: a recipe reads and writes only in its folder and the current folder ---------------------------

_CONFINED_STEPS = "steps:\n  - metadata: {short_description: confined}\n  - save: {path: OUT}\n"


@pytest.fixture
def elsewhere(tmp_path_factory):
    """A folder outside both the recipe's folder and the current folder, holding a model."""
    folder = tmp_path_factory.mktemp("elsewhere")
    shutil.copyfile(FIXTURES / "regressor.mlmodel", folder / "model.mlmodel")
    return folder


def _confined_recipe(write_recipe, input_path, output_path):
    return write_recipe(f"input: {input_path}\n" + _CONFINED_STEPS.replace("OUT", str(output_path)))


def test_recipe_cannot_read_a_model_outside_its_folders(write_recipe, tmp_path, monkeypatch, elsewhere):
    monkeypatch.chdir(tmp_path)
    recipe = _confined_recipe(write_recipe, elsewhere / "model.mlmodel", "out.mlmodel")
    with pytest.raises(RecipeError) as refused:
        load_recipe(recipe)
    message = str(refused.value)
    assert message.startswith(f"{recipe}:1: input {elsewhere / 'model.mlmodel'} is outside the folders")
    assert "--set input=" in message and "\n" not in message
    # Given on the command line, the same path is the user's explicit choice.
    apply_recipe(load_recipe(recipe, [f"input={elsewhere / 'model.mlmodel'}"]))
    assert load_spec(tmp_path / "out.mlmodel").description.metadata.shortDescription == "confined"


@pytest.mark.parametrize("output", ["../{name}/escaped.mlmodel", "{elsewhere}/escaped.mlmodel"])
def test_recipe_cannot_write_outside_its_folders(write_recipe, tmp_path, monkeypatch, elsewhere, output):
    monkeypatch.chdir(tmp_path)
    target = output.format(name=elsewhere.name, elsewhere=elsewhere)
    recipe = _confined_recipe(write_recipe, "mnist_mlp.mlmodel", target)
    with pytest.raises(RecipeError, match=r"step 2 \(save\): .* is outside the folders a recipe may write"):
        apply_recipe(load_recipe(recipe))
    assert not (elsewhere / "escaped.mlmodel").exists()
    # --set for that save, or --output-dir, says it on the command line.
    apply_recipe(load_recipe(recipe, [f"steps.2.save.path={elsewhere / 'chosen.mlmodel'}"]))
    assert (elsewhere / "chosen.mlmodel").exists()
    apply_recipe(load_recipe(recipe), output_dir=elsewhere / "out")
    assert (elsewhere / "out" / "escaped.mlmodel").exists()


def test_a_symbolic_link_does_not_lead_a_recipe_out_of_its_folders(write_recipe, tmp_path, monkeypatch, elsewhere):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to(elsewhere, target_is_directory=True)
    recipe = _confined_recipe(write_recipe, "mnist_mlp.mlmodel", "link/escaped.mlmodel")
    with pytest.raises(RecipeError, match="outside the folders a recipe may write"):
        apply_recipe(load_recipe(recipe))
    assert not (elsewhere / "escaped.mlmodel").exists()


def test_recipe_may_use_the_current_folder_from_anywhere(write_recipe, tmp_path, monkeypatch, elsewhere):
    # Run from elsewhere/: the recipe (in tmp_path) may read and write there too.
    monkeypatch.chdir(elsewhere)
    recipe = _confined_recipe(write_recipe, elsewhere / "model.mlmodel", elsewhere / "here.mlmodel")
    apply_recipe(load_recipe(recipe))
    assert (elsewhere / "here.mlmodel").exists()
