"""Bearer tokens from ``--auth-token-file``, checked in constant time and never logged.

The file has one token per line; blank lines and ``#`` comments are
ignored, and only the first comma-separated field counts, so the API
server's static token CSV (``token,user,uid,"groups"``) works as is.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from k8saudit_cli.serve.config import ServeError

Verdict = Literal["ok", "missing", "invalid"]


def _digest(token: str) -> bytes:
    # Comparing fixed-size digests hides the length of the tokens as well.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class TokenSet:
    """The accepted tokens, kept only as digests."""

    def __init__(self, tokens: list[str]) -> None:
        if not tokens:
            raise ServeError("the token file holds no token")
        self._digests = [_digest(t) for t in tokens]

    @classmethod
    def from_file(cls, path: str) -> TokenSet:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ServeError(f"cannot read --auth-token-file {path}: {exc}") from None
        return cls(parse_tokens(text))

    def check(self, authorization: str | None) -> Verdict:
        """``ok`` for ``Bearer <a known token>``; compares against every token, always."""
        token = bearer_token(authorization)
        if token is None:
            return "missing"
        given = _digest(token)
        found = False
        for digest in self._digests:
            found |= hmac.compare_digest(digest, given)
        return "ok" if found else "invalid"


def parse_tokens(text: str) -> list[str]:
    tokens = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            token = line.split(",", 1)[0].strip()
            if token:
                tokens.append(token)
    return tokens


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
