"""The recorder of live answers: nothing dropped at shutdown, a failing database written aside."""

from __future__ import annotations

import json
import logging
import threading

from sqlalchemy import func, select

from dispatch.registry.models import RecommendationRecord
from dispatch.registry.recorder import Recorder
from dispatch.registry.store import make_engine
from registry_support import registry_engine, registry_url  # noqa: F401

CRS = "EPSG:2154"


def answer(index: int) -> dict:
    return {
        "strategy": "primary_pci",
        "destination": {"id": "grenoble-chu-nord"},
        "transport": "road",
        "diagnosis_to_wire_min": 60 + index % 30,
        "call_to_arrival_min": 40,
        "patient": {"lat": 45.18379, "lon": 5.72439, "at": "2008-01-01T10:00+01:00"},
        "profile": {"name": "esc2023", "version": "1"},
        "network": {"version": "v1"},
        "sites_version": "s1",
    }


def stored(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(RecommendationRecord))


def test_stop_stores_everything_queued(registry_engine, tmp_path):
    recorder = Recorder(registry_engine, CRS, tmp_path)
    recorder.start()

    # Four threads submit at once, as concurrent requests would.
    def submit_many(offset: int) -> None:
        for index in range(250):
            recorder.submit(answer(offset + index))

    threads = [threading.Thread(target=submit_many, args=(offset,)) for offset in range(0, 1000, 250)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorder.stop()

    assert stored(registry_engine) == 1000
    assert recorder.written == 1000


def test_flush_waits_for_queue(registry_engine, tmp_path):
    recorder = Recorder(registry_engine, CRS, tmp_path)
    recorder.start()
    recommendation_id = recorder.submit(answer(0))

    assert recorder.flush()
    with registry_engine.connect() as connection:
        assert connection.scalar(select(RecommendationRecord.id).where(RecommendationRecord.id == recommendation_id)) == recommendation_id
    recorder.stop()


def test_failing_database_written_aside(tmp_path, caplog):
    # A database without the registry's tables: every insert fails.
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    recorder = Recorder(engine, CRS, tmp_path, retry_delays_s=(0.01, 0.01))
    recorder.start()
    ids = [recorder.submit(answer(index)) for index in range(3)]
    with caplog.at_level(logging.ERROR, logger="dispatch.registry.recorder"):
        recorder.stop()
    engine.dispose()

    lines = [json.loads(line) for line in (tmp_path / "registry-unwritten.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ids
    # Rounded to 100 m there too.
    assert lines[0]["answer"]["patient"]["lat"] != 45.18379
    assert any("could not be stored" in record.getMessage() for record in caplog.records)


def test_row_keeps_versions(registry_engine, tmp_path):
    recorder = Recorder(registry_engine, CRS, tmp_path)
    recorder.start()
    recommendation_id = recorder.submit(answer(0))
    recorder.stop()

    with registry_engine.connect() as connection:
        row = connection.execute(select(RecommendationRecord).where(RecommendationRecord.id == recommendation_id)).one()
    assert (row.profile_name, row.profile_version, row.network_version, row.sites_version) == ("esc2023", "1", "v1", "s1")
    assert row.call_at.isoformat() == "2008-01-01T09:00:00+00:00"


def test_malformed_answer_does_not_stop_writer(registry_engine, tmp_path, caplog):
    recorder = Recorder(registry_engine, CRS, tmp_path)
    recorder.start()
    bad = answer(0)
    bad["patient"] = {"lat": 45.18, "lon": 5.72, "at": "not a time"}
    bad_id = recorder.submit(bad)
    assert recorder.flush()
    good_id = recorder.submit(answer(1))
    with caplog.at_level(logging.ERROR, logger="dispatch.registry.recorder"):
        recorder.stop()

    with registry_engine.connect() as connection:
        stored = set(connection.scalars(select(RecommendationRecord.id)))
    aside = [json.loads(line) for line in (tmp_path / "registry-unwritten.jsonl").read_text(encoding="utf-8").splitlines()]
    assert stored == {good_id}
    assert [line["id"] for line in aside] == [bad_id]
    assert "ValueError" in aside[0]["error"]


def test_malformed_answer_in_batch_goes_aside_alone(registry_engine, tmp_path):
    recorder = Recorder(registry_engine, CRS, tmp_path)
    recorder.start()
    bad = answer(0)
    bad["patient"] = {"lat": 45.18, "lon": 5.72, "at": "not a time"}
    # Submitted together, they most likely fall in one 50 ms batch; the outcome is the same either way.
    good_ids = [recorder.submit(answer(1)), recorder.submit(answer(2))]
    bad_id = recorder.submit(bad)
    recorder.stop()

    with registry_engine.connect() as connection:
        stored = set(connection.scalars(select(RecommendationRecord.id)))
    aside = [json.loads(line) for line in (tmp_path / "registry-unwritten.jsonl").read_text(encoding="utf-8").splitlines()]
    assert stored == set(good_ids)
    assert [line["id"] for line in aside] == [bad_id]
