"""The fields of a registry case: CSV columns, their order in the care chain, allowed values."""

from __future__ import annotations

# Times of the care chain, in the order they happen. A CSV column of the same name holds
# an ISO 8601 date-time; one without a UTC offset is read in the region's timezone.
TIME_FIELDS: tuple[str, ...] = (
    "onset",
    "call",
    "smur_departure",
    "first_medical_contact",
    "ecg",
    "diagnosis",
    "lysis_bolus",
    "scene_departure",
    "arrival",
    "arterial_puncture",
    "wire_crossing",
)

# The care chain as stages: each time present may not precede any time of an earlier
# stage. The lysis bolus and the scene departure share a stage because the bolus may be
# given on scene or on the way.
CHAIN_STAGES: tuple[tuple[str, ...], ...] = (
    ("onset",),
    ("call",),
    ("smur_departure",),
    ("first_medical_contact",),
    ("ecg",),
    ("diagnosis",),
    ("lysis_bolus", "scene_departure"),
    ("arrival",),
    ("arterial_puncture",),
    ("wire_crossing",),
)

STRATEGIES = ("primary_pci", "fibrinolysis_then_transfer", "pci_centre_no_lysis", "no_emergency_reperfusion")
TRANSPORTS = ("road", "helicopter")
ADMISSIONS = ("direct", "ed")
SEXES = ("F", "M")
# Where a case's stored position came from: lat/lon given with the case, or the commune's
# centre when none were given.
POSITION_MEASURED = "measured"
POSITION_COMMUNE_CENTRE = "commune_centre"

# Columns of a recommendation given outside the live service (a paper protocol, a past
# registry): the import stores them as a recommendation linked to the case.
RECOMMENDED_FIELDS: tuple[str, ...] = (
    "recommended_strategy",
    "recommended_destination",
    "recommended_transport",
    "predicted_call_to_arrival_min",
    "predicted_diagnosis_to_wire_min",
)

CASE_FIELDS: tuple[str, ...] = (
    "case_id",
    "age_years",
    "sex",
    "commune_insee",
    "lat",
    "lon",
    *TIME_FIELDS,
    "strategy",
    "transport",
    "destination",
    "admission",
    "in_hospital_death",
    "recommendation_id",
)

CSV_COLUMNS: tuple[str, ...] = (*CASE_FIELDS, *RECOMMENDED_FIELDS)
REQUIRED_COLUMNS: tuple[str, ...] = ("case_id", "commune_insee", "call")

# Column names that would carry a patient's identity. A file holding one is rejected
# whole: the registry is pseudonymous and stores age in years, never a birth date.
IDENTITY_COLUMNS = frozenset(
    {
        "name", "first_name", "last_name", "surname", "given_name", "nom", "prenom", "prénom",
        "birth_date", "date_of_birth", "dob", "birthdate", "date_naissance", "naissance",
        "ssn", "nir", "insee_patient", "address", "adresse", "phone", "telephone", "téléphone",
    }
)
