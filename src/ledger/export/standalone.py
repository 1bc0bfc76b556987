"""verify_pack.py: the pack's own verifier, one file an auditor runs with `python3 -I` alone.

It carries the source of the ledger's pure modules (the proof, the folds, the report) and a
few lines standing in for the event-sourcing library's event base class, and runs exactly the
checks `ledger verify-pack` runs for integrity. The file is the same for every pack a given
version of the ledger writes, so its SHA-256 can be published once and compared.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# The pure modules the proof needs, in the ledger's own source.
MODULES = (
    "ledger", "ledger.domain", "ledger.domain.errors", "ledger.domain.values",
    "ledger.domain.words", "ledger.domain.ids", "ledger.domain.events", "ledger.domain.state",
    "ledger.domain.chain", "projections", "projections.status_summary",
    "projections.current_plan", "projections.monthly_snapshots", "projections.slippage_history",
    "projections.change_log", "ledger.export", "ledger.export.flat", "ledger.export.files",
    "ledger.export.sheets", "ledger.export.chart", "ledger.export.report",
    "ledger.export.ed25519", "ledger.export.proof",
)

# What the domain's events use of the event-sourcing library: a base class whose subclasses
# are frozen dataclasses with the library's three fields, and a topic registry.
SHIMS = {
    "eventsourcing": (True, '"""Stand-in for the event-sourcing library (events only)."""\n'),
    "eventsourcing.utils": (False, (
        '"""Stand-in: the topic registry (the proof maps topics to classes itself)."""\n'
        "def register_topic(topic, cls):\n    del topic, cls\n")),
    "eventsourcing.domain": (False, (
        '"""Stand-in: events are frozen dataclasses, as the library makes them."""\n'
        "import dataclasses\nfrom datetime import datetime\nfrom uuid import UUID\n\n\n"
        "class Aggregate:\n"
        "    @dataclasses.dataclass(frozen=True, kw_only=True)\n"
        "    class Event:\n"
        "        originator_id: UUID\n"
        "        originator_version: int\n"
        "        timestamp: datetime\n\n"
        "        def __init_subclass__(cls, **kwargs):\n"
        "            super().__init_subclass__(**kwargs)\n"
        "            dataclasses.dataclass(frozen=True, kw_only=True)(cls)\n\n"
        "    class Created(Event):\n"
        "        pass\n")),
}

PROLOGUE = '''#!/usr/bin/env python3
"""Check a ledger evidence pack without the ledger: python3 -I verify_pack.py PACK_DIR

Standard library only (Python 3.11 or later). Checks every file against manifest.json and
SHA256SUMS, recomputes every event's content hash and every link of the chain from genesis
to the head, compares the head with the pack's digest, proves that no event of the plan's
streams was left out, and recomputes every derived file (the CSVs, the report) from the
events. With --key (the council's public key, obtained by you, not the one in the pack) or
--fingerprint (the one the council published), it also checks that the pack is signed by
that key: the fingerprint of signer.pub.pem, and the Ed25519 signature of manifest.json
(RFC 8032, in Python). openssl checks the same signature:
    openssl pkeyutl -verify -pubin -inkey COUNCIL.pub.pem -rawin \\\\
        -in manifest.json -sigfile manifest.json.sig
Exit codes: 0 intact and signed by the key you named; 1 tampered (the first problem is
named) or not signed by that key; 2 not a pack it can read; 3 intact, but who signed is
not established (no key or fingerprint named).

This file carries the source of the ledger's own pure modules (below), so it checks exactly
what the ledger derives. Compare its SHA-256 with the one the ledger publishes for its
version (`ledger verify-pack` does): a pack may carry a forged verifier.
"""

import importlib.abc
import importlib.util
import sys
from pathlib import Path

SOURCES = '''

EPILOGUE = '''


class _Embedded(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the modules above from this file, never from the disk."""

    def find_spec(self, name, path=None, target=None):
        del path, target
        if name not in SOURCES:
            return None
        return importlib.util.spec_from_loader(name, self, is_package=SOURCES[name][0])

    def create_module(self, spec):
        del spec

    def exec_module(self, module):
        is_package, source = SOURCES[module.__name__]
        if is_package:
            module.__path__ = []
        exec(compile(source, f"<verify_pack:{module.__name__}>", "exec"), module.__dict__)


USAGE = "usage: python3 -I verify_pack.py PACK_DIR [--key PUB.pem | --fingerprint SHA256:HEX]"


def main(argv):
    args = argv[1:]
    if len(args) not in (1, 3) or args[0].startswith("-") or \
            (len(args) == 3 and args[1] not in ("--key", "--fingerprint")):
        print(USAGE, file=sys.stderr)
        return 2
    sys.meta_path.insert(0, _Embedded())
    from ledger.export.proof import (
        PDF_NOTE,
        MalformedPack,
        check_pack,
        named_signer,
        pem_fingerprint,
    )
    from ledger.domain.words import shown

    directory = Path(args[0])
    try:
        found = check_pack(directory)
        signer = None
        if len(args) == 3 and args[1] == "--key":
            signer = pem_fingerprint(Path(args[2]).read_bytes(), args[2])
        elif len(args) == 3:
            signer = args[2]
        if signer is not None and not found.problems:
            found.problems += named_signer(directory, signer)
    except (MalformedPack, OSError) as exc:
        print(shown(f"error: {exc}"), file=sys.stderr)
        return 2
    if found.problems:
        for problem in found.problems:
            print(shown(f"tampered: {problem}"), file=sys.stderr)
        return 1
    print("intact:")
    print(f"  {found.events} events of the plan, {found.positions} positions of the chain to "
          f"the digest's head at {found.head.position}")
    print("  every derived file agrees with the events")
    if (directory / "report.pdf").exists():
        print(PDF_NOTE)
    if signer is None:
        print("who signed: not established (name the signer with --key or --fingerprint)")
        return 3
    print(f"signed by the key you named ({signer})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''


def _source(name: str) -> tuple[bool, str]:
    spec = importlib.util.find_spec(name)
    assert spec is not None, name
    assert spec.origin is not None, name
    return spec.submodule_search_locations is not None, Path(spec.origin).read_text("utf-8")


def verifier_source() -> str:
    """The text of verify_pack.py (the same for every pack of this version)."""
    sources = {**SHIMS, **{name: _source(name) for name in MODULES}}
    body = "{\n" + "".join(f"    {name!r}: ({pkg!r}, {text!r}),\n"
                           for name, (pkg, text) in sources.items()) + "}"
    return PROLOGUE + body + EPILOGUE
