"""``k8saudit serve``: receive the API server's audit webhook, archive every batch, run the rules.

The rule, output and exit options are ``scan``'s own option objects, so
they read and behave exactly as there. The receiver itself lives in
:mod:`k8saudit_cli.serve` and needs the ``serve`` extra (aiohttp,
prometheus-client); without it the command says so in one line and exits 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.cli.common import (
    OrderedSelectionCommand,
    fail,
    load_ruleset,
    selection_steps,
    warn,
)
from k8saudit_cli.cli.scan_cmd import scan_command
from k8saudit_cli.cli.scan_output import alert_output, exit_policy, print_report, write_summary_json
from k8saudit_cli.decode import DecodeOptions
from k8saudit_cli.detect import Alert
from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import RunOptions, TextSink
from k8saudit_cli.selection import select_rules, unmatched_steps

if TYPE_CHECKING:
    from k8saudit_cli.serve.config import ArchiveOptions, ServeConfig

EXTRA_MISSING = "k8saudit serve needs the 'serve' extra: pip install 'k8saudit[serve]'"

#: ``scan`` options that mean the same here (rules, selection, output, exit status).
SHARED_WITH_SCAN = (
    "rules",
    "disable_rule",
    "enable_rule",
    "disable_tag",
    "enable_tag",
    "min_priority",
    "rule_matching",
    "fmt",
    "time_format",
    "output",
    "summary_json",
    "no_summary",
    "fail_on",
    "max_event_size",
    "no_fast_path",
)

EPILOG = """\b
Examples:
  k8saudit serve --archive /var/lib/k8saudit/archive
  k8saudit serve --listen https://:9765/k8s-audit --tls-cert server.pem \\
      --client-ca apiserver-ca.crt --auth-token-file tokens --archive archive/
  k8saudit scan archive/          # the same events again, with today's rules

\b
POST bodies: an EventList (what the API server sends), an Event, or an array.
GET /healthz and GET /metrics (Prometheus) answer on the same port.
SIGTERM or SIGINT: finish in-flight requests, close the archive, print the
report, exit (0, or 1 with --fail-on). See docs/serve.md.
"""


#: The receiver's own options, in the order ``--help`` shows them.
RECEIVER_OPTIONS = [
    click.option(
        "--listen",
        default="http://:9765/k8s-audit",
        show_default=True,
        metavar="URL",
        help="http[s]://HOST:PORT/PATH; an empty HOST listens on every interface.",
    ),
    click.option(
        "--tls-cert",
        type=click.Path(dir_okay=False),
        metavar="PEM",
        help="Server certificate for https (may hold the key too). "
        "Default: /etc/falco/falco.pem, Falco's sslCertificate.",
    ),
    click.option("--tls-key", type=click.Path(dir_okay=False), metavar="PEM", help="Its key."),
    click.option(
        "--client-ca",
        type=click.Path(dir_okay=False),
        metavar="PEM",
        help="Require client certificates signed by this CA (mutual TLS); else 403.",
    ),
    click.option(
        "--auth-token-file",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Require 'Authorization: Bearer TOKEN' with a token from FILE (one per line, "
        "or the API server's token CSV); else 401.",
    ),
    click.option(
        "--archive",
        type=click.Path(file_okay=False),
        metavar="DIR",
        help="Append every accepted batch, as received, to JSONL files in DIR before "
        "answering; 'k8saudit scan DIR' reads them back.",
    ),
    click.option(
        "--fsync",
        type=click.Choice(["batch", "interval", "never"]),
        default="batch",
        show_default=True,
        help="'batch': on disk before each answer. 'interval': synced every "
        "--fsync-interval seconds. 'never': left to the OS.",
    ),
    click.option(
        "--fsync-interval",
        type=click.FloatRange(min=0.01),
        default=1.0,
        show_default=True,
        metavar="SECONDS",
    ),
    click.option(
        "--archive-max-size",
        type=click.IntRange(min=1),
        default=128 * 1024 * 1024,
        show_default=True,
        metavar="BYTES",
        help="Start a new archive file past this size (files also turn over every hour).",
    ),
    click.option(
        "--archive-compress-level",
        type=click.IntRange(0, 9),
        default=1,
        show_default=True,
        metavar="0-9",
        help="gzip level for closed archive files; 0 keeps them plain.",
    ),
    click.option(
        "--max-batch-size",
        type=click.IntRange(min=1),
        default=12582912,
        show_default=True,
        metavar="BYTES",
        help="Refuse bigger bodies with 413, also once inflated (Falco's webhookMaxBatchSize).",
    ),
    click.option(
        "--queue-size",
        type=click.IntRange(min=1),
        default=10000,
        show_default=True,
        metavar="EVENTS",
        help="Events waiting for the rules before new requests get 503 and Retry-After.",
    ),
    click.option(
        "--max-inflight",
        type=click.IntRange(min=1),
        default=16,
        show_default=True,
        metavar="N",
        help="Requests read or archived at once before new ones get 503.",
    ),
    click.option(
        "--client-timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        metavar="SECONDS",
        help="A body not received in this time gets 408; a connection idle (or stalled "
        "in its headers) this long is closed.",
    ),
]


def _receiver_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(RECEIVER_OPTIONS):
        f = option(f)
    return f


@click.command("serve", cls=OrderedSelectionCommand, epilog=EPILOG)
@_receiver_options
@click.pass_context
def serve_command(ctx: click.Context, /, rules: tuple[str, ...], **opts: Any) -> None:
    """Receive audit events from the API server's webhook; alert as they arrive.

    Every accepted batch is archived (--archive) before the answer is sent
    and goes through the same rules and options as 'scan'. Alerts go to
    stdout (or --output); warnings and, at shutdown, the end-of-run report
    go to stderr. Exit codes: 0 stopped by a signal, 1 an alert at or above
    --fail-on, 2 could not start.
    """
    try:
        from k8saudit_cli.serve.app import Service, serve
    except ImportError:
        fail(EXTRA_MISSING)
    config = _config(opts)
    selected = _select(ctx, rules, opts["min_priority"])
    with alert_output(opts["output"]) as out:
        try:
            service = Service(
                config,
                selected,
                _run_options(opts),
                TextSink(_render(opts), out.write),
                on_warning=warn,
                on_input_warning=lambda line: click.echo(line, err=True),
                on_idle=out.flush,
            )
            stats = serve(service, _announce(config))
        except K8sAuditError as exc:
            fail(str(exc))
    if opts["summary_json"]:
        write_summary_json(stats, opts["summary_json"])
    if not opts["no_summary"]:
        print_report(stats)
    exit_policy(stats, False, opts["fail_on"])


serve_command.params.extend(p for p in scan_command.params if p.name in SHARED_WITH_SCAN)


def _config(opts: dict[str, Any]) -> ServeConfig:
    from k8saudit_cli.serve.config import DEFAULT_TLS_PEM, Limits, ServeConfig, TlsFiles

    tls = None
    if opts["listen"].startswith("https:") or opts["tls_cert"] or opts["client_ca"]:
        cert = opts["tls_cert"] or DEFAULT_TLS_PEM
        tls = TlsFiles(cert, opts["tls_key"], opts["client_ca"])
    limits = Limits(
        max_batch_size=opts["max_batch_size"],
        queue_events=opts["queue_size"],
        max_inflight=opts["max_inflight"],
        client_timeout=opts["client_timeout"],
    )
    return ServeConfig(opts["listen"], tls, opts["auth_token_file"], _archive(opts), limits)


def _archive(opts: dict[str, Any]) -> ArchiveOptions | None:
    from k8saudit_cli.serve.config import ArchiveOptions

    if not opts["archive"]:
        return None
    return ArchiveOptions(
        opts["archive"],
        fsync=opts["fsync"],
        fsync_interval=opts["fsync_interval"],
        max_bytes=opts["archive_max_size"],
        compress_level=opts["archive_compress_level"],
    )


def _announce(config: ServeConfig) -> Callable[[str], None]:
    def ready(url: str) -> None:
        where = f" (archive: {config.archive.directory})" if config.archive else " (no archive)"
        click.echo(f"k8saudit: listening on {url}{where}", err=True)
        if config.token_file and url.startswith("http:"):
            warn("bearer tokens travel in clear text over http://; use https://")

    return ready


def _select(ctx: click.Context, rules: Sequence[str], min_priority: int) -> list[CompiledRule]:
    """Load the rules and apply the selection options in command-line order (as ``scan``)."""
    ruleset = load_ruleset(rules)
    steps = selection_steps(ctx.meta.get("raw_args", []))
    for step in unmatched_steps(ruleset.rules, steps):
        warn(f"--{step.action}-{step.by} '{step.pattern}' matches no rule")
    selected = select_rules(ruleset.rules, steps, min_priority)
    if not selected:
        warn("no rule is enabled: nothing can be detected")
    return selected


def _run_options(opts: dict[str, Any]) -> RunOptions:
    return RunOptions(
        rule_matching=opts["rule_matching"],
        evaluator="reference" if opts["no_fast_path"] else "fast",
        decode=DecodeOptions(opts["max_event_size"]),
    )


def _render(opts: dict[str, Any]) -> Callable[[Alert], str]:
    renderer = AlertRenderer(opts["time_format"])
    return renderer.json_text if opts["fmt"] == "json" else renderer.line
