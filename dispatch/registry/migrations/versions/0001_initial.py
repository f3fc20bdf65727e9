"""Create the registry: recommendations, cases and expected counts.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Listed here rather than imported, so this migration keeps building the same table when
# the application's field list changes later.
TIME_COLUMNS = (
    "onset",
    "call",
    "smur_departure",
    "first_medical_contact",
    "ecg",
    "diagnosis",
    "lysis_bolus",
    "scene_departure",
    "arrival",
    "arterial_puncture",
    "wire_crossing",
)


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("call_at", _utc(), nullable=True),
        sa.Column("strategy", sa.String(40), nullable=True),
        sa.Column("destination", sa.String(80), nullable=True),
        sa.Column("transport", sa.String(16), nullable=True),
        sa.Column("predicted_call_to_arrival_min", sa.Float(), nullable=True),
        sa.Column("predicted_diagnosis_to_wire_min", sa.Float(), nullable=True),
        sa.Column("profile_name", sa.String(80), nullable=True),
        sa.Column("profile_version", sa.String(80), nullable=True),
        sa.Column("sites_version", sa.String(80), nullable=True),
        sa.Column("network_version", sa.String(80), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
    )
    times = [sa.Column(name, _utc(), nullable=name != "call") for name in TIME_COLUMNS]
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("age_years", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(1), nullable=True),
        sa.Column("commune_insee", sa.String(5), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        *times,
        sa.Column("strategy", sa.String(40), nullable=True),
        sa.Column("transport", sa.String(16), nullable=True),
        sa.Column("destination", sa.String(80), nullable=True),
        sa.Column("admission", sa.String(8), nullable=True),
        sa.Column("in_hospital_death", sa.Boolean(), nullable=True),
        sa.Column("recommendation_id", sa.String(36), nullable=True),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendations.id"], name=op.f("fk_cases_recommendation_id_recommendations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_id", name=op.f("uq_cases_case_id")),
        sa.UniqueConstraint("recommendation_id", name=op.f("uq_cases_recommendation_id")),
    )
    op.create_index(op.f("ix_cases_departement"), "cases", ["departement"])
    op.create_index(op.f("ix_cases_call"), "cases", ["call"])
    op.create_table(
        "expected_counts",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("expected_cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_expected_counts")),
    )


def downgrade() -> None:
    op.drop_table("expected_counts")
    op.drop_index(op.f("ix_cases_call"), table_name="cases")
    op.drop_index(op.f("ix_cases_departement"), table_name="cases")
    op.drop_table("cases")
    op.drop_table("recommendations")
