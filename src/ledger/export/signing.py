"""Ed25519 signatures of the manifest that standard tools verify (`openssl pkeyutl -verify`).

Uses the `cryptography` library: a detached raw signature (`manifest.json.sig`)
and the signer's public key in PEM (`signer.pub.pem`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.domain.errors import InvalidInputError


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (as `openssl genpkey -algorithm ed25519` makes)."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        msg = f"{path}: not a readable PEM private key: {exc}"
        raise InvalidInputError(msg) from None
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{path}: the key is not Ed25519"
        raise InvalidInputError(msg)
    return key


def public_pem(key: Ed25519PrivateKey) -> bytes:
    """The public half of a private key, in PEM (SubjectPublicKeyInfo)."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def sign(key: Ed25519PrivateKey, data: bytes) -> tuple[bytes, bytes]:
    """The signature of `data`, and the public key in PEM."""
    return key.sign(data), public_pem(key)


def fingerprint(public: bytes, where: str = "the key") -> str:
    """A public key's fingerprint: `SHA256:` and the SHA-256 of its DER SubjectPublicKeyInfo,
    what `openssl pkey -pubin -in KEY.pem -outform DER | sha256sum` prints. Accepts a public
    or a private key in PEM (the private key's public half)."""
    try:
        key = serialization.load_pem_public_key(public)
    except ValueError:
        try:
            private = serialization.load_pem_private_key(public, password=None)
        except (ValueError, TypeError) as exc:
            msg = f"{where}: not a PEM key: {exc}"
            raise InvalidInputError(msg) from None
        key = private.public_key()
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + hashlib.sha256(der).hexdigest()


def check_signature(public_pem: bytes, data: bytes, signature: bytes) -> bool:
    """Whether `signature` is the public key's signature of `data`."""
    try:
        key = serialization.load_pem_public_key(public_pem)
    except ValueError:
        return False
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
