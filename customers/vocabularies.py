"""Controlled vocabularies of docs/imports.md, shared by import, the rule catalog and the pages."""

from __future__ import annotations

from django.db import models


class AccountType(models.TextChoices):
    HEALTH_SYSTEM = "health_system"
    HOSPITAL = "hospital"
    ACADEMIC_CENTER = "academic_center"
    CLINIC = "clinic"
    COMMUNITY_PRACTICE = "community_practice"
    INFUSION_CENTER = "infusion_center"
    SPECIALTY_PHARMACY = "specialty_pharmacy"
    RETAIL_PHARMACY = "retail_pharmacy"
    PAYER = "payer"
    GPO = "gpo"


class FormularyStatus(models.TextChoices):
    PREFERRED = "preferred"
    COVERED = "covered"
    PRIOR_AUTH = "prior_auth"
    STEP_EDIT = "step_edit"
    NOT_COVERED = "not_covered"


class Credential(models.TextChoices):
    MD = "MD"
    DO = "DO"
    NP = "NP"
    PA = "PA"
    PHARMD = "PharmD"
    RN = "RN"
    OTHER = "other"


class Specialty(models.TextChoices):
    CARDIOLOGY = "cardiology"
    ONCOLOGY = "oncology"
    HEMATOLOGY = "hematology"
    ENDOCRINOLOGY = "endocrinology"
    NEUROLOGY = "neurology"
    RHEUMATOLOGY = "rheumatology"
    NEPHROLOGY = "nephrology"
    PULMONOLOGY = "pulmonology"
    GASTROENTEROLOGY = "gastroenterology"
    DERMATOLOGY = "dermatology"
    PSYCHIATRY = "psychiatry"
    INFECTIOUS_DISEASE = "infectious_disease"
    INTERNAL_MEDICINE = "internal_medicine"
    FAMILY_MEDICINE = "family_medicine"
    PEDIATRICS = "pediatrics"
    OBSTETRICS_GYNECOLOGY = "obstetrics_gynecology"
    PHARMACY = "pharmacy"
    NURSE_PRACTITIONER = "nurse_practitioner"
    OTHER = "other"


class CustomerRole(models.TextChoices):
    PRESCRIBER = "prescriber"
    PHARMACIST = "pharmacist"
    NURSE = "nurse"
    CARE_COORDINATOR = "care_coordinator"
    FORMULARY_DECISION_MAKER = "formulary_decision_maker"


class PracticeSetting(models.TextChoices):
    HOSPITAL = "hospital"
    ACADEMIC_CENTER = "academic_center"
    OUTPATIENT_CLINIC = "outpatient_clinic"
    COMMUNITY_PRACTICE = "community_practice"
    INFUSION_CENTER = "infusion_center"
    PHARMACY = "pharmacy"


class Channel(models.TextChoices):
    REP_VISIT = "rep_visit"
    REMOTE_DETAIL = "remote_detail"
    EMAIL = "email"
    WEBINAR = "webinar"
    CONGRESS = "congress"
    SPEAKER_PROGRAM = "speaker_program"
    PORTAL = "portal"
    PHONE = "phone"


class InteractionKind(models.TextChoices):
    SENT = "sent"
    OPENED = "opened"
    CLICKED = "clicked"
    ATTENDED = "attended"
    REGISTERED = "registered"
    DOWNLOADED = "downloaded"
    VISITED = "visited"
    REQUESTED_INFO = "requested_info"
    CALLED = "called"


class Topic(models.TextChoices):
    MECHANISM_OF_ACTION = "mechanism_of_action"
    EFFICACY = "efficacy"
    SAFETY = "safety"
    DOSING = "dosing"
    PATIENT_SELECTION = "patient_selection"
    ACCESS = "access"
    PATIENT_SUPPORT = "patient_support"
    DISEASE_EDUCATION = "disease_education"


class Indication(models.TextChoices):
    """Approved indications a segment targets and an asset promotes (docs/governance.md,
    "Indications"). One list, so the off-label guard compares codes, never spellings."""

    HEART_FAILURE = "heart_failure"
    HYPERTENSION = "hypertension"
    ANGINA = "angina"
    ATRIAL_FIBRILLATION = "atrial_fibrillation"
    HYPERLIPIDEMIA = "hyperlipidemia"
    TYPE_2_DIABETES = "type_2_diabetes"
    TYPE_1_DIABETES = "type_1_diabetes"
    OBESITY = "obesity"
    CHRONIC_KIDNEY_DISEASE = "chronic_kidney_disease"
    ASTHMA = "asthma"
    COPD = "copd"
    RHEUMATOID_ARTHRITIS = "rheumatoid_arthritis"
    PSORIASIS = "psoriasis"
    MULTIPLE_SCLEROSIS = "multiple_sclerosis"
    BREAST_CANCER = "breast_cancer"
    NON_SMALL_CELL_LUNG_CANCER = "non_small_cell_lung_cancer"
    MIGRAINE = "migraine"
    MAJOR_DEPRESSIVE_DISORDER = "major_depressive_disorder"


class RxMetric(models.TextChoices):
    NRX = "nrx"
    TRX = "trx"
    NEW_PATIENT_STARTS = "new_patient_starts"


# Two-letter US state and territory codes (USPS): 50 states, DC and the
# inhabited territories. Military "states" (AA, AE, AP) are not places a
# customer practises, so they are refused.
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP UM".split()
)
