"""Workload identity federation: the emulator plays the external identity provider and Entra's exchange.

A workload on Kubernetes or in a CI job holds no secret: its platform (the issuer) projects a short-lived signed
JWT into a file, and Entra trusts that issuer for one subject through the app's *federated identity credential*.
azure-identity's ``WorkloadIdentityCredential`` sends the file's token as the ``client_assertion`` of a
client-credentials request. Here ``FederatedIssuer.mint`` writes such a token (RS256, signed with a key the
emulator made) and ``verify`` checks an assertion as Entra would: signature, issuer, subject, audience, lifetime.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The audience Entra expects of a federated token (the default of every federated identity credential).
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The subject a Kubernetes service account's token carries, as an app's federated credential names it.
DEFAULT_SUBJECT = "system:serviceaccount:pimlens:pimlens-reader"


class AssertionRejected(Exception):
    """Why an assertion is not accepted, in Entra's words (AADSTS code and text)."""

    def __init__(self, aadsts: int, description: str) -> None:
        super().__init__(description)
        self.aadsts = aadsts
        self.description = description


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FederatedIssuer:
    issuer: str
    subject: str = DEFAULT_SUBJECT

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def mint(self, *, subject: str | None = None, lifetime_s: int = 3600, audience: str = EXCHANGE_AUDIENCE) -> str:
        """A token as the platform projects it into the workload's file."""
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": "pimlens-emulator"}
        claims = {
            "iss": self.issuer,
            "sub": subject or self.subject,
            "aud": [audience],
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
        }
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def verify(self, assertion: str, client_id: str) -> None:
        """Raises AssertionRejected unless ``assertion`` is this issuer's token for the trusted subject."""
        try:
            header_part, claims_part, signature_part = assertion.split(".")
            header, claims = orjson.loads(_unb64(header_part)), orjson.loads(_unb64(claims_part))
            signature = _unb64(signature_part)
        except (ValueError, orjson.JSONDecodeError):
            raise AssertionRejected(50027, "JWT token is invalid or malformed.") from None
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            raise AssertionRejected(50027, "JWT token is invalid or malformed.")
        try:
            self._key.public_key().verify(
                signature, f"{header_part}.{claims_part}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            raise AssertionRejected(700027, "Client assertion failed signature validation.") from None
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences or []
        if claims.get("iss") != self.issuer or claims.get("sub") != self.subject or EXCHANGE_AUDIENCE not in audiences:
            raise AssertionRejected(
                700213,
                f"No matching federated identity record found for presented assertion subject '{claims.get('sub')}'"
                f" and issuer '{claims.get('iss')}' on application '{client_id}'.",
            )
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise AssertionRejected(700024, "Client assertion is not within its valid time range.")
