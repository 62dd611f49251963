"""What a ``serve`` run is asked to do: the settings, and the error for bad ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from k8saudit_cli.errors import K8sAuditError

#: The API server's webhook batches are at most this big (Falco's ``webhookMaxBatchSize``).
DEFAULT_MAX_BATCH_SIZE = 12582912
#: Falco's ``sslCertificate``: one PEM holding the certificate and its key.
DEFAULT_TLS_PEM = "/etc/falco/falco.pem"
#: Closed archive files are this big at most (a line is never split, so one may go over).
DEFAULT_ARCHIVE_MAX_BYTES = 128 * 1024 * 1024

FsyncPolicy = Literal["batch", "interval", "never"]


class ServeError(K8sAuditError):
    """The receiver cannot start: a bad listen URL, unreadable certificates, a busy archive."""

    code = "SERVE_ERROR"


@dataclass(frozen=True)
class TlsFiles:
    """The server certificate (and key, unless the PEM holds both); ``client_ca`` for mTLS."""

    cert: str
    key: str | None = None
    client_ca: str | None = None


@dataclass(frozen=True)
class ArchiveOptions:
    """Where accepted batches are kept and how hard the disk is asked to keep them.

    ``fsync``: ``batch`` syncs before every acknowledgement (grouped over the
    requests waiting at that moment), ``interval`` every ``fsync_interval``
    seconds, ``never`` leaves it to the OS. ``compress_level`` 0 keeps closed
    files plain.
    """

    directory: str
    fsync: FsyncPolicy = "batch"
    fsync_interval: float = 1.0
    max_bytes: int = DEFAULT_ARCHIVE_MAX_BYTES
    compress_level: int = 1


@dataclass(frozen=True)
class Limits:
    """What one request may cost, and how much work may wait.

    ``queue_events`` bounds the decoded events waiting for the rules;
    ``max_inflight`` the requests being read or archived at once. Beyond
    either, requests get 503 with ``Retry-After: retry_after``. ``linger``:
    seconds the unread rest of a refused body is read and dropped, so that
    the client sees the 413 rather than a connection reset.
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    queue_events: int = 10000
    max_inflight: int = 16
    client_timeout: float = 30.0
    retry_after: int = 1
    drain_timeout: float = 30.0
    linger: float = 2.0


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``serve`` needs besides the rules and the alert sink."""

    listen: str = "http://:9765/k8s-audit"
    tls: TlsFiles | None = None
    token_file: str | None = None
    archive: ArchiveOptions | None = None
    limits: Limits = field(default_factory=Limits)
