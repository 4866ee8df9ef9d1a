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

    if output_format == "json":
        click.echo(json.dumps([_rule_dict(rule) for rule in ALL_RULES], indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    from ..report import console

    table = Table(show_edge=False)
    for column in ("code", "name", "severity", "summary", "upstream"):
        table.add_column(column, overflow="fold")
    for rule in ALL_RULES:
        table.add_row(rule.code, rule.name, rule.severity, rule.summary, rule.upstream)
    console().print(table)


@rules_command.command("explain")
@click.argument("code")
def explain_command(code: str):
    """Print everything about one rule (by code, e.g. MLS206, or by name)."""
    from rich.text import Text

    from ..report import console
    from ..rules import rule

    found = rule(code)
    out = console()
    out.print(Text.assemble((f"{found.code} {found.name}", "bold"), f" ({found.severity})"))
    for label, value in (("summary", found.summary), ("explanation", found.explanation), ("fix", found.fix),
                         ("upstream", found.upstream)):
        out.print(Text.assemble((f"{label}: ", "bold"), value))


def _rule_dict(rule) -> dict:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity, "summary": rule.summary,
            "explanation": rule.explanation, "fix": rule.fix, "upstream": rule.upstream}
