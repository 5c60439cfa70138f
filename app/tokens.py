"""flask-jwt-extended's JWTManager, remembering the bearer tokens it has already verified.

A verified token's claims are kept, keyed by the whole token string (signature included) and the
settings it was verified under, and its time claims are checked again on every use; revocation and
the account are still read from the database on every request (app/accounts/sessions.py). Expired,
refused and CSRF-checked decodes are never kept. Why: docs/decisions/0008-verified-token-cache.md.
"""

import threading
import time
from datetime import timedelta

from cachetools import TLRUCache
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config


def _seconds(leeway) -> float:
    return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway or 0)


class CachingJWTManager(JWTManager):
    MAX_ENTRIES = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (claims, not before, expires) by token; an entry leaves when its token expires, or as the
        # least recently used one when the cache is full.
        self._verified = TLRUCache(self.MAX_ENTRIES, ttu=lambda _key, entry, _now: entry[2], timer=time.time)
        self._lock = threading.Lock()

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        key = (
            encoded_token,
            config.decode_key,
            tuple(config.decode_algorithms),
            str(config.decode_audience),
            config.decode_issuer,
        )
        leeway = _seconds(config.leeway)
        now = time.time()
        with self._lock:
            cached = self._verified.get(key)
        if cached is not None:
            claims, not_before, expires = cached
            if not_before <= now + leeway and expires > now - leeway:
                return dict(claims)
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if "exp" not in claims:  # a token that never expires is never remembered
            return claims
        not_before = max(int(claims.get("nbf", 0)), int(claims.get("iat", 0)))
        with self._lock:
            self._verified[key] = (dict(claims), not_before, int(claims["exp"]))
        return claims
