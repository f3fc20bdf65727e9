"""Engine dispatch, and a sweep over inputs that every emitted rule has texts in its profile."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from geodata.errors import DataError
from protocols import ENGINES, Contraindication, Strategy, decide
from protocols._requirements import ENGINE_RULES

ONSETS_MIN = (None, 60, 179, 180, 181, 719, 720, 721, 2880, 2881)
DIAGNOSIS_TO_WIRE_MIN = (None, 50, 80, 119, 120, 121, 300)
AGES = (None, 74, 75)


def sweep_decisions(profile, make_input):
    """Decide every combination of onset, delay, age, shock, arrest and contraindication."""
    for onset_min, delay_min, age, shock, arrest, contraindication in itertools.product(
        ONSETS_MIN, DIAGNOSIS_TO_WIRE_MIN, AGES, (False, True), (False, True), tuple(Contraindication)
    ):
        inp = make_input(
            onset_min=onset_min,
            diagnosis_to_wire_min=delay_min,
            age_years=age,
            shock=shock,
            arrest=arrest,
            contraindication=contraindication,
        )
        yield decide(inp, profile)


def test_engines_match_requirements():
    assert set(ENGINES) == set(ENGINE_RULES)


@pytest.mark.parametrize("profile_fixture", ["esc_profile", "legacy_profile"])
def test_sweep_emits_every_declared_rule(request, make_input, profile_fixture):
    profile = request.getfixturevalue(profile_fixture)
    emitted = set()
    strategies = set()

    for decision in sweep_decisions(profile, make_input):
        strategies.add(decision.strategy)
        for firing in decision.rules:
            emitted.add(firing.rule_id)
            for lang in ("fr", "en"):
                assert "{" not in firing.text(lang), (firing.rule_id, lang)
                assert firing.text(lang).strip(), (firing.rule_id, lang)
        # The lysis dose goes with a lysis strategy and nothing else.
        if decision.strategy is not Strategy.fibrinolysis_then_transfer:
            assert decision.lysis_dose is None

    assert emitted == ENGINE_RULES[profile.engine]
    assert strategies == set(Strategy)


def test_decide_rejects_unknown_engine(esc_profile, make_input):
    broken = dataclasses.replace(esc_profile, engine="esc2099")

    with pytest.raises(DataError) as caught:
        decide(make_input(), broken)

    assert caught.value.code == "profile_invalid"
    assert caught.value.field == "engine"
