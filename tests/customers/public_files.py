"""Small files in the exact published layouts, written by the tests themselves (docs/sources.md).

The headers are spelled out here as their publishers print them, not taken
from the product, so a test fails if the product's idea of a layout drifts.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

# NPPES Data Dissemination npidata_pfile, version 2 (330 columns).
_ADDR = ["City Name", "State Name", "Postal Code", "Country Code (If outside U.S.)"]
_ADDR += ["Telephone Number", "Fax Number"]
NPPES = [
    "NPI",
    "Entity Type Code",
    "Replacement NPI",
    "Employer Identification Number (EIN)",
    "Provider Organization Name (Legal Business Name)",
    "Provider Last Name (Legal Name)",
    "Provider First Name",
    "Provider Middle Name",
    "Provider Name Prefix Text",
    "Provider Name Suffix Text",
    "Provider Credential Text",
    "Provider Other Organization Name",
    "Provider Other Organization Name Type Code",
    "Provider Other Last Name",
    "Provider Other First Name",
    "Provider Other Middle Name",
    "Provider Other Name Prefix Text",
    "Provider Other Name Suffix Text",
    "Provider Other Credential Text",
    "Provider Other Last Name Type Code",
    "Provider First Line Business Mailing Address",
    "Provider Second Line Business Mailing Address",
    *(f"Provider Business Mailing Address {a}" for a in _ADDR),
    "Provider First Line Business Practice Location Address",
    "Provider Second Line Business Practice Location Address",
    *(f"Provider Business Practice Location Address {a}" for a in _ADDR),
    "Provider Enumeration Date",
    "Last Update Date",
    "NPI Deactivation Reason Code",
    "NPI Deactivation Date",
    "NPI Reactivation Date",
    "Provider Sex Code",
    "Authorized Official Last Name",
    "Authorized Official First Name",
    "Authorized Official Middle Name",
    "Authorized Official Title or Position",
    "Authorized Official Telephone Number",
]
for _i in range(1, 16):
    NPPES += [
        f"Healthcare Provider Taxonomy Code_{_i}",
        f"Provider License Number_{_i}",
        f"Provider License Number State Code_{_i}",
        f"Healthcare Provider Primary Taxonomy Switch_{_i}",
    ]
for _i in range(1, 51):
    NPPES += [
        f"Other Provider Identifier_{_i}",
        f"Other Provider Identifier Type Code_{_i}",
        f"Other Provider Identifier State_{_i}",
        f"Other Provider Identifier Issuer_{_i}",
    ]
NPPES += [
    "Is Sole Proprietor",
    "Is Organization Subpart",
    "Parent Organization LBN",
    "Parent Organization TIN",
    "Authorized Official Name Prefix Text",
    "Authorized Official Name Suffix Text",
    "Authorized Official Credential Text",
    *(f"Healthcare Provider Taxonomy Group_{i}" for i in range(1, 16)),
    "Certification Date",
]
assert len(NPPES) == 330

# CMS Medicare Part D Prescribers - by Provider and Drug.
PARTD = (
    "Prscrbr_NPI,Prscrbr_Last_Org_Name,Prscrbr_First_Name,Prscrbr_City,Prscrbr_State_Abrvtn,"
    "Prscrbr_State_FIPS,Prscrbr_Type,Prscrbr_Type_Src,Brnd_Name,Gnrc_Name,Tot_Clms,"
    "Tot_30day_Fills,Tot_Day_Suply,Tot_Drug_Cst,Tot_Benes,GE65_Sprsn_Flag,GE65_Tot_Clms,"
    "GE65_Tot_30day_Fills,GE65_Tot_Drug_Cst,GE65_Tot_Day_Suply,GE65_Bene_Sprsn_Flag,"
    "GE65_Tot_Benes"
).split(",")

# NUCC Health Care Provider Taxonomy code set CSV.
NUCC = [
    "Code",
    "Grouping",
    "Classification",
    "Specialization",
    "Definition",
    "Notes",
    "Display Name",
    "Section",
]


def csv_bytes(header: list[str], rows: list[dict], *, quote_all: bool = True) -> bytes:
    """A CSV of ``header`` with each row's named cells (others blank), as published."""
    out = io.StringIO()
    writer = csv.writer(
        out, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writerow(header)
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, unknown
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue().encode()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def individual(
    npi: str,
    *,
    last: str = "Heart",
    first: str = "Ada",
    credential: str = "M.D.",
    state: str = "MA",
    postal: str = "021151234",
    taxonomy: str = "207RC0000X",
    deactivated: str = "",
    reactivated: str = "",
) -> dict:
    """An Entity Type 1 row of the NPPES file."""
    row = {
        "NPI": npi,
        "Entity Type Code": "1",
        "Provider Last Name (Legal Name)": last,
        "Provider First Name": first,
        "Provider Credential Text": credential,
        "Provider Business Practice Location Address State Name": state,
        "Provider Business Practice Location Address Postal Code": postal,
        "Provider Enumeration Date": "05/23/2005",
        "Last Update Date": "07/08/2021",
        "NPI Deactivation Date": deactivated,
        "NPI Reactivation Date": reactivated,
        "Provider Sex Code": "F",
        "Healthcare Provider Taxonomy Code_1": taxonomy,
        "Provider License Number_1": "123456",
        "Provider License Number State Code_1": state,
        "Healthcare Provider Primary Taxonomy Switch_1": "Y",
    }
    return row


def organization(
    npi: str, *, name: str = "Boston Heart Clinic", taxonomy: str = "261QM1300X", **kw
) -> dict:
    """An Entity Type 2 row of the NPPES file."""
    return {
        "NPI": npi,
        "Entity Type Code": "2",
        "Provider Organization Name (Legal Business Name)": name,
        "Provider Business Practice Location Address State Name": kw.get("state", "MA"),
        "Provider Business Practice Location Address Postal Code": kw.get("postal", "02115"),
        "Healthcare Provider Taxonomy Code_1": taxonomy,
        "Healthcare Provider Primary Taxonomy Switch_1": "Y",
        "Authorized Official Last Name": "Smith",
    }


def deactivated(npi: str, on: str = "03/01/2024") -> dict:
    """A deactivated NPI as NPPES publishes it: every other field emptied."""
    return {"NPI": npi, "NPI Deactivation Date": on}


def prescription(npi: str, brand: str, fills: str, *, generic: str = "generic") -> dict:
    """A Part D row (one prescriber and drug)."""
    return {
        "Prscrbr_NPI": npi,
        "Prscrbr_Last_Org_Name": "Heart",
        "Prscrbr_First_Name": "Ada",
        "Prscrbr_City": "Boston",
        "Prscrbr_State_Abrvtn": "MA",
        "Prscrbr_State_FIPS": "25",
        "Prscrbr_Type": "Cardiology",
        "Prscrbr_Type_Src": "S",
        "Brnd_Name": brand,
        "Gnrc_Name": generic,
        "Tot_Clms": "40",
        "Tot_30day_Fills": fills,
        "Tot_Day_Suply": "1200",
        "Tot_Drug_Cst": "4321.55",
        "Tot_Benes": "",
        "GE65_Sprsn_Flag": "*",
    }


def taxonomy(code: str, classification: str, specialization: str = "", **extra) -> dict:
    """A row of the NUCC code set."""
    return {
        "Code": code,
        "Grouping": "Allopathic & Osteopathic Physicians",
        "Classification": classification,
        "Specialization": specialization,
        "Definition": "A physician who ...",
        "Notes": "Source: ...",
        "Display Name": f"{specialization or classification} Physician",
        "Section": "Individual",
        **extra,
    }
