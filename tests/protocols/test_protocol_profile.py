"""Profile files: shipped contents, sources on every value, and errors that name the bad key."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from geodata.errors import DataError
from protocols import (
    CHAIN_PARAMETERS,
    DEFAULT_PROFILE,
    PROFILES_DIR,
    Confidence,
    available_profiles,
    load_profile,
)
from protocols._requirements import ENGINE_RULES, ENGINE_THRESHOLDS, RULE_VALUES

SHIPPED = ("esc2023", "fr-has2006")

# name → (value, low, high, unit) as the time-chain defaults are specified.
EXPECTED_CHAIN = {
    "dispatch_delay_min": (5, 3, 10, "min"),
    "fmc_to_diagnosis_min": (10, 5, 15, "min"),
    "on_scene_pci_min": (15, 10, 25, "min"),
    "on_scene_lysis_min": (20, 15, 30, "min"),
    "door_to_wire_direct_min": (20, 15, 30, "min"),
    "door_to_wire_ed_min": (45, 30, 60, "min"),
    "emergency_time_factor": (0.85, 0.75, 1.0, "ratio"),
    "off_road_speed_kmh": (30, 20, 40, "km/h"),
    "off_road_detour_factor": (1.4, 1.2, 1.8, "ratio"),
    "heli_activation_day_min": (8, 3, 17, "min"),
    "heli_activation_night_min": (15, 10, 20, "min"),
    "heli_block_speed_kmh": (220, 180, 240, "km/h"),
    "heli_on_scene_min": (20, 15, 25, "min"),
    "heli_landing_to_lab_min": (8, 5, 12, "min"),
    "heli_landing_zone_road_speed_kmh": (40, 30, 50, "km/h"),
}


def test_shipped_profiles_listed():
    assert available_profiles() == SHIPPED
    assert DEFAULT_PROFILE == "esc2023"
    assert load_profile().name == "esc2023"


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_loads_by_name_and_path(name):
    by_name = load_profile(name)
    by_path = load_profile(PROFILES_DIR / f"{name}.yaml")
    by_path_text = load_profile(str(PROFILES_DIR / f"{name}.yaml"))

    assert by_name.name == name
    assert by_name == by_path
    assert by_name == by_path_text
    assert by_name.engine in ENGINE_RULES
    assert by_name.version


@pytest.mark.parametrize("name", SHIPPED)
def test_every_threshold_has_source(name):
    profile = load_profile(name)

    assert set(profile.thresholds) == ENGINE_THRESHOLDS[profile.engine]
    for key, threshold in profile.thresholds.items():
        assert threshold.source.strip(), key
        assert threshold.unit.strip(), key
        assert isinstance(threshold.confidence, Confidence), key
        assert math.isfinite(threshold.value), key


@pytest.mark.parametrize("name", SHIPPED)
def test_every_chain_parameter_has_source(name):
    profile = load_profile(name)

    assert tuple(profile.chain) == CHAIN_PARAMETERS
    for key, parameter in profile.chain.items():
        assert parameter.source.strip(), key
        assert isinstance(parameter.confidence, Confidence), key
        assert parameter.low <= parameter.value <= parameter.high, key


@pytest.mark.parametrize("name", SHIPPED)
def test_chain_defaults(name):
    chain = load_profile(name).chain

    for key, (value, low, high, unit) in EXPECTED_CHAIN.items():
        assert (chain[key].value, chain[key].low, chain[key].high, chain[key].unit) == (value, low, high, unit), key


def test_esc_thresholds(esc_profile):
    expected = {
        "reperfusion_window_min": 720,
        "late_presenter_max_min": 2880,
        "pci_delay_max_min": 120,
        "lysis_bolus_max_min": 10,
        "half_dose_age_years": 75,
    }
    for key, value in expected.items():
        assert esc_profile.threshold(key) == value, key
    assert esc_profile.thresholds["half_dose_age_years"].confidence is Confidence.from_memory


def test_legacy_thresholds_secondary_source(legacy_profile):
    for key, value in (("pci_preferred_onset_min", 180), ("fmc_to_wire_max_min", 90)):
        threshold = legacy_profile.thresholds[key]
        assert threshold.value == value
        assert threshold.confidence is Confidence.secondary_source
        assert "Lapostolle" in threshold.source


def sample_values(rule_id):
    """Return values for every name that ``rule_id`` carries, a plan id or a fractional number."""
    return {name: "plan-a/road" if name == "plan_id" else 12.5 for name in RULE_VALUES[rule_id]}


@pytest.mark.parametrize("name", SHIPPED)
def test_every_rule_renders_both_languages(name):
    profile = load_profile(name)

    assert set(profile.rules) == ENGINE_RULES[profile.engine]
    for rule_id in ENGINE_RULES[profile.engine]:
        firing = profile.render_rule(rule_id, sample_values(rule_id))
        for lang in ("fr", "en"):
            text = firing.text(lang)
            assert text.strip(), (rule_id, lang)
            assert "{" not in text, (rule_id, lang)
            assert "}" not in text, (rule_id, lang)
        assert firing.text_fr != firing.text_en, rule_id
        assert firing.source.strip(), rule_id
        assert firing.source_text("fr") == profile.rules[rule_id].source_fr, rule_id
        assert firing.source_text("en") == profile.rules[rule_id].source, rule_id


@pytest.mark.parametrize("name", SHIPPED)
def test_every_rule_has_both_sources(name):
    profile = load_profile(name)

    for rule_id, rule in profile.rules.items():
        assert rule.source_fr is not None, rule_id
        assert rule.source_fr.strip(), rule_id
        assert rule.source.strip(), rule_id
        assert rule.source_fr != rule.source, rule_id


def test_render_rule_rejects_wrong_values(esc_profile):
    with pytest.raises(ValueError, match="fibrinolysis"):
        esc_profile.render_rule("fibrinolysis", {"bolus_min": 10})


# --- Bad files ---


def write_profile(tmp_path: Path, data) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def esc_data():
    return yaml.safe_load((PROFILES_DIR / "esc2023.yaml").read_text(encoding="utf-8"))


def delete_key(*keys):
    def change(data):
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


def set_key(value, *keys):
    def change(data):
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected_field"),
    [
        (delete_key("thresholds", "pci_delay_max_min"), "thresholds.pci_delay_max_min"),
        (delete_key("thresholds", "pci_delay_max_min", "source"), "thresholds.pci_delay_max_min.source"),
        (set_key("120", "thresholds", "pci_delay_max_min", "value"), "thresholds.pci_delay_max_min.value"),
        (set_key(-5, "thresholds", "pci_delay_max_min", "value"), "thresholds.pci_delay_max_min.value"),
        (set_key(math.nan, "thresholds", "pci_delay_max_min", "value"), "thresholds.pci_delay_max_min.value"),
        (set_key("sure", "thresholds", "pci_delay_max_min", "confidence"), "thresholds.pci_delay_max_min.confidence"),
        (set_key(" ", "thresholds", "half_dose_age_years", "unit"), "thresholds.half_dose_age_years.unit"),
        (
            set_key({"value": 1, "unit": "min", "source": "x", "confidence": "read"}, "thresholds", "pci_delay_min"),
            "thresholds.pci_delay_min",
        ),
        (delete_key("chain", "heli_block_speed_kmh"), "chain.heli_block_speed_kmh"),
        (delete_key("chain", "dispatch_delay_min", "source"), "chain.dispatch_delay_min.source"),
        (set_key(20, "chain", "dispatch_delay_min", "low"), "chain.dispatch_delay_min"),
        (set_key("fast", "chain", "emergency_time_factor", "unit_name"), "chain.emergency_time_factor.unit_name"),
        (delete_key("rules", "rescue_pci"), "rules.rescue_pci"),
        (delete_key("rules", "fibrinolysis", "text", "en"), "rules.fibrinolysis.text.en"),
        (delete_key("rules", "fibrinolysis", "source", "fr"), "rules.fibrinolysis.source.fr"),
        (delete_key("rules", "fibrinolysis", "source", "en"), "rules.fibrinolysis.source.en"),
        (set_key(" ", "rules", "fibrinolysis", "source", "fr"), "rules.fibrinolysis.source.fr"),
        (set_key("ESC 2017 STEMI", "rules", "fibrinolysis", "source"), "rules.fibrinolysis.source"),
        (set_key("ESC", "rules", "fibrinolysis", "source", "de"), "rules.fibrinolysis.source.de"),
        (set_key("Bolus dans {bolus_min} min.", "rules", "fibrinolysis", "text", "fr"), "rules.fibrinolysis.text.fr"),
        (set_key("Bolus {bolus_max_min:.1f}", "rules", "fibrinolysis", "text", "en"), "rules.fibrinolysis.text.en"),
        (set_key("Bolus {bolus_max_min", "rules", "fibrinolysis", "text", "fr"), "rules.fibrinolysis.text.fr"),
        (set_key("esc2099", "engine"), "engine"),
        (set_key(1, "version"), "version"),
        (delete_key("name"), "name"),
        (set_key("blue", "colour"), "colour"),
    ],
)
def test_bad_profile_names_key(tmp_path, change, expected_field):
    data = esc_data()
    change(data)
    path = write_profile(tmp_path, data)

    with pytest.raises(DataError) as caught:
        load_profile(path)

    assert caught.value.code == "profile_invalid"
    assert caught.value.field == expected_field
    assert expected_field in str(caught.value)
    assert str(path) in str(caught.value)


def test_legacy_rules_rejected_by_esc_engine(tmp_path):
    data = yaml.safe_load((PROFILES_DIR / "fr-has2006.yaml").read_text(encoding="utf-8"))
    data["engine"] = "esc2023"

    with pytest.raises(DataError) as caught:
        load_profile(write_profile(tmp_path, data))

    assert caught.value.field == "thresholds.pci_delay_max_min"


@pytest.mark.parametrize("text", ["name: [unclosed", "- a list\n- not a mapping\n", ""])
def test_unparsable_profile(tmp_path, text):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(DataError) as caught:
        load_profile(path)

    assert caught.value.code == "profile_invalid"
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", ["esc2099", "../esc2023", "ESC 2023"])
def test_profile_not_found(name):
    with pytest.raises(DataError) as caught:
        load_profile(name)

    assert caught.value.code == "profile_not_found"
    assert caught.value.field == "profile"
    assert "esc2023" in str(caught.value)
