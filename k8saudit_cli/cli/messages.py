"""The one style of every message on stderr: ``k8saudit: error:`` and ``k8saudit: warning:``.

Click's own usage errors (three lines: usage, hint, "Error: Invalid value
...") are rewritten here into ours: one line that names the option first,
then where to find help. Only click is imported, so the command group can
use this without loading the rules machinery.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

ERROR_PREFIX = "k8saudit: error: "
WARNING_PREFIX = "k8saudit: warning: "


def usage_error_text(exc: click.UsageError) -> str:
    """A usage error in the house style: one ``k8saudit: error:`` line, then the help hint."""
    text = f"{ERROR_PREFIX}{_usage_message(exc)}"
    if exc.ctx is not None:
        text += f"\nTry '{exc.ctx.command_path} -h' for help."
    return text


def _usage_message(exc: click.UsageError) -> str:
    """``--since: '1y' is not ...``: the option first, then what is wrong with it."""
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        kind = exc.param_type or exc.param.param_type_name
        return f"missing {kind} {_param_label(exc.param, None)}"
    if isinstance(exc, click.BadParameter):
        label = _param_label(exc.param, exc.param_hint)
        if label:
            return f"{label}: {exc.message}"
    return _lower_first(exc.format_message())


def _param_label(param: click.Parameter | None, hint: Sequence[str] | str | None) -> str:
    """The long option name (``--rules`` for ``-r/--rules``), or an argument's metavar."""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    if param is not None:
        return param.human_readable_name
    if isinstance(hint, str):
        return hint.strip("'\"")
    return max(hint, key=len) if hint else ""


def _lower_first(message: str) -> str:
    """Click's sentences ("No such option") in the style of ours ("no such option")."""
    if message[:1].isupper() and message[1:2].islower():
        return message[0].lower() + message[1:]
    return message
