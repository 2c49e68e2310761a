"""A stand-in for Microsoft Entra's key discovery: a real HTTP server on 127.0.0.1 serving a
JSON Web Key Set (``/discovery/v2.0/keys``), and the tokens Entra would issue, signed with
its private key, so Deskboard's checks run on real RS256 signatures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KID = "entra-test-key"


class FakeEntra:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.url = ""
        self.asked = 0

    def jwks(self) -> bytes:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}).encode()

    def token(
        self,
        *,
        oid: str,
        tid: str,
        aud: str,
        upn: str | None = None,
        issuer: str | None = None,
        lifetime: float = 3600,
        key: Any = None,
        **more: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": aud,
            "iss": issuer or f"https://login.microsoftonline.com/{tid}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": int(now + lifetime),
            "oid": oid,
            "tid": tid,
            "scp": "access_as_user",
            **more,
        }
        if upn is not None:
            claims["preferred_username"] = upn
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": KID})


@contextmanager
def fake_entra() -> Iterator[FakeEntra]:
    entra = FakeEntra()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/discovery/v2.0/keys":
                self.send_error(404)
                return
            entra.asked += 1
            body = entra.jwks()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    entra.url = f"http://127.0.0.1:{server.server_address[1]}/discovery/v2.0/keys"
    try:
        yield entra
    finally:
        server.shutdown()
        server.server_close()
