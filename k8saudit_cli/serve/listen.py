"""The ``--listen`` URL, in the syntax of Falco's k8saudit plugin: ``http://HOST:PORT/PATH``.

An empty host means every interface (``http://:9765/k8s-audit``, the
plugin's default). Port 0 asks the OS for a free port (for tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from k8saudit_cli.serve.config import ServeError

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ListenAddress:
    scheme: str
    host: str | None
    port: int
    path: str

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    def url(self, host: str | None = None, port: int | None = None) -> str:
        """The URL clients use; ``host``/``port`` say where the socket really is bound."""
        shown = host or self.host or "0.0.0.0"
        if ":" in shown:
            shown = f"[{shown}]"
        return f"{self.scheme}://{shown}:{self.port if port is None else port}{self.path}"


def parse_listen(text: str) -> ListenAddress:
    """``http[s]://[HOST][:PORT][/PATH]`` -> its parts; :class:`ServeError` when malformed."""
    parts = urlsplit(text)
    if parts.scheme not in DEFAULT_PORTS:
        raise ServeError(f"--listen '{text}': the scheme is http or https")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ServeError(f"--listen '{text}': only host, port and path are allowed")
    try:
        port = parts.port
    except ValueError:
        raise ServeError(f"--listen '{text}': the port is a number from 0 to 65535") from None
    return ListenAddress(
        scheme=parts.scheme,
        host=parts.hostname or None,
        port=DEFAULT_PORTS[parts.scheme] if port is None else port,
        path=parts.path or "/",
    )
