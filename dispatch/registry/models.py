"""The registry's tables: cases, the recommendations given, and the expected case counts.

Times are stored in UTC and read back as aware UTC datetimes on every backend, so
intervals across a daylight-saving change come out right. Positions are rounded to
100 m before they are stored, and no column holds a name or a birth date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names fixed by convention so that Alembic migrations name them the same on
# SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware datetime stored in UTC; SQLite keeps no offset, so UTC is restored on reading."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"registry times must be timezone-aware, got {value.isoformat()}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RecommendationRecord(Base):
    """A recommendation as given: the whole answer, and the figures the indicators read."""

    __tablename__ = "recommendations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # "live" (the API) or "import" (CSV columns)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    call_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    strategy: Mapped[str | None] = mapped_column(String(40))
    destination: Mapped[str | None] = mapped_column(String(80))
    transport: Mapped[str | None] = mapped_column(String(16))
    predicted_call_to_arrival_min: Mapped[float | None] = mapped_column(Float)
    predicted_diagnosis_to_wire_min: Mapped[float | None] = mapped_column(Float)
    profile_name: Mapped[str | None] = mapped_column(String(80))
    profile_version: Mapped[str | None] = mapped_column(String(80))
    sites_version: Mapped[str | None] = mapped_column(String(80))
    network_version: Mapped[str | None] = mapped_column(String(80))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)


class CaseRecord(Base):
    """One STEMI patient: pseudonymous id, place, times, what was done and the outcome."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    age_years: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    commune_insee: Mapped[str] = mapped_column(String(5))
    departement: Mapped[str] = mapped_column(String(3), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # "measured" (lat/lon given with the case) or "commune_centre" (none given: the
    # commune's centre); empty for cases stored before it was recorded.
    position_source: Mapped[str | None] = mapped_column(String(16))
    onset: Mapped[datetime | None] = mapped_column(UTCDateTime())
    call: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    smur_departure: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_medical_contact: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ecg: Mapped[datetime | None] = mapped_column(UTCDateTime())
    diagnosis: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lysis_bolus: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scene_departure: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrival: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arterial_puncture: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wire_crossing: Mapped[datetime | None] = mapped_column(UTCDateTime())
    strategy: Mapped[str | None] = mapped_column(String(40))
    transport: Mapped[str | None] = mapped_column(String(16))
    destination: Mapped[str | None] = mapped_column(String(80))
    admission: Mapped[str | None] = mapped_column(String(8))
    in_hospital_death: Mapped[bool | None] = mapped_column(Boolean)
    recommendation_id: Mapped[str | None] = mapped_column(ForeignKey("recommendations.id"), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExpectedCount(Base):
    """The number of STEMI patients a year is expected to have, for the registry's completeness."""

    __tablename__ = "expected_counts"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    expected_cases: Mapped[int] = mapped_column(Integer)
