"""The server's TLS context: its certificate, and client certificates for mutual TLS.

With ``--client-ca`` the handshake asks for a client certificate and
verifies one that is sent; a client that sends none still gets through the
handshake so that the request can be refused with a counted 403 instead of
a bare connection reset (:func:`has_client_certificate`).
"""

from __future__ import annotations

import ssl
from typing import Any

from k8saudit_cli.serve.config import ServeError, TlsFiles


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A TLS 1.2+ server context; :class:`ServeError` names the file that cannot be used."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(files.cert, files.key)
    except (OSError, ssl.SSLError) as exc:
        where = files.cert if files.key is None else f"{files.cert} / {files.key}"
        raise ServeError(f"cannot load the TLS certificate and key from {where}: {exc}") from None
    if files.client_ca is not None:
        try:
            context.load_verify_locations(cafile=files.client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ServeError(f"cannot load --client-ca {files.client_ca}: {exc}") from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def has_client_certificate(transport: Any) -> bool:
    """Whether the peer of a connection presented a certificate the client CA verified."""
    if transport is None:
        return False
    return bool(transport.get_extra_info("peercert"))
