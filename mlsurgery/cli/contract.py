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
    contract = training_contract(read_model(model, stored_weights=True), model)
    if swift:
        _write_swift(contract, model, output, type_name)
    elif output_format == "json":
        from ..report import print_json

        print_json(contract)
    else:
        from ..report import console, print_contract

        print_contract(contract, console())


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
