"""On PostgreSQL, a month of holdings and client snapshots is a partition of its own.

A corrected month is then loaded into a fresh table, indexed once, and swapped in for the
old partition in one transaction (crm.loaders.swap_month): readers see the old month or the
new one, and no index is maintained row by row during the load. A DEFAULT partition takes
rows written any other way (the ORM, tests).

The key columns compare bytewise (COLLATE "C"): IDs and category codes have no linguistic
order, and C-collated keys sort several times faster when a month's indexes are built.
"""

from django.db import migrations

PARTITIONED = """
DROP TABLE crm_holding;
CREATE TABLE crm_holding (
    as_of_date date NOT NULL,
    client_id varchar(32) COLLATE "C" NOT NULL,
    category varchar(16) COLLATE "C" NOT NULL,
    balance numeric(18, 2) NOT NULL,
    batch_id bigint NOT NULL,
    CONSTRAINT holding_balance_not_negative CHECK (balance >= 0),
    PRIMARY KEY (as_of_date, client_id, category)
) PARTITION BY LIST (as_of_date);
CREATE TABLE crm_holding_default PARTITION OF crm_holding DEFAULT;

DROP TABLE crm_clientsnapshot;
CREATE TABLE crm_clientsnapshot (
    client_id varchar(32) COLLATE "C" NOT NULL,
    as_of_date date NOT NULL,
    name varchar(100) NOT NULL,
    total_balance numeric(20, 2) NOT NULL,
    client_risk_level smallint NOT NULL CHECK (client_risk_level >= 0),
    risk_assessed_on date NULL,
    rm_employee_id varchar(32) COLLATE "C" NOT NULL,
    unit_code varchar(32) NOT NULL,
    batch_id bigint NOT NULL,
    CONSTRAINT snapshot_client_risk_c1_c5 CHECK (client_risk_level >= 1 AND client_risk_level <= 5),
    PRIMARY KEY (client_id, as_of_date)
) PARTITION BY LIST (as_of_date);
CREATE INDEX snapshot_month_rm ON crm_clientsnapshot (as_of_date, rm_employee_id);
CREATE TABLE crm_clientsnapshot_default PARTITION OF crm_clientsnapshot DEFAULT;
"""


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PARTITIONED)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    # Reversing would need the months merged back into one table: not supported.
    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
