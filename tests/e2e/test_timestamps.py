"""RFC 3161 timestamps of the digest, end to end, with no network and no mocks.

A throwaway CA and timestamp authority (TSA) are made with the `openssl` binary; the real
September 2018 edition is imported through the real CLI; `ledger digest --tsq` writes the
request, `openssl ts -reply` answers it, and `ledger verify --tsr` checks the answer, as
`openssl ts -verify` does. Each attack is a real reply or file, altered as a forger would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.application.timestamps import timestamp_request
from tests.conftest import Cli
from tests.editions import SEPTEMBER

EXTENSIONS = """\
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

TS_CONFIG = """\
[tsa]
default_tsa = here
[here]
serial = {dir}/serial
crypto_device = builtin
signer_cert = {cert}
certs = {chain}
signer_key = {key}
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_alg = sha256
ess_cert_id_chain = no
"""


def openssl(*args: str | Path, cwd: Path | None = None) -> str:
    """The `openssl` binary; its output (stdout and stderr: `ts -verify` prints to both)."""
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True,
                          check=True, cwd=cwd)
    return done.stdout + done.stderr


@dataclass(frozen=True)
class Authority:
    """A local TSA: the CA that issued its certificate, its certificate, its `ts` config."""

    ca: Path
    cert: Path
    config: Path

    def reply(self, query: Path, out: Path) -> Path:
        """The TSA's answer to a request file."""
        openssl("ts", "-reply", "-queryfile", query, "-config", self.config, "-out", out)
        return out

    def another_tsa(self, name: str, kind: tuple[str, ...] = ("ec", "-pkeyopt",
                                                          "ec_paramgen_curve:P-256"),
                    *, chain: bool = True) -> Authority:
        """A second TSA whose certificate the same CA issues; without `chain`, its replies
        carry its own certificate only."""
        return _tsa(self.ca.parent, name, self.ca, kind, chain=chain)


def make_authority(directory: Path, ca_name: str = "Audit Test CA",
                   tsa_name: str = "Audit Test TSA") -> Authority:
    """A CA (RSA 3072) and a TSA (P-256) it certifies for timestamping only. The TSA's
    certificate is the smaller, so a reply carrying both lists them in DER order."""
    directory.mkdir()
    (directory / "x509.cnf").write_text(EXTENSIONS, encoding="utf-8")
    openssl("req", "-x509", "-newkey", "rsa:3072", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "30", "-subj", f"/CN={ca_name}", "-config", "x509.cnf",
            "-extensions", "ca", cwd=directory)
    return _tsa(directory, tsa_name, directory / "ca.pem")


def _tsa(directory: Path, name: str, ca: Path,
         kind: tuple[str, ...] = ("ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
         *, chain: bool = True) -> Authority:
    stem = name.lower().replace(" ", "-")
    key, cert = directory / f"{stem}.key", directory / f"{stem}.pem"
    openssl("req", "-new", "-newkey", *kind, "-nodes", "-keyout", key, "-out", f"{stem}.csr",
            "-subj", f"/CN={name}", cwd=directory)
    openssl("x509", "-req", "-in", f"{stem}.csr", "-CA", ca, "-CAkey", "ca.key",
            "-CAcreateserial", "-out", cert, "-days", "30", "-extfile", "x509.cnf",
            "-extensions", "tsa", cwd=directory)
    (directory / "serial").write_text("01\n", encoding="utf-8")
    config = directory / f"{stem}.cnf"
    text = TS_CONFIG.format(dir=directory, cert=cert, chain=ca, key=key)
    config.write_text(text if chain else text.replace(f"certs = {ca}\n", ""), encoding="utf-8")
    return Authority(ca, cert, config)


@dataclass(frozen=True)
class Scene:
    """One imported ledger, its digest and request, a TSA and its reply to that request."""

    cli: Cli
    directory: Path
    digest: Path
    query: Path
    reply: Path
    tsa: Authority

    @property
    def taken(self) -> dict[str, object]:
        """The digest as the auditor keeps it."""
        return dict(json.loads(self.digest.read_text(encoding="utf-8")))

    @property
    def link(self) -> str:
        """The digest's head link, the hash the TSA is asked to stamp."""
        return str(self.taken["hash"])

    def verify(self, *, digest: Path | None = None, reply: Path | None = None,
               trusted: Path | None = None, code: int = 0) -> str:
        """`ledger verify --digest --tsr --tsa-cert`, the auditor's check."""
        return self.cli("verify", "--events-only", "--digest", str(digest or self.digest),
                        "--tsr", str(reply or self.reply),
                        "--tsa-cert", str(trusted or self.tsa.ca), code=code)

    def altered(self, name: str, data: bytes) -> Path:
        """A file of the forger's, beside the real ones."""
        path = self.directory / name
        path.write_bytes(data)
        return path


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    """The real September edition imported on SQLite (the timestamp touches no store: the
    chain behind `verify --digest` is tested on both backends elsewhere), its digest taken
    with a request, and a local TSA's reply."""
    directory = tmp_path_factory.mktemp("timestamps")
    cli = Cli(f"sqlite:///{directory / 'ledger.db'}")
    cli("init")
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    digest, query = directory / "digest.json", directory / "digest.tsq"
    printed = cli("digest", "--out", str(digest), "--tsq", str(query))
    assert json.loads(printed) == json.loads(digest.read_text(encoding="utf-8"))
    tsa = make_authority(directory / "pki")
    return Scene(cli, directory, digest, query, tsa.reply(query, directory / "digest.tsr"), tsa)


def refused(err: str) -> str:
    """The one line of a refusal, checked to be one line."""
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_the_request_is_one_openssl_reads_as_a_sha256_imprint_of_the_head_link(
        scene: Scene) -> None:
    """`openssl ts -query -in -text` reads our request: SHA-256, the link's 32 bytes as the
    message, certificate required, a nonce; a second request has another nonce."""
    text = openssl("ts", "-query", "-in", scene.query, "-text")
    assert "Hash Algorithm: sha256" in text
    assert "Certificate required: yes" in text
    dump = re.findall(r"^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){16})", text, re.MULTILINE)
    assert "".join(dump).replace(" ", "").replace("-", "") == scene.link
    nonce = re.search(r"Nonce: (0x[0-9A-F]+)", text)
    assert nonce is not None
    again = scene.directory / "again.tsq"
    scene.cli("digest", "--tsq", str(again))
    assert f"Nonce: {nonce.group(1)}" not in openssl("ts", "-query", "-in", again, "-text")
    assert len(scene.query.read_bytes()) == 69  # fixed: an 8-byte nonce, as openssl's


def test_a_tsa_reply_verifies_and_gives_the_tsas_time_for_the_head(scene: Scene) -> None:
    """The round trip: exit 0, the chain intact, and the TSA's genTime (the one openssl reads
    in the reply) and subject for the digest's position."""
    out = scene.verify()
    stamped = re.search(r"Time stamp: (\w+ +\d+ [\d:]+ \d{4}) GMT",
                        openssl("ts", "-reply", "-in", scene.reply, "-text"))
    assert stamped is not None
    gen_time = datetime.strptime(stamped.group(1), "%b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    assert f"intact: {scene.taken['position']} events" in out
    assert (f"timestamped: the ledger's head at position {scene.taken['position']} existed by "
            f"{gen_time.isoformat()}, per CN=Audit Test TSA") in out


def test_openssl_verifies_the_same_reply_for_the_digests_hash(scene: Scene) -> None:
    """Interoperability: `openssl ts -verify -digest HASH` accepts the reply, and refuses it
    for another hash, as the ledger does."""
    verify = ("ts", "-verify", "-in", scene.reply, "-CAfile", scene.tsa.ca,
              "-untrusted", scene.tsa.cert)
    assert "Verification: OK" in openssl(*verify, "-digest", scene.link)
    with pytest.raises(subprocess.CalledProcessError):
        openssl(*verify, "-digest", "0" * 64)


def test_the_tsas_own_certificate_can_be_the_trusted_one(scene: Scene) -> None:
    """Pinning the TSA's certificate, not its CA, verifies the same reply."""
    assert "existed by" in scene.verify(trusted=scene.tsa.cert)


def test_a_reply_for_another_digest_is_refused_as_imprint_differs(scene: Scene) -> None:
    """A genuine, well-signed reply stamping another hash proves nothing about this head."""
    other = scene.directory / "other.tsq"
    openssl("ts", "-query", "-digest", "ab" * 32, "-sha256", "-cert", "-out", other)
    reply = scene.tsa.reply(other, scene.directory / "other.tsr")
    err = refused(scene.verify(reply=reply, code=1))
    assert "timestamp refused: imprint differs: the reply stamps sha256 abababab" in err
    assert scene.link[:16] in err


def test_a_digest_whose_hash_was_edited_does_not_match_its_reply(scene: Scene) -> None:
    """A council that edits the digest's hash (to claim another head existed then) is caught
    by the reply, before the chain is even walked."""
    taken = scene.taken
    taken["hash"] = scene.link[:-1] + ("0" if scene.link[-1] != "0" else "1")
    edited = scene.altered("edited.json", json.dumps(taken).encode())
    err = refused(scene.verify(digest=edited, code=1))
    assert "imprint differs" in err


@pytest.mark.parametrize("trusted", ["ca", "tsa"])
def test_a_reply_signed_by_an_impostor_tsa_is_an_untrusted_signer(scene: Scene,
                                                                  trusted: str) -> None:
    """Another CA and TSA with the very same names sign a reply to our own request: trusting
    the real CA or the real TSA's certificate, it is refused."""
    impostor = make_authority(scene.directory / f"impostor-{trusted}")
    reply = impostor.reply(scene.query, scene.directory / f"impostor-{trusted}.tsr")
    pin = scene.tsa.ca if trusted == "ca" else scene.tsa.cert
    err = refused(scene.verify(reply=reply, trusted=pin, code=1))
    assert "timestamp refused: untrusted signer: CN=Audit Test TSA (issued by CN=Audit Test CA)"\
           " is neither the trusted certificate nor issued by it" in err


def test_a_pinned_tsa_refuses_another_tsa_of_the_same_ca(scene: Scene) -> None:
    """The CA trusts every TSA it certifies; pinning one TSA's certificate trusts only it."""
    sibling = scene.tsa.another_tsa("Sibling TSA")
    reply = sibling.reply(scene.query, scene.directory / "sibling.tsr")
    assert "per CN=Sibling TSA" in scene.verify(reply=reply)
    err = refused(scene.verify(reply=reply, trusted=scene.tsa.cert, code=1))
    assert "untrusted signer: CN=Sibling TSA" in err


def test_a_reply_carrying_only_the_tsas_certificate_needs_the_ca_to_be_trusted(
        scene: Scene) -> None:
    """The common reply carries the TSA's certificate alone: trusting the CA verifies it;
    pinning the TSA's certificate alone cannot anchor a chain, which is said (exit 2)."""
    alone = scene.tsa.another_tsa("Lone TSA", chain=False)
    reply = alone.reply(scene.query, scene.directory / "alone.tsr")
    assert "per CN=Lone TSA" in scene.verify(reply=reply)
    err = refused(scene.verify(reply=reply, trusted=alone.cert, code=2))
    assert "neither it nor the reply holds the CA that issued it" in err


def test_a_reply_whose_certificates_are_not_in_der_order_is_refused_not_trusted(
        scene: Scene) -> None:
    """OpenSSL writes a carried chain signer first; when the signer's certificate is the
    larger (RSA 4096 under an RSA 3072 CA) that SET is not DER, and the strict parser
    refuses it as input (exit 2): a known limit, on the safe side."""
    big = scene.tsa.another_tsa("Big TSA", ("rsa:4096",))
    reply = big.reply(scene.query, scene.directory / "big.tsr")
    assert "Verification: OK" in openssl("ts", "-verify", "-digest", scene.link, "-in", reply,
                                         "-CAfile", big.ca)
    err = refused(scene.verify(reply=reply, code=2))
    assert "its certificates are not in DER order (strict DER is required)" in err


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


@pytest.mark.parametrize(("where", "says"), [
    ("signature", "signature: the TSA's signature does not verify over the reply"),
    ("serial number", "signature: the TSA's signature does not verify over the reply"),
    ("nonce", "signature: the TSA's signature does not verify over the reply"),
    ("genTime's year", "untrusted signer: the TSA's certificate does not chain to the trusted "
                       "one at genTime"),
])
def test_one_flipped_bit_in_the_signature_or_the_tstinfo_is_refused(
        scene: Scene, where: str, says: str) -> None:
    """The signature is the reply's last byte; in the TSTInfo the serial number follows the
    imprint, the genTime the serial, and the request's nonce is echoed. One bit changed is a
    signature that fails; a year moved outside the TSA certificate's 30 days fails its chain
    first (OpenSSL checks it first). (A second moved earlier could also fall before the
    certificate's first second, so the time's own check is the year's.)"""
    data = scene.reply.read_bytes()
    serial = data.index(bytes.fromhex(scene.link)) + 32  # INTEGER: tag, length, value
    gen_time = serial + 2 + data[serial + 1]  # GeneralizedTime: 18 0f YYYYMMDDHHMMSSZ
    assert data[gen_time:gen_time + 2] == b"\x18\x0f"
    nonce = scene.query.read_bytes()[-11:-3]  # the request ends 02 08 NONCE 01 01 ff
    at = {"signature": len(data) - 1, "serial number": serial + 2,
          "nonce": data.index(nonce) + 7, "genTime's year": gen_time + 2 + 3}[where]
    flipped = _flip(data, at)
    assert not where.startswith("genTime") or flipped[at:at + 1].isdigit()  # still a time
    err = refused(scene.verify(reply=scene.altered(f"flipped-{where}.tsr", flipped), code=1))
    assert f"timestamp refused: {says}" in err


def test_a_rejected_request_is_not_granted(scene: Scene) -> None:
    """A TSA's refusal (here, of a SHA-1 request it does not accept) is no timestamp."""
    sha1 = scene.directory / "sha1.tsq"
    openssl("ts", "-query", "-digest", "ab" * 20, "-sha1", "-cert", "-out", sha1)
    reply = scene.tsa.reply(sha1, scene.directory / "rejected.tsr")
    err = refused(scene.verify(reply=reply, code=1))
    assert "timestamp refused: not granted: the TSA answered rejection" in err


@pytest.mark.parametrize(("reply", "trusted", "says"), [
    ("digest.json", "ca", "not a timestamp reply: ASN.1 parse error"),
    ("half", "ca", "not a timestamp reply: ASN.1 parse error"),
    ("missing.tsr", "ca", "cannot read"),
    ("digest.tsr", "digest.json", "not a certificate (PEM or DER)"),
    ("digest.tsr", "digest.tsr", "not a certificate (PEM or DER)"),
    ("digest.tsr", "missing.pem", "cannot read"),
])
def test_malformed_replies_and_certificates_are_one_line_exit_2(
        scene: Scene, reply: str, trusted: str, says: str) -> None:
    """Files that are not what they claim are refused as input (exit 2), not as evidence."""
    if reply == "half":
        data = scene.reply.read_bytes()
        scene.altered(reply, data[:len(data) // 2])
    pin = scene.tsa.ca if trusted == "ca" else scene.directory / trusted
    assert says in refused(scene.verify(reply=scene.directory / reply, trusted=pin, code=2))


@pytest.mark.parametrize("left_out", ["--tsa-cert", "--digest", "--tsr"])
def test_a_reply_needs_its_digest_and_a_trusted_certificate(scene: Scene,
                                                            left_out: str) -> None:
    """--tsr without --tsa-cert or --digest (or --tsa-cert alone) checks nothing: exit 2."""
    given = {"--digest": str(scene.digest), "--tsr": str(scene.reply),
             "--tsa-cert": str(scene.tsa.ca)}
    del given[left_out]
    err = refused(scene.cli("verify", *[x for pair in given.items() for x in pair], code=2))
    assert "--tsr needs --tsa-cert and --digest" in err


def test_a_request_is_never_written_over_a_file(scene: Scene) -> None:
    """An existing --tsq file is refused (exit 2) and left as it was."""
    kept = scene.altered("kept.tsq", b"the auditor's own file")
    err = refused(scene.cli("digest", "--tsq", str(kept), code=2))
    assert "exists: a timestamp request is never written over another" in err
    assert kept.read_bytes() == b"the auditor's own file"


def test_ledger_help_does_not_load_the_timestamp_library() -> None:
    """The CLI starts without rfc3161-client: it is imported by the commands that use it."""
    done = subprocess.run([sys.executable, "-c", "import sys, ledger.cli.app; "
                           "print(sorted(m for m in sys.modules if m.startswith('rfc3161')))"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_pack_carries_the_reply_and_verify_pack_checks_it(scene: Scene,
                                                            tmp_path: Path) -> None:
    """`export --tsr`: the pack holds digest.tsr and names the position it stamps; verify-pack
    with --tsa-cert checks it and says what it proves; an impostor TSA's certificate fails it;
    a reply for a link the chain does not hold is refused at export (nothing written)."""
    scene.cli("--plan", "cgip-2018", "update", "1.3", "A later update")  # the head moves on
    pack = tmp_path / "pack"
    said = scene.cli("--plan", "cgip-2018", "export", "--out", str(pack), "--no-pdf", "--tsr",
                     str(scene.reply))
    assert "wrote" in said
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["timestamp"] == {"file": "digest.tsr", "position": scene.taken["position"],
                                     "hash": scene.link}
    assert (pack / "digest.tsr").read_bytes() == scene.reply.read_bytes()
    out = scene.cli("verify-pack", str(pack), "--tsa-cert", str(scene.tsa.ca), code=3)
    assert "who signed is not established" in out
    shown = scene.cli("verify-pack", str(pack), "--tsa-cert", str(scene.tsa.ca),
                      "--fingerprint", "SHA256:" + "0" * 64, code=1)
    assert "not signed, but you named a signer" in shown
    impostor = make_authority(tmp_path / "impostor")
    err = scene.cli("verify-pack", str(pack), "--tsa-cert", str(impostor.ca), code=1)
    assert "digest.tsr: timestamp refused: untrusted signer" in err
    done = subprocess.run(["/usr/bin/python3", "-I", str(pack / "verify_pack.py"), str(pack)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 3, done.stderr
    other = tmp_path / "other.tsq"
    other.write_bytes(timestamp_request("ab" * 32))
    bad = scene.tsa.reply(other, tmp_path / "other.tsr")
    err = scene.cli("--plan", "cgip-2018", "export", "--out", str(tmp_path / "p2"),
                    "--no-pdf", "--tsr", str(bad), code=2)
    assert "which is no link of this ledger's chain" in err
    assert not (tmp_path / "p2").exists()
