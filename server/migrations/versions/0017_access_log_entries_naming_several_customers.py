"""access log: one entry for a read of several customers (customer_ids, GIN on PostgreSQL)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 02:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

INDEX = "ix_access_log_customer_ids"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    ids = postgresql.ARRAY(sa.Uuid()) if postgres else sa.JSON()
    # Entries logged before this each name one customer, as they did.
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_ids', ids, nullable=True))
        batch_op.alter_column('customer_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.create_check_constraint(
            op.f('ck_access_log_one_or_several_customers'),
            "(customer_id IS NULL) <> (customer_ids IS NULL)")
    if postgres:
        op.execute(f"CREATE INDEX {INDEX} ON access_log USING gin (customer_ids)")


def downgrade():
    # An entry naming several customers becomes one entry each, as before.
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(f"DROP INDEX {INDEX}")
        op.execute("""INSERT INTO access_log (id, customer_id, action, what, scope, key_id,
                           store_id, device_id, at)
                       SELECT gen_random_uuid(), unnest(customer_ids), action, what, scope, key_id,
                           store_id, device_id, at
                       FROM access_log WHERE customer_ids IS NOT NULL""")
    else:
        op.execute("""INSERT INTO access_log (id, customer_id, action, what, scope, key_id,
                          store_id, device_id, at)
                      SELECT lower(hex(randomblob(16))), replace(j.value, '-', ''), a.action,
                          a.what, a.scope, a.key_id, a.store_id, a.device_id, a.at
                      FROM access_log a, json_each(a.customer_ids) j
                      WHERE a.customer_ids IS NOT NULL""")
    op.execute("DELETE FROM access_log WHERE customer_ids IS NOT NULL")
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_access_log_one_or_several_customers'),
                                 type_='check')
        batch_op.alter_column('customer_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('customer_ids')
