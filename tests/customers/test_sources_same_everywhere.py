"""The public files' fast path keeps every result and error (docs/sources.md).

The same file gives the same records and the same report on SQLite and on
PostgreSQL (the suite runs on both: each run is held to the one snapshot
below), and the shortcuts of the row parser (the byte scan, the NPI and fills
fast paths) agree with the exact checks they stand in for.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from core.errors import ValidationFailed
from customers.importing import fields as f
from customers.importing.sources import fills
from customers.models import Account, Customer, RxAnnualFact
from customers.services import import_file
from tests.customers import public_files as pf
from tests.factories import CustomerFactory, valid_npi

pytestmark = pytest.mark.django_db

N = [valid_npi(n) for n in range(1, 16)]


def _reference_luhn(npi: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed("80840" + npi)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def test_the_npi_check_is_luhn_over_80840():
    rng = random.Random(5)
    for _ in range(20_000):
        npi = f"{rng.randrange(10**10):010d}"
        assert f.npi_check_digit_valid(npi) is _reference_luhn(npi), npi
    with pytest.raises(f.CellError, match="must be 10 digits"):
        f.parse_npi("١٢٣٤٥٦٧٨٩٠")  # digits, but not ASCII ones


def test_fills_agrees_with_decimal_rounding_half_up():
    rng = random.Random(9)
    cells = ["0.5", "1.", ".5", "12.50", "12.49999", "7.05", "1e2", "+3.5", " 4.5"]
    cells += [f"{rng.randrange(100000)}.{rng.randrange(1000):0{rng.randint(1, 3)}d}"]
    cells += [f"{rng.randrange(100000) / 10}" for _ in range(2000)]
    for cell in cells:
        expected = int(Decimal(cell).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert fills(cell) == expected, cell
    for bad in ["-1.5", "abc", "1.2.3", "NaN"]:
        with pytest.raises(f.CellError):
            fills(bad)


def _nppes(tmp_path, rows, name="npidata_pfile.csv"):
    return pf.write(tmp_path / name, pf.csv_bytes(pf.NPPES, rows))


def test_bad_bytes_in_a_column_the_product_does_not_use_are_ignored(tmp_path):
    row = pf.individual(N[0])
    row["Provider Middle Name"] = "ZOE"
    data = pf.csv_bytes(pf.NPPES, [row]).replace(b'"ZOE"', '"Zoë"'.encode("latin-1"))
    result = import_file(kind="nppes", file=pf.write(tmp_path / "n.csv", data))
    assert result.created == 1


def test_bad_bytes_far_into_the_file_name_their_rows(tmp_path):
    # Past the first megabyte (the scan's first block), bad text is still found.
    rows = [pf.individual(valid_npi(100 + i), first=f"F{i}") for i in range(2000)]
    data = pf.csv_bytes(pf.NPPES, rows)
    assert len(data) > 1.2 * (1 << 20)
    data = data.replace(b'"F1700"', '"Zoë"'.encode("latin-1"))
    data = data.replace(b'"F1900"', b'"F\x00"')
    with pytest.raises(ValidationFailed) as caught:
        import_file(kind="nppes", file=pf.write(tmp_path / "n.csv", data))
    assert [str(e) for e in caught.value.errors] == [
        "row 1701: Provider First Name: is not UTF-8 text (or holds NUL characters)",
        "row 1901: Provider First Name: is not UTF-8 text (or holds NUL characters)",
    ]
    assert not Customer.objects.exists()


def _mixed_nppes() -> list[dict]:
    cardiologist = pf.individual(N[0], credential="M.D., PH.D.", postal="021151234")
    second = pf.individual(N[1], taxonomy="207R00000X", credential="FNP-C", state="ny")
    second["Healthcare Provider Primary Taxonomy Switch_1"] = "N"
    second["Healthcare Provider Taxonomy Code_2"] = "207N00000X"
    second["Healthcare Provider Primary Taxonomy Switch_2"] = "Y"
    no_switch = pf.individual(N[2], taxonomy="101YM0800X", credential="LMHC", postal="K1A 0B1")
    no_switch["Healthcare Provider Primary Taxonomy Switch_1"] = ""
    no_switch["Provider Business Practice Location Address State Name"] = "ZZ"
    return [
        cardiologist,
        second,
        no_switch,
        pf.individual(N[3], taxonomy="", credential="", postal="1234"),
        pf.individual(N[4], first="", last="Nameless"),
        pf.individual(N[5], deactivated="01/15/2024"),
        pf.individual(N[6], deactivated="01/15/2023", reactivated="02/01/2024"),
        pf.organization(N[7]),
        pf.organization(N[8], name="Corner Drugs", taxonomy="3336C0003X"),
        pf.organization(N[9], name="Specialty Rx", taxonomy="3336S0011X", postal="100011234"),
        pf.organization(N[10], name="General Hospital", taxonomy="282N00000X"),
        pf.organization(N[11], name=""),
        pf.deactivated(N[12]),
        pf.deactivated(N[13]),
    ]


def _snapshot():
    customers = [
        (
            c.npi,
            c.first_name,
            c.last_name,
            c.credential,
            c.specialty,
            c.state,
            c.zip,
            c.taxonomy_code,
            c.active,
            str(c.deactivated_on),
        )
        for c in Customer.objects.order_by("npi")
    ]
    accounts = [
        (a.account_id, a.name, a.account_type, a.state, a.zip, a.active, str(a.deactivated_on))
        for a in Account.objects.order_by("account_id")
    ]
    facts = [
        (x.customer.npi, x.year, x.product, x.trx, x.source)
        for x in RxAnnualFact.objects.select_related("customer").order_by(
            "customer__npi", "product"
        )
    ]
    return customers, accounts, facts


def _counts(result):
    return (result.rows, result.created, result.updated, result.unchanged, result.skipped)


def test_the_same_files_give_the_same_records_and_report_on_every_database(tmp_path, settings):
    settings.RX_TRACKED_PRODUCTS = ["Cardiozen", "Lipidax"]
    CustomerFactory(npi=N[13], first_name="Old", last_name="Record")  # deactivated below
    first = import_file(kind="nppes", file=_nppes(tmp_path, _mixed_nppes()))
    again = import_file(kind="nppes", file=_nppes(tmp_path, _mixed_nppes(), "again.csv"))
    partd = pf.write(
        tmp_path / "partd.csv",
        pf.csv_bytes(
            pf.PARTD,
            [
                pf.prescription(N[0], "CARDIOZEN", "10.5", generic="a"),
                pf.prescription(N[0], "Cardiozen", "2.4", generic="b"),
                pf.prescription(N[0], "Lipidax", ""),
                pf.prescription(N[1], "cardiozen", "7"),
                pf.prescription(N[1], "Untracked", "9"),
                pf.prescription(N[14], "Cardiozen", "3"),
            ],
        ),
    )
    rx = import_file(kind="partd", file=partd, options={"data_year": "2024"})

    assert _counts(first) == (14, 10, 1, 0, 3)
    assert first.report["skipped"] == {
        "individual without a first or last name": 1,
        "organization without a name": 1,
        "deactivated NPI not in the database": 1,
    }
    assert first.report["notes"] == {
        "individuals whose primary taxonomy is unmapped (imported as other)": 1,
        "individuals without a taxonomy (imported as other)": 1,
    }
    assert _counts(again) == (14, 0, 0, 11, 3)
    assert again.report == first.report
    assert _counts(rx) == (6, 3, 0, 0, 2)
    assert rx.report["skipped"] == {"brand not tracked": 1, "prescriber not a customer": 1}
    assert rx.report["notes"] == {
        "suppressed Tot_30day_Fills (imported as missing)": 1,
        "rows added to another row's fact (same prescriber and brand)": 1,
    }
    customers, accounts, facts = _snapshot()
    assert customers == [
        (N[0], "Ada", "Heart", "MD", "cardiology", "MA", "02115", "207RC0000X", True, "None"),
        (N[1], "Ada", "Heart", "NP", "dermatology", "NY", "02115", "207N00000X", True, "None"),
        (N[2], "Ada", "Heart", "other", "other", "", "", "101YM0800X", True, "None"),
        (N[3], "Ada", "Heart", "", "other", "MA", "", "", True, "None"),
        (
            N[5],
            "Ada",
            "Heart",
            "MD",
            "cardiology",
            "MA",
            "02115",
            "207RC0000X",
            False,
            "2024-01-15",
        ),
        (N[6], "Ada", "Heart", "MD", "cardiology", "MA", "02115", "207RC0000X", True, "None"),
        (N[13], "Old", "Record", "", "cardiology", "", "", "", False, "2024-03-01"),
    ]
    assert accounts == [
        (N[7], "Boston Heart Clinic", "clinic", "MA", "02115", True, "None"),
        (N[8], "Corner Drugs", "retail_pharmacy", "MA", "02115", True, "None"),
        (N[9], "Specialty Rx", "specialty_pharmacy", "MA", "10001", True, "None"),
        (N[10], "General Hospital", "hospital", "MA", "02115", True, "None"),
    ]
    assert facts == [
        (N[0], 2024, "Cardiozen", 13, "partd"),
        (N[0], 2024, "Lipidax", None, "partd"),
        (N[1], 2024, "Cardiozen", 7, "partd"),
    ]
