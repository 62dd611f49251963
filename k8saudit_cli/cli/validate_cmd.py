"""``k8saudit validate``, ``rules`` and ``explain``: look at rules without scanning."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from k8saudit_cli import priority as prio
from k8saudit_cli.cli.common import check_rules_files, fail, load_ruleset, rules_option
from k8saudit_cli.cli.console import plain_format, tsv_line
from k8saudit_cli.cli.hints import close_matches, diagnostic_hint, render_diagnostic
from k8saudit_cli.engine.codegen import generate_group
from k8saudit_cli.engine.index import describe, requirement, residual
from k8saudit_cli.errors import Diagnostic
from k8saudit_cli.escape import visible
from k8saudit_cli.ruleset import RuleSet, load_rules
from k8saudit_cli.ruleset.aggregation_items import AggregationState
from k8saudit_cli.ruleset.compile import K8S_SOURCE, CompiledRule
from k8saudit_cli.ruleset.compile_aggregations import CompiledAggregation
from k8saudit_cli.ruleset.states import RuleState

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


# ---------------------------------------------------------------- validate


@click.command(
    "validate",
    epilog="""\b
Examples:
  k8saudit validate -r k8s_audit_rules.yaml
  k8saudit validate -r k8s_audit_rules.yaml -r my_overrides.yaml --format json
""",
)
@rules_option(required=True)
@FORMAT
def validate_command(rules: tuple[str, ...], fmt: str) -> None:
    """Check rules files like 'falco -V': every error and warning, with positions.

    Files load in the order given into one ruleset, so an override file is
    checked against the files before it. Each problem shows file:line:col,
    the item, a stable code (Falco's, e.g. LOAD_ERR_COMPILE_CONDITION) and,
    for conditions, the line with a caret under the offending token.
    Exit code 0 when valid (warnings allowed), 1 when not, 2 when a file
    cannot be read at all.
    """
    check_rules_files(rules)
    ruleset = load_rules(list(rules))
    if fmt == "json":
        sys.stdout.write(
            orjson.dumps(validation_json(ruleset), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    else:
        sys.stdout.write(validation_text(ruleset))
    sys.exit(0 if ruleset.ok else 1)


def _file_status(ruleset: RuleSet, name: str) -> tuple[str, list[Diagnostic]]:
    diags = [d for d in ruleset.diagnostics if d.position is not None and d.position.file == name]
    if any(d.is_error for d in diags):
        return "Invalid", diags
    return ("Ok, with warnings" if diags else "Ok"), diags


def validation_text(ruleset: RuleSet) -> str:
    out = []
    for d in ruleset.diagnostics:
        out.append(render_diagnostic(d))
    if ruleset.diagnostics:
        out.append("")
    for name in ruleset.files:
        status, diags = _file_status(ruleset, name)
        errors = sum(1 for d in diags if d.is_error)
        warnings = len(diags) - errors
        counts = f" ({errors} errors, {warnings} warnings)" if diags else ""
        out.append(f"{name}: {status}{counts}")
    return "\n".join(out) + "\n"


def validation_json(ruleset: RuleSet) -> dict[str, Any]:
    files = []
    for name in ruleset.files:
        status, diags = _file_status(ruleset, name)
        files.append(
            {
                "name": name,
                "status": status,
                "errors": sum(d.is_error for d in diags),
                "warnings": sum(not d.is_error for d in diags),
            }
        )
    return {
        "ok": ruleset.ok,
        "files": files,
        "rules_loaded": len(ruleset.rules),
        "errors": [diagnostic_json(d) for d in ruleset.errors],
        "warnings": [diagnostic_json(d) for d in ruleset.warnings],
    }


def diagnostic_json(diag: Diagnostic) -> dict[str, object]:
    """:meth:`Diagnostic.to_json`, plus ``hint`` (did you mean...) when there is one."""
    data = diag.to_json()
    hint = diagnostic_hint(diag)
    if hint:
        data["hint"] = hint
    return data


# ---------------------------------------------------------------- rules


@click.command(
    "rules",
    epilog="""\b
Examples:
  k8saudit rules                         the built-in ruleset
  k8saudit rules -r k8s_audit_rules.yaml --format json
  k8saudit rules | grep Privileged       whole rows: name, priority, source, enabled, tags
""",
)
@rules_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "tsv", "json"]),
    help="Output format; default: text (a table) on a terminal, tsv otherwise.",
)
def rules_command(rules: tuple[str, ...], fmt: str | None) -> None:
    """List the rules of a ruleset (like 'falco -L'): name, priority, source, enabled, tags.

    Every rule is listed, including disabled ones and rules of other sources
    (which a scan skips). In a pipe or a file (or with --format tsv) each
    rule is one line of tab-separated columns in that order, never wrapped,
    so 'k8saudit rules | grep Privileged' finds whole rows.
    """
    ruleset = load_ruleset(rules)
    rows = rule_rows(ruleset)
    fmt = plain_format(fmt, "text")
    if fmt == "json":
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if fmt == "tsv":
        for r in rows:
            cells = (r["name"], r["priority"], r["source"], "yes" if r["enabled"] else "no")
            sys.stdout.write(tsv_line((*cells, ",".join(r["tags"]))))
        return
    print_rules_table(rows)


def print_rules_table(rows: list[dict[str, Any]]) -> None:
    """The rules as a Rich table; names and tags are text, never markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    for col in ("Rule", "Priority", "Source", "Enabled", "Tags"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            Text(visible(r["name"])),
            r["priority"],
            Text(visible(r["source"]) + (" (aggregation)" if r["kind"] == "aggregation" else "")),
            "yes" if r["enabled"] else "no",
            Text(visible(", ".join(r["tags"]))),
        )
    Console(soft_wrap=False).print(table)


def rule_rows(ruleset: RuleSet) -> list[dict[str, Any]]:
    """Every rule, then every aggregation (our extension), in definition order."""
    states = sorted(ruleset.collection.rules.values(), key=lambda r: r.index)
    aggregations = sorted(ruleset.collection.aggregations.values(), key=lambda a: a.index)
    return [_row(r, "rule", r.source) for r in states] + [
        _row(a, "aggregation", K8S_SOURCE) for a in aggregations
    ]


def _row(r: RuleState | AggregationState, kind: str, source: str) -> dict[str, Any]:
    return {
        "name": r.name,
        "kind": kind,
        "priority": prio.name(r.priority),
        "source": source,
        "enabled": r.enabled,
        "tags": sorted(r.tags),
        "desc": r.desc,
        "file": r.pos.file,
        "line": r.pos.line,
    }


# ---------------------------------------------------------------- explain


@click.command(
    "explain",
    epilog="""\b
Examples:
  k8saudit explain 'Create Privileged Pod' -r k8s_audit_rules.yaml
  k8saudit explain 'Attach/Exec Pod' --generated   the Python the fast path runs
""",
)
@click.argument("rule_name", metavar="RULE")
@rules_option()
@FORMAT
@click.option(
    "--generated",
    is_flag=True,
    help="Also show the Python the fast path runs for RULE, and the index key that "
    "routes events to it.",
)
def explain_command(rule_name: str, rules: tuple[str, ...], fmt: str, generated: bool) -> None:
    """Show RULE's condition fully expanded and the fields it reads.

    Macros and lists are inlined and every 'and'/'or'/'not' is
    parenthesised, so precedence is explicit; exceptions appear as the
    'and not (...)' terms Falco adds. With --generated: the index key an
    event must have for RULE to run at all, and the generated function
    that tests the rest (one line per check, commented with its origin).
    """
    ruleset = load_ruleset(rules)
    rule = ruleset.rule(rule_name)
    if rule is None:
        fail(f'rule "{rule_name}" is not loaded{_rule_hint(rule_name, ruleset)}')
    data = explanation(rule)
    if isinstance(rule, CompiledAggregation):
        data["aggregation"] = rule.summary()
    if generated:
        data["generated"] = generated_code(rule)
    if fmt == "json":
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    lines = explanation_text(rule, data)
    if generated:
        lines += generated_text(data["generated"])
    sys.stdout.write("\n".join(lines) + "\n")


def _rule_hint(name: str, ruleset: RuleSet) -> str:
    """Rules whose name contains ``name``, else the nearest spellings (case-insensitive)."""
    by_lower = {r.name.lower(): r.name for r in ruleset.rules}
    known = [r.name for r in ruleset.rules if name.lower() in r.name.lower()][:5]
    if not known:
        known = [by_lower[n] for n in close_matches(name.lower(), list(by_lower))]
    return f" (did you mean: {', '.join(repr(k) for k in known)})" if known else ""


def explanation(rule: CompiledRule) -> dict[str, Any]:
    from k8saudit_cli.engine.unparse import render

    return {
        "rule": rule.name,
        "priority": prio.name(rule.priority),
        "source": rule.source,
        "enabled": rule.enabled,
        "tags": list(rule.tags),
        "file": rule.pos.file,
        "line": rule.pos.line,
        "condition": rule.condition,
        "expanded_condition": render(rule.expanded),
        "condition_fields": list(rule.fields),
        "output": rule.output.text,
        "output_fields": [t.field.text for t in rule.output.fields if t.field is not None],
    }


def explanation_text(rule: CompiledRule, data: dict[str, Any]) -> list[str]:
    return [
        (
            f"Rule:      {rule.name}  ({data['priority']}, source {rule.source}, "
            f"{'enabled' if rule.enabled else 'disabled'})"
        ),
        f"Defined:   {rule.pos.file}:{rule.pos.line}",
        f"Tags:      {', '.join(rule.tags) or '-'}",
        "Condition as written:",
        f"  {rule.condition.strip()}",
        "Expanded (macros and lists inlined):",
        f"  {data['expanded_condition']}",
        "Fields read by the condition:",
        *(f"  {f}" for f in rule.fields),
        *(
            ["Counts (aggregation):", f"  {rule.summary_text()}"]
            if isinstance(rule, CompiledAggregation)
            else []
        ),
        "Output:",
        f"  {rule.output.text}",
    ]


def generated_code(rule: CompiledRule) -> dict[str, Any]:
    """The fast path's view of one rule: the index key it needs, and the group
    function it runs when that rule is the only candidate (as with --rule-matching all)."""
    fn, source = generate_group([(rule, residual(rule.bound))], first_only=False)
    named = {
        name: _constant_text(value)
        for name, value in fn.__globals__.items()
        if isinstance(value, (frozenset, tuple, list))
    }
    return {
        "index_key": describe(requirement(rule.bound)),
        "source": source,
        "constants": named,
    }


def _constant_text(value: frozenset[Any] | tuple[Any, ...] | list[Any]) -> str:
    """A named constant as Python source; sets sorted, so the text is stable."""
    if isinstance(value, frozenset):
        return "{" + ", ".join(repr(v) for v in sorted(value, key=repr)) + "}"
    return repr(value)


def generated_text(generated: dict[str, Any]) -> list[str]:
    key = generated["index_key"] or ["(none: every event runs the function)"]
    constants = [f"  {name} = {value}" for name, value in sorted(generated["constants"].items())]
    return [
        "Index key (the fast path runs the rule only for events that have):",
        *(f"  {line}" for line in key),
        "Generated code (what is left to test once the index let the event through):",
        *(f"  {line}" if line else "" for line in generated["source"].splitlines()),
        *(["Named constants of the code:", *constants] if constants else []),
    ]
