"""The taxonomy and alignment kinds (docs/sources.md)."""

from __future__ import annotations

import pytest

from customers.importing.source_writers import shipped_mapping
from customers.models import Account, Customer, TaxonomyCode, ZipAlignment
from customers.services import import_file
from customers.vocabularies import Specialty
from tests.customers import public_files as pf
from tests.factories import AccountFactory, CustomerFactory, valid_npi

pytestmark = pytest.mark.django_db

A = valid_npi(1)


def nucc(tmp_path, rows, header=pf.NUCC):
    return pf.write(tmp_path / "nucc_taxonomy_250.csv", pf.csv_bytes(header, rows))


def alignment(tmp_path, lines: list[str]):
    return pf.write(tmp_path / "alignment.csv", ("\n".join(lines) + "\n").encode())


def test_the_shipped_mapping_covers_every_specialty_but_other():
    mapped = set(shipped_mapping().values())
    assert mapped == set(Specialty.values) - {"other"}
    assert shipped_mapping()["207RC0000X"] == "cardiology"


def test_the_code_set_imports_with_the_shipped_mapping_and_counts_unmapped(tmp_path):
    rows = [
        pf.taxonomy("207RC0000X", "Internal Medicine", "Cardiovascular Disease"),
        pf.taxonomy("207X00000X", "Orthopaedic Surgery"),
    ]
    result = import_file(kind="taxonomy", file=nucc(tmp_path, rows))
    assert result.created == 2
    assert TaxonomyCode.objects.get(code="207RC0000X").specialty == "cardiology"
    ortho = TaxonomyCode.objects.get(code="207X00000X")
    assert (ortho.specialty, ortho.classification) == ("other", "Orthopaedic Surgery")
    assert result.report["notes"] == {"unmapped codes (imported as other)": 1}
    again = import_file(kind="taxonomy", file=nucc(tmp_path, rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_specialty_column_edits_the_mapping_and_customers_follow(tmp_path):
    nppes = pf.write(tmp_path / "n.csv", pf.csv_bytes(pf.NPPES, [pf.individual(A)]))
    import_file(kind="nppes", file=nppes)
    assert Customer.objects.get(npi=A).specialty == "cardiology"
    header = [*pf.NUCC, "specialty"]
    rows = [
        pf.taxonomy(
            "207RC0000X",
            "Internal Medicine",
            "Cardiovascular Disease",
            specialty="Internal Medicine",
        )
    ]
    result = import_file(kind="taxonomy", file=nucc(tmp_path, rows, header))
    assert TaxonomyCode.objects.get(code="207RC0000X").specialty == "internal_medicine"
    assert Customer.objects.get(npi=A).specialty == "internal_medicine"
    assert result.report["notes"]["customers whose specialty follows a changed mapping"] == 1
    # A later release without the column keeps the edit.
    plain = [pf.taxonomy("207RC0000X", "Internal Medicine", "Cardiovascular Disease")]
    import_file(kind="taxonomy", file=nucc(tmp_path, plain))
    assert TaxonomyCode.objects.get(code="207RC0000X").specialty == "internal_medicine"


def test_zip5_wins_over_zip3_and_a_new_alignment_moves_customers_and_accounts(tmp_path):
    boston = CustomerFactory(zip="02115")
    cambridge = CustomerFactory(zip="02139")
    nowhere = CustomerFactory(zip="99501")
    clinic = AccountFactory(zip="02139")
    lines = ["zip,territory,territory_name", "021,NE-BOS,Boston", "02115,NE-BOS2,Back Bay"]
    result = import_file(kind="alignment", file=alignment(tmp_path, lines))
    assert result.created == 2
    territories = dict(Customer.objects.values_list("npi", "territory_id"))
    assert territories[boston.npi] == "NE-BOS2"
    assert territories[cambridge.npi] == "NE-BOS"
    assert territories[nowhere.npi] is None
    assert Account.objects.get(pk=clinic.pk).territory_id == "NE-BOS"
    assert result.report["notes"]["customers moved to another territory"] == 2
    assert result.report["notes"]["customers whose zip no alignment row covers"] == 1
    # A change of alignment is one import: the zip3 moves, the zip5 row goes.
    moved = import_file(kind="alignment", file=alignment(tmp_path, ["zip,territory", "021,NE-CAM"]))
    assert set(ZipAlignment.objects.values_list("zip", "territory_id")) == {("021", "NE-CAM")}
    assert set(
        Customer.objects.filter(zip__startswith="021").values_list("territory_id", flat=True)
    ) == {"NE-CAM"}
    assert moved.report["notes"]["alignment rows removed (not in the file)"] == 1


def test_a_change_of_alignment_announces_the_customers_who_moved(tmp_path, monkeypatch):
    from customers import services

    announced = []
    monkeypatch.setattr(services, "announce_customers_changed", lambda **kw: announced.append(kw))
    boston = CustomerFactory(zip="02115")
    CustomerFactory(zip="99501")
    import_file(kind="alignment", file=alignment(tmp_path, ["zip,territory", "021,NE-BOS"]))
    assert announced[-1]["customer_ids"] == [boston.pk]
    assert announced[-1]["source"] == "import:alignment"
