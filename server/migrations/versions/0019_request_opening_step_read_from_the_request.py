"""requests: the opening status step is read from the request (key_id added), not stored

A request opens when it is captured, by its captured_by, at its created_at: that step
was a row of request_status_changes written with every capture. Its one fact the request
did not hold, the key that captured it, moves to requests.key_id; the rows go.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.Uuid(), nullable=True))
    op.execute("UPDATE requests SET key_id = (SELECT s.key_id FROM request_status_changes s "
               "WHERE s.request_id = requests.id AND s.from_status IS NULL "
               "ORDER BY s.changed_at LIMIT 1) "
               "WHERE EXISTS (SELECT 1 FROM request_status_changes s "
               "WHERE s.request_id = requests.id AND s.from_status IS NULL "
               "AND s.key_id IS NOT NULL)")
    op.execute("DELETE FROM request_status_changes WHERE from_status IS NULL")


def downgrade():
    new_id = ("gen_random_uuid()" if op.get_bind().dialect.name == "postgresql"
              else "lower(hex(randomblob(16)))")  # a Uuid column's form on SQLite
    op.execute("INSERT INTO request_status_changes (id, request_id, from_status, to_status, "
               "reason, changed_by, key_id, changed_at) "
               f"SELECT {new_id}, id, NULL, 'open', NULL, captured_by, key_id, created_at "
               "FROM requests")
    # Not a batch (SQLite would copy the table, and other tables' keys refer to it):
    # both databases drop a plain column in place.
    op.execute("ALTER TABLE requests DROP COLUMN key_id")
