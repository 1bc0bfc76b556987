"""RFC 3161 timestamps of the ledger's digest: a clock that the council does not hold.

A request asks a timestamp authority (TSA) to sign the digest's head link itself (a SHA-256
imprint whose hashedMessage is the link, as `openssl ts -query -digest HASH` writes it); a reply
is checked against that link and a certificate the auditor trusts. rfc3161-client parses the
reply and checks its CMS signature and chain (OpenSSL underneath); only the fixed 69-byte request
is encoded here. Pure: it imports neither the store nor the CLI.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import (
    PKIStatus,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from ledger.domain.errors import InvalidInputError, UntrustedTimestampError

# AlgorithmIdentifier {sha256, NULL}, byte for byte as `openssl ts -query -sha256` writes it
SHA256_ALGORITHM = bytes.fromhex("300d06096086480165030402010500")
HASHES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
          "2.16.840.1.101.3.4.2.3": "sha512", "1.3.14.3.2.26": "sha1"}
STATUSES = ("granted", "grantedWithMods", "rejection", "waiting", "revocationWarning",
            "revocationNotification")
LONGEST_TEXT = 200  # characters of a reply's own text (status, names) that an error line quotes


@dataclass(frozen=True)
class Reply:
    """What a TSA's reply says: its status and, when it carries a token, the imprint it
    stamped (algorithm, hex), its genTime and serial number. `tsa` is the signer's subject,
    filled in only by `check_reply`, once the signer is trusted."""

    status: int
    status_text: str = ""
    algorithm: str = ""
    imprint: str = ""
    gen_time: datetime | None = None
    serial: int | None = None
    tsa: str = ""

    @property
    def granted(self) -> bool:
        """True when the TSA granted the request as asked."""
        return self.status == PKIStatus.GRANTED


def timestamp_request(link_hex: str) -> bytes:
    """A DER TimeStampReq for a link: a SHA-256 imprint of its 32 bytes, a random nonce, and
    certReq true, so that the TSA puts its certificate in the reply."""
    hashed = _link_bytes(link_hex)
    # 62 random bits under a set 63rd: a positive INTEGER of exactly 8 bytes, as openssl's
    nonce = (secrets.randbits(62) | 1 << 62).to_bytes(8, "big")
    imprint = _der(0x30, SHA256_ALGORITHM + _der(0x04, hashed))
    return _der(0x30, _der(0x02, b"\x01") + imprint + _der(0x02, nonce) + _der(0x01, b"\xff"))


def read_reply(data: bytes) -> Reply:
    """What a TimeStampResp says, checked for form only; malformed bytes are refused."""
    return _parsed(data)[1]


def check_reply(data: bytes, link_hex: str, tsa_cert_pem: bytes) -> Reply:
    """The reply, once proven a TSA's word that `link_hex` existed by its genTime: granted,
    signed by a timestamping certificate that is the trusted one or issued by it (a PEM
    file may hold several; DER holds one), the signature verifying, the imprint the link.
    A reply that fails is an `UntrustedTimestampError` naming what failed."""
    expected = _link_bytes(link_hex)
    trusted = _certificates(tsa_cert_pem)
    response, reply = _parsed(data)
    if not reply.granted:
        said = f" ({reply.status_text})" if reply.status_text else ""
        status = STATUSES[reply.status] if 0 <= reply.status < len(STATUSES) else reply.status
        raise UntrustedTimestampError("not granted", f"the TSA answered {status}{said}: the "
                                      f"reply holds no timestamp for the digest")
    signer, carried = _signer(response, trusted)
    _check_signature(response, signer, carried, trusted)
    if reply.algorithm != "sha256" or response.tst_info.message_imprint.message != expected:
        raise UntrustedTimestampError("imprint differs", f"the reply stamps {reply.algorithm} "
                                      f"{reply.imprint[:16]}…, the digest's hash is "
                                      f"{link_hex[:16]}…: it is a timestamp of something else")
    return replace(reply, tsa=_printable(signer.subject.rfc4514_string()))


def _parsed(data: bytes) -> tuple[TimeStampResponse, Reply]:
    """Every field the checks read, read now, so that bad DER fails here and only here."""
    try:
        response = decode_timestamp_response(data)
        reply = Reply(response.status, _printable("; ".join(response.status_string)))
        if response.status in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
            info = response.tst_info
            oid = info.message_imprint.hash_algorithm.dotted_string
            reply = replace(reply, algorithm=HASHES.get(oid, oid),
                            imprint=info.message_imprint.message.hex(),
                            gen_time=info.gen_time, serial=info.serial_number)
            _ = [(s.issuer, s.serial_number) for s in response.signed_data.signer_infos]
            _ = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    # rfc3161-client and cryptography raise ValueError on bad DER, KeyError on some bad names
    except (ValueError, KeyError) as exc:
        why = _printable(str(exc))
        if "InvalidSetOrdering" in why:  # a BER SET, as OpenSSL writes a carried chain
            why = f"its certificates are not in DER order (strict DER is required): {why}"
        msg = f"not a timestamp reply: {why}"
        raise InvalidInputError(msg) from None
    return response, reply


def _signer(response: TimeStampResponse,
            trusted: list[x509.Certificate]) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The certificate the one SignerInfo names (from the reply, else from the trusted file),
    checked to be trusted or issued by a trusted one, and for timestamping; with the reply's
    certificates."""
    infos = list(response.signed_data.signer_infos)
    if len(infos) != 1:
        raise UntrustedTimestampError("signature", f"{len(infos)} signers, not one")
    carried = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    named = [c for c in (carried or trusted)
             if c.issuer == infos[0].issuer and c.serial_number == infos[0].serial_number]
    if len(named) != 1:
        issuer = _printable(infos[0].issuer.rfc4514_string())
        raise UntrustedTimestampError("untrusted signer", f"{len(named)} certificates match the "
                                      f"signer (serial {infos[0].serial_number} of {issuer})")
    signer = named[0]
    subject = _printable(signer.subject.rfc4514_string())
    if signer not in trusted and not any(_issued_by(signer, c) for c in trusted):
        issuer = _printable(signer.issuer.rfc4514_string())
        raise UntrustedTimestampError("untrusted signer", f"{subject} (issued by {issuer}) is "
                                      f"neither the trusted certificate nor issued by it")
    try:
        usage = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.critical or ExtendedKeyUsageOID.TIME_STAMPING not in usage.value:
        raise UntrustedTimestampError("untrusted signer", f"{subject} is not for timestamping "
                                      f"(no critical timeStamping extended key usage)")
    return signer, carried


def _check_signature(response: TimeStampResponse, signer: x509.Certificate,
                     carried: list[x509.Certificate], trusted: list[x509.Certificate]) -> None:
    """OpenSSL's PKCS7_verify through rfc3161-client: the signature over the TSTInfo, the chain
    to a trusted root at genTime, the signer's certificate the one named."""
    roots = list(trusted)
    if signer in trusted and not _issued_by(signer, signer):
        # The auditor pinned the TSA's own certificate: that is the trust. OpenSSL still wants
        # a chain to a self-signed root, which the reply may carry.
        roots += [c for c in carried if c not in roots and _issued_by(signer, c)]
        if len(roots) == len(trusted) and not any(_issued_by(signer, c) for c in trusted):
            msg = ("the trusted certificate is the TSA's own, and neither it nor the reply holds "
                   "the CA that issued it, which OpenSSL needs: give that CA too")
            raise InvalidInputError(msg)
    builder = VerifierBuilder().tsa_certificate(signer)
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        # the imprint is compared by check_reply after this, so that a well-signed reply for
        # another digest is named as such and not as a bad signature
        builder.build().verify(response, response.tst_info.message_imprint.message)
    except VerificationError as exc:
        raise UntrustedTimestampError(*_named(str(exc))) from None


def _named(message: str) -> tuple[str, str]:
    """What failed, from rfc3161-client's message (OpenSSL's error stack, when it has one)."""
    if "ErrorStack" not in message:
        return "untrusted signer", _printable(message)
    if "certificate verify error" in message:
        found = re.search(r'Verify error: ?([^"]*)"', message)
        why = found.group(1) if found else "the chain does not verify"
        return "untrusted signer", (f"the TSA's certificate does not chain to the trusted one "
                                    f"at genTime (OpenSSL: {why})")
    reasons = re.findall(r'reason: "([^"]*)"', message)
    why = reasons[0] if reasons else "signature failure"
    return "signature", f"the TSA's signature does not verify over the reply (OpenSSL: {why})"


def _certificates(data: bytes) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        msg = f"not a certificate (PEM or DER): {_printable(str(exc))}"
        raise InvalidInputError(msg) from None


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _link_bytes(link_hex: str) -> bytes:
    if not re.fullmatch(r"[0-9a-f]{64}", link_hex):
        msg = f"not a link (64 lowercase hex digits): {link_hex[:70]!r}"
        raise InvalidInputError(msg)
    return bytes.fromhex(link_hex)


def _der(tag: int, content: bytes) -> bytes:
    """One DER element; every element of the request is under 128 bytes (short form)."""
    return bytes([tag, len(content)]) + content


def _printable(text: str) -> str:
    """A reply's own text, safe for one line on a terminal."""
    return "".join(c if c.isprintable() else "?" for c in text)[:LONGEST_TEXT]
