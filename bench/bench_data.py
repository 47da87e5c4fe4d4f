"""The recompute bench's synthetic data: accounts, customers, attributes, interactions, rx facts.

Written with ``generate_series`` on PostgreSQL (NPIs start with 2 and carry
valid check digits; names say "Bench"). Imported by bench_recompute.py after
``django.setup()``.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.db import connection

from bench.recompute_segments import PRODUCTS
from customers.models import Customer

SPECIALTIES = (
    "cardiology oncology hematology endocrinology neurology rheumatology nephrology "
    "pulmonology gastroenterology dermatology psychiatry infectious_disease internal_medicine "
    "family_medicine pediatrics obstetrics_gynecology pharmacy nurse_practitioner other"
).split()
STATES = ("CA", "NY", "TX", "FL", "WA", "OR", "NV", "AZ", "IL", "MA", "")
CHANNELS = "rep_visit remote_detail email webinar congress speaker_program portal phone".split()
KINDS = "sent opened clicked attended registered downloaded visited requested_info called".split()
TOPICS = (
    "mechanism_of_action efficacy safety dosing patient_selection access patient_support "
    "disease_education"
).split() + [""]
ACCOUNT_TYPES = (
    "health_system hospital academic_center clinic community_practice infusion_center "
    "specialty_pharmacy retail_pharmacy payer gpo"
).split()


def sql_array(values) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def pick(values, seed_expr: str) -> str:
    """SQL picking one of ``values`` pseudo-randomly from an integer expression."""
    return f"({sql_array(values)})[1 + mod({seed_expr}, {len(values)})]"


def execute(sql: str, params=None) -> float:
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return time.perf_counter() - t0


def generate(customers: int, interactions: int, rx_share: float, as_of: datetime) -> None:
    """Synthetic data with generate_series: accounts, customers, attributes, interactions, rx."""
    accounts = max(1, customers // 20)
    print(f"generating {customers:,} customers, {interactions:,} interactions ...", flush=True)
    t = execute(
        "INSERT INTO customers_account (account_id, name, account_type, state, zip, bed_count, "
        "formulary_status, updated_at) "
        f"SELECT 'BA' || g, 'Bench account ' || g, {pick(ACCOUNT_TYPES, 'g * 7')}, "
        f"{pick(STATES[:-1], 'g * 3')}, '', mod(g * 37, 900), '', now() "
        "FROM generate_series(1::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
        [accounts],
    )
    print(f"  accounts     {t:7.1f} s")
    # Valid NPIs (Luhn over '80840' + the first nine digits), so the incremental
    # step can record interactions through the service's validation.
    execute(
        """
        CREATE OR REPLACE FUNCTION pg_temp.bench_npi(g bigint) RETURNS text AS $$
        DECLARE
          first9 text := '2' || lpad(g::text, 8, '0');
          payload text := '80840' || first9;
          total int := 0;
          d int;
        BEGIN
          FOR i IN 0..13 LOOP
            d := substr(payload, 14 - i, 1)::int;
            IF i %% 2 = 0 THEN
              d := d * 2;
              IF d > 9 THEN d := d - 9; END IF;
            END IF;
            total := total + d;
          END LOOP;
          RETURN first9 || ((10 - total %% 10) %% 10)::text;
        END $$ LANGUAGE plpgsql IMMUTABLE
        """.replace("%%", "%")
    )
    t = execute(
        "INSERT INTO customers_customer (npi, first_name, last_name, credential, specialty, role, "
        "practice_setting, account_id, state, zip, decile, email_opt_out, created_at, "
        "updated_at) "
        "SELECT pg_temp.bench_npi(g), 'Bench', 'Customer ' || g, "
        f"{pick(['MD', 'DO', 'NP', 'PA', 'PharmD', 'RN', ''], 'g * 13')}, "
        f"{pick(SPECIALTIES, 'mod(g * 2654435761, 1000003)')}, "
        f"{pick(['prescriber', 'prescriber', 'pharmacist', 'nurse', ''], 'g * 11')}, '', "
        "CASE WHEN mod(g, 4) = 0 THEN NULL ELSE 'BA' || (1 + mod(g * 7919, %s)) END, "
        f"{pick(STATES, 'mod(g * 48271, 2147483647)')}, '', "
        "CASE WHEN mod(g, 10) = 0 THEN NULL ELSE 1 + mod(g * 69069, 10) END, mod(g, 17) = 0, "
        "now(), now() "
        "FROM generate_series(1::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
        [accounts, customers],
    )
    print(f"  customers    {t:7.1f} s")
    t = execute(
        "INSERT INTO customers_customerattribute (customer_id, key, value, number) "
        "SELECT id, 'adoption_stage', "
        f"{pick(['early', 'mid', 'late'], 'id * 31')}, NULL "
        "FROM customers_customer WHERE mod(id, 2) = 0 ON CONFLICT DO NOTHING"
    )
    print(f"  attributes   {t:7.1f} s")
    lo = Customer.objects.order_by("id").values_list("id", flat=True)[:1].get()
    hi = Customer.objects.order_by("-id").values_list("id", flat=True)[:1].get()
    batch = 2_000_000
    t_total = 0.0
    for start in range(0, interactions, batch):
        n = min(batch, interactions - start)
        t_total += execute(
            "INSERT INTO customers_interaction (customer_id, occurred_at, channel, kind, topic, "
            "asset, external_id, created_at) "
            "SELECT %s + floor(random() * (%s - %s + 1))::bigint, "
            "%s - random() * interval '400 days', "
            f"{pick(CHANNELS, 'g')}, {pick(KINDS, 'g / 8')}, {pick(TOPICS, 'g / 3')}, '', NULL, "
            "now() FROM generate_series(%s::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
            [lo, hi, lo, as_of, start + 1, start + n],
        )
    print(f"  interactions {t_total:7.1f} s")
    month0 = as_of.date().replace(day=1)
    t = execute(
        "INSERT INTO customers_rxfact (customer_id, month, product, nrx, trx, new_patient_starts) "
        "SELECT c.id, (date_trunc('month', %s::date) - m * interval '1 month')::date, p, "
        "mod(c.id * 7 + m, 9), mod(c.id * 13 + m * 3, 25), mod(c.id + m, 4) "
        "FROM customers_customer c, generate_series(0, 11) m, unnest(%s::text[]) p "
        "WHERE mod(c.id * 2654435761, 1000) < %s ON CONFLICT DO NOTHING",
        [month0, list(PRODUCTS), int(rx_share * 1000)],
    )
    print(f"  rx facts     {t:7.1f} s")
    t = execute("ANALYZE")
    print(f"  analyze      {t:7.1f} s", flush=True)
