import click


@click.group("rules", invoke_without_command=True)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts.")
@click.pass_context
def rules_command(ctx: click.Context, output_format: str):
    """List every rule mlsurgery validates: code, name, severity, summary and the Core ML source it mirrors."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from ..rules import ALL_RULES

    from ..report import console, print_rules, rule_dict

    if output_format == "json":
        click.echo(json.dumps([rule_dict(rule) for rule in ALL_RULES], indent=2, ensure_ascii=False))
        return
    print_rules(ALL_RULES, console())


@rules_command.command("explain")
@click.argument("code")
def explain_command(code: str):
    """Print everything about one rule (by code, e.g. MLS206, or by name)."""
    from ..report import console, print_rule
    from ..rules import rule

    print_rule(rule(code), console())
