"""superseded changes: a flag set at commit instead of a probe per row on every read

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        # Only the per-row probe for a later change in a store's stream used it.
        batch_op.drop_index('ix_changes_store_record')
    # The changes already logged: superseded where a later change of the same record in
    # the same stream (store hint, or none) exists.
    op.execute("""
        UPDATE changes SET superseded = true
        WHERE EXISTS (SELECT 1 FROM changes AS later
                      WHERE later.entity = changes.entity
                        AND later.record_id = changes.record_id
                        AND (later.store_id = changes.store_id
                             OR (later.store_id IS NULL AND changes.store_id IS NULL))
                        AND later.seq > changes.seq)""")


def downgrade():
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index('ix_changes_store_record', ['store_id', 'entity', 'record_id', 'seq'], unique=False)
        batch_op.drop_column('superseded')
