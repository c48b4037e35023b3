"""What the package may say about an access token: a fingerprint that tells tokens apart, never the token."""

from __future__ import annotations

import hashlib


def token_fingerprint(token: str) -> str:
    """Return the first 12 hex digits of the token's SHA-256: names a token without revealing it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


__all__ = ["token_fingerprint"]
