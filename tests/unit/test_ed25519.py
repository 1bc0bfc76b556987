"""The standard-library Ed25519 verifier that verify_pack.py carries agrees with the
`cryptography` library: every good signature verifies, every changed one fails."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.export import ed25519
from ledger.export.proof import pem_fingerprint
from ledger.export.signing import fingerprint, public_pem


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=8 * 64 - 1),
       seed=st.binary(min_size=32, max_size=32))
def test_it_agrees_with_the_cryptography_library(message: bytes, flip: int, seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    signature = key.sign(message)
    assert ed25519.verify(public, message, signature)
    changed = bytearray(signature)
    changed[flip // 8] ^= 1 << (flip % 8)
    assert not ed25519.verify(public, message, bytes(changed))
    assert not ed25519.verify(public, message + b"x", signature)
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert not ed25519.verify(other, message, signature)


def test_the_pem_key_and_its_fingerprint_are_read_as_openssl_writes_them() -> None:
    key = Ed25519PrivateKey.generate()
    pem = public_pem(key)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    assert ed25519.public_key_of_pem(pem) == raw
    assert pem_fingerprint(pem, "k") == fingerprint(pem)
    assert ed25519.public_key_of_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")\
        is None
    assert not ed25519.verify(b"\x00" * 31, b"", b"\x00" * 64)
    assert not ed25519.verify(raw, b"", b"\xff" * 64)  # s >= L
