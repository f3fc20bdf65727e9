"""Record where a case's position came from: measured, or the commune's centre.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Cases stored before this revision keep an empty ``position_source``: whether their
position was measured or taken from the commune's centre was not recorded, and the
export and report show them as unknown.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("position_source", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("position_source")
