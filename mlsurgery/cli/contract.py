import click


@click.command("contract")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts (shape documented in docs/contract.md).")
@click.option("--swift", "swift", is_flag=True,
              help="Write Swift for this model instead: batch provider, checked parameters, MLUpdateTask.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="With --swift: the .swift file to write (default: print it).")
@click.option("--name", "type_name",
              help="With --swift: prefix of the generated Swift types (default: from the model file name).")
def contract_command(model: str, output_format: str, swift: bool, output: str | None, type_name: str | None):
    """What an app may do with an updatable model: training inputs and every MLParameterKey, or Swift for it."""
    from ..contract import training_contract
    from ..errors import UsageError
    from .options import read_model

    if (output or type_name) and not swift:
        raise UsageError("-o/--output and --name go with --swift; without it the contract is printed")
    contract = training_contract(read_model(model), model)
    if swift:
        _write_swift(contract, model, output, type_name)
    elif output_format == "json":
        from ..report import print_json

        print_json(contract)
    else:
        from ..report import console

        _print_contract(contract, console())


def _write_swift(contract: dict, model: str, output: str | None, type_name: str | None) -> None:
    from pathlib import Path

    from ..errors import UsageError
    from ..io import write_bytes_atomically
    from ..swift import swift_source, swift_type_name

    source = swift_source(contract, swift_type_name(type_name or Path(model).stem))
    if output is None:
        click.echo(source, nl=False)
        return
    path = Path(output)
    if path.exists() and Path(model).exists() and path.samefile(model):
        raise UsageError(f"{path}: output is the input model; choose another -o path")
    if not path.parent.exists():
        raise UsageError(f"{path}: folder {path.parent} does not exist")
    write_bytes_atomically(source.encode("utf-8"), path)
    click.echo(f"wrote {path}", err=True)


def _print_contract(contract: dict, out) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..summary import feature_type_label

    stage = contract["updatable_model"]
    trained = (f"Core ML trains its {stage['type']} ({stage['where']}, parameters scoped to {stage['scope']!r})"
               if stage["where"] else "Core ML trains the model itself")
    out.print(Text.assemble((contract["path"] or "model", "bold"), f"  {contract['model_type']}: {trained}"))
    inputs = Table(title="training inputs (one MLFeatureProvider per example)", title_justify="left",
                   show_edge=False)
    for column in ("name", "role", "model type", "Swift"):
        inputs.add_column(column)
    for feature in contract["training_inputs"]:
        inputs.add_row(feature["name"], feature["role"], feature_type_label(feature["type"]),
                       _swift_label(feature["swift"]))
    out.print(inputs)
    for feature in contract["training_inputs"]:
        if feature["role"] == "target" and feature.get("description"):
            out.print(Text(f"{feature['name']}: {feature['description']}"))
    parameters = Table(title="MLParameterKey (MLModelConfiguration.parameters)", title_justify="left",
                       show_edge=False)
    for column, justify in (("key", "left"), ("Swift type", "left"), ("default", "right"), ("allowed", "left")):
        parameters.add_column(column, justify=justify)
    for key, parameter in contract["parameters"].items():
        parameters.add_row(f".{key}", parameter["swift_type"], _value(parameter["default"]), _allowed(parameter))
    out.print(parameters)
    for loss in contract["losses"]:
        out.print(f"loss: {loss['name']} ({loss['type']}) on {loss['input']!r}, target {loss['target']!r}")
    if contract["updatable_layers"]:
        out.print(f"updatable layers: {', '.join(contract['updatable_layers'])}")


def _swift_label(swift: dict) -> str:
    if swift["type"] == "CVPixelBuffer":
        return f"CVPixelBuffer {swift['width']}×{swift['height']} {swift['pixel_format']}"
    if swift["type"] == "MLMultiArray":
        return f"MLMultiArray {swift['shape']} .{swift['data_type']}"
    return swift["type"]


def _value(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _allowed(parameter: dict) -> str:
    if "allowed_values" in parameter:
        return "one of " + ", ".join(_value(v) for v in parameter["allowed_values"])
    if "allowed_range" in parameter:
        low, high = parameter["allowed_range"]
        return f"{low} … {high}"
    return "any"
