"""Every event of the real seed documents is stored, and sealed, with the very bytes the
standard-library encoders write: the orjson transcoder and canonical encoding change speed,
not one stored byte or seal (so evidence packs and ledgers written before still verify)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from ledger.bootstrap import bootstrap
from ledger.domain.chain import Seal, canonical, content_hash, seal
from ledger.store.fastjson import OrjsonMapper, OrjsonTranscoder, canonical_fast, seal_rows
from tests.conftest import Cli, Prepared
from tests.e2e.test_queries import both_imported


@pytest.fixture
def imported(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """The September 2018 edition and the 2015 action plan, imported."""
    with prepared.copy(both_imported, backend, tmp_path) as cli:
        yield cli


def test_every_seed_event_encodes_to_its_stored_bytes_with_either_encoder(imported: Cli) -> None:
    """Each stored event of the seeds, decoded and encoded again, gives its stored bytes
    through the library's `json` transcoder and through orjson (which writes it itself, not
    by falling back; the ledger's mapper gives the library mapper's whole stored event), and
    its canonical bytes and seal's content hash are the same both ways; the seeds' text with
    quotes and dashes is among them."""
    with bootstrap(imported.db) as services:
        app = services.ledger.app
        assert isinstance(app.mapper, OrjsonMapper)
        transcoder = app.mapper.transcoder
        assert isinstance(transcoder, OrjsonTranscoder)
        stdlib = JSONTranscoder()
        app.register_transcodings(stdlib)
        old: Mapper[UUID] = Mapper(transcoder=stdlib)
        sealed = list(app.iter_sealed())
        assert len(sealed) > 800  # 480 September events and the 2015 plan's
        texts = b"".join(record.state for record, _seal in sealed)
        # quoted from the September 2018 edition (1.1, 1.5, 1.7): an en dash, curly quotes
        # and straight quotes (escaped in JSON), stored as UTF-8 text, not \u escapes
        assert "political groups – with process".encode() in texts
        assert "on ‘governance’".encode() in texts
        assert b'to develop \\"involved\\" solutions' in texts
        for record, stamp in sealed:
            event = app.decode(record)
            by_json = old.to_stored_event(event)
            assert by_json.state == record.state, record.position
            state = dict(vars(event))
            del state["originator_id"], state["originator_version"]
            assert transcoder.encode_fast(state) == record.state, record.position
            assert app.mapper.to_stored_event(event) == by_json  # all four columns
            assert canonical_fast(record) == canonical(record)
            assert stamp is not None
            assert content_hash(record) == stamp.content, record.position


def test_every_seed_seal_is_the_domains_seal_by_either_path(imported: Cli) -> None:
    """Each stored seal of the seeds, recomputed from its stored event and the seal before
    it, is the same by the domain's `seal` (what evidence packs and `verify` recompute) and
    by the recorder's `seal_rows` (what writes it); a seed text is among the events."""
    with bootstrap(imported.db) as services:
        sealed = list(services.ledger.app.iter_sealed())
    assert "political groups – with process".encode() in b"".join(r.state for r, _ in sealed)
    before: Seal | None = None
    for record, stamp in sealed:
        assert stamp is not None
        stored = StoredEvent(record.originator_id, record.version, record.topic, record.state)
        (domain,) = seal([record], before, stamp.witness)
        assert domain == stamp, record.position
        assert seal_rows([record.position], [stored], before, stamp.witness) == [(
            stamp.position, stamp.content, stamp.link, stamp.previous, stamp.witness.at,
            stamp.witness.role, stamp.stream)], record.position
        before = stamp
