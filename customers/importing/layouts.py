"""The published layouts of the public US files the product reads unchanged (docs/sources.md).

Header names are exactly as their publishers print them; the import matches
them case-insensitively and trimmed, ignores every column it does not use, and
names a missing one it needs. The full lists serve the tests and the bench,
which write files of the same layout.
"""

from __future__ import annotations

# -- NPPES Data Dissemination, "npidata_pfile" (version 2 layout: 330 columns) ----------

_PRACTICE = "Provider Business Practice Location Address"
_MAILING = "Provider Business Mailing Address"


def _nppes_header() -> list[str]:
    head = [
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
        f"{_MAILING} City Name",
        f"{_MAILING} State Name",
        f"{_MAILING} Postal Code",
        f"{_MAILING} Country Code (If outside U.S.)",
        f"{_MAILING} Telephone Number",
        f"{_MAILING} Fax Number",
        "Provider First Line Business Practice Location Address",
        "Provider Second Line Business Practice Location Address",
        f"{_PRACTICE} City Name",
        f"{_PRACTICE} State Name",
        f"{_PRACTICE} Postal Code",
        f"{_PRACTICE} Country Code (If outside U.S.)",
        f"{_PRACTICE} Telephone Number",
        f"{_PRACTICE} Fax Number",
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
    for i in range(1, 16):
        head += [
            f"Healthcare Provider Taxonomy Code_{i}",
            f"Provider License Number_{i}",
            f"Provider License Number State Code_{i}",
            f"Healthcare Provider Primary Taxonomy Switch_{i}",
        ]
    for i in range(1, 51):
        head += [
            f"Other Provider Identifier_{i}",
            f"Other Provider Identifier Type Code_{i}",
            f"Other Provider Identifier State_{i}",
            f"Other Provider Identifier Issuer_{i}",
        ]
    head += [
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
    ]
    head += [f"Healthcare Provider Taxonomy Group_{i}" for i in range(1, 16)]
    head.append("Certification Date")
    return head


NPPES_HEADER: list[str] = _nppes_header()
NPPES_NPI = "NPI"
NPPES_ENTITY = "Entity Type Code"
NPPES_ORG_NAME = "Provider Organization Name (Legal Business Name)"
NPPES_LAST_NAME = "Provider Last Name (Legal Name)"
NPPES_FIRST_NAME = "Provider First Name"
NPPES_CREDENTIAL = "Provider Credential Text"
NPPES_STATE = f"{_PRACTICE} State Name"
NPPES_POSTAL = f"{_PRACTICE} Postal Code"
NPPES_DEACTIVATED = "NPI Deactivation Date"
NPPES_REACTIVATED = "NPI Reactivation Date"
NPPES_TAXONOMY = [f"Healthcare Provider Taxonomy Code_{i}" for i in range(1, 16)]
NPPES_PRIMARY = [f"Healthcare Provider Primary Taxonomy Switch_{i}" for i in range(1, 16)]

# -- CMS "Medicare Part D Prescribers - by Provider and Drug" -----------------------------

PARTD_HEADER: list[str] = [
    "Prscrbr_NPI",
    "Prscrbr_Last_Org_Name",
    "Prscrbr_First_Name",
    "Prscrbr_City",
    "Prscrbr_State_Abrvtn",
    "Prscrbr_State_FIPS",
    "Prscrbr_Type",
    "Prscrbr_Type_Src",
    "Brnd_Name",
    "Gnrc_Name",
    "Tot_Clms",
    "Tot_30day_Fills",
    "Tot_Day_Suply",
    "Tot_Drug_Cst",
    "Tot_Benes",
    "GE65_Sprsn_Flag",
    "GE65_Tot_Clms",
    "GE65_Tot_30day_Fills",
    "GE65_Tot_Drug_Cst",
    "GE65_Tot_Day_Suply",
    "GE65_Bene_Sprsn_Flag",
    "GE65_Tot_Benes",
]
PARTD_NPI = "Prscrbr_NPI"
PARTD_BRAND = "Brnd_Name"
PARTD_FILLS = "Tot_30day_Fills"

# -- NUCC Health Care Provider Taxonomy code set (CSV) -------------------------------------

NUCC_HEADER: list[str] = [
    "Code",
    "Grouping",
    "Classification",
    "Specialization",
    "Definition",
    "Notes",
    "Display Name",
    "Section",
]
# The product's own optional column: set a code's specialty (docs/sources.md).
NUCC_SPECIALTY = "specialty"

# -- Territory alignment (the product's own layout) ----------------------------------------

ALIGNMENT_HEADER: list[str] = ["zip", "territory", "territory_name"]

# Required columns per kind: a missing one is named; they also tell one kind's
# file from another's ("this looks like a Part D file").
REQUIRED: dict[str, list[str]] = {
    "nppes": [
        NPPES_NPI,
        NPPES_ENTITY,
        NPPES_ORG_NAME,
        NPPES_LAST_NAME,
        NPPES_FIRST_NAME,
        NPPES_CREDENTIAL,
        NPPES_STATE,
        NPPES_POSTAL,
        NPPES_DEACTIVATED,
        NPPES_REACTIVATED,
        *NPPES_TAXONOMY,
        *NPPES_PRIMARY,
    ],
    "partd": [PARTD_NPI, PARTD_BRAND, "Gnrc_Name", "Tot_Clms", PARTD_FILLS],
    "taxonomy": ["Code", "Grouping", "Classification", "Specialization"],
    "alignment": ["zip", "territory"],
}
OPTIONAL: dict[str, list[str]] = {
    "nppes": [],
    "partd": [],
    "taxonomy": ["Display Name", NUCC_SPECIALTY],
    "alignment": ["territory_name"],
}
LABELS = {
    "nppes": "an NPPES npidata_pfile",
    "partd": "a Part D Prescribers by Provider and Drug",
    "taxonomy": "a NUCC taxonomy code set",
    "alignment": "a territory alignment",
}
