"""Plain-text rendering of an answer for the terminal, in the answer's language."""

from __future__ import annotations

from typing import Any

from dispatch.i18n import translate


def decimal(value: float, lang: str) -> str:
    """Format a number with the decimal separator of ``lang`` (a comma in French)."""
    text = f"{value:g}" if isinstance(value, int) else f"{value}"
    return text.replace(".", ",") if lang == "fr" else text


def hours_minutes(minutes: int) -> str:
    """Format minutes as "1 h 48" (or "47 min" under an hour), as a regulator reads them."""
    hours, rest = divmod(int(minutes), 60)
    return f"{hours} h {rest:02d}" if hours else f"{rest} min"


def render_text(answer: dict[str, Any], lang: str) -> str:
    """Return the answer as a few aligned lines a regulator reads in seconds."""
    t = lambda key, **params: translate(key, lang, **params)  # noqa: E731
    sep = t("label.sep")
    lines = [t("label.title"), ""]

    lines.append(f"{t('label.strategy')}{sep}{answer['strategy_text'].upper()}")
    destination = answer["destination"]
    if destination:
        finess = f" (FINESS {destination['finess']})" if destination.get("finess") else ""
        lines.append(f"{t('label.destination')}{sep}{destination['name']}{finess}")
        lines.append(f"{t('label.transport')}{sep}{t('transport.' + answer['transport'])}")
    decisive = answer["decisive_delay"]
    # The delay the profile compares with its threshold: diagnosis (ESC) or first medical
    # contact (legacy French rule) to wire crossing.
    delay_label = t("label.fmc_to_wire") if decisive["name"] == "fmc_to_wire" else t("label.diagnosis_to_wire")
    threshold = f"({t('label.threshold')} {decisive['threshold_min']:g} min)" if decisive["threshold_min"] is not None else ""
    if decisive["value_min"] is not None and answer.get("bolus_within_min") is not None:
        # Fibrinolysis: the PCI time is the reason, the chain below is the lysis plan's.
        lines.append(f"{t('label.fastest_pci')} · {delay_label}{sep}{decisive['value_min']} min {threshold}")
        lines.append(f"{t('label.bolus')}{sep}{t('label.bolus_within', minutes=answer['bolus_within_min'])}")
        lines.append(f"{t('label.call_to_arrival')}{sep}{answer['call_to_arrival_min']} min")
    elif decisive["value_min"] is not None:
        wire_range = answer.get("diagnosis_to_wire_range_min")
        spread = f" [{t('label.range')} {wire_range[0]}–{wire_range[1]}]" if wire_range and decisive["name"] == "diagnosis_to_wire" else ""
        lines.append(
            f"{delay_label}{sep}{decisive['value_min']} min{spread} {threshold} · {t('label.call_to_wire')}{sep}{answer['call_to_wire_min']} min"
        )
    domestic = answer.get("domestic_alternative")
    if domestic:
        lines.append(
            f"{t('label.domestic')}{sep}{domestic['strategy_text']} · {domestic['destination']['name']} · "
            f"{domestic['diagnosis_to_wire_min']} min"
        )
    if answer["smur"]:
        lines.append(f"{t('label.smur')}{sep}{answer['smur']['name']} ({answer['smur']['drive_min']} min, {decimal(answer['smur']['drive_km'], lang)} km)")
    helicopter = answer.get("helicopter")
    if helicopter:
        night = t("label.night") if helicopter["night"] else ""
        leg = t(
            "label.helicopter_leg",
            base=helicopter["base_name"],
            activation=helicopter["activation_min"],
            flight=helicopter["flight_to_scene_min"],
            km=decimal(helicopter["flight_to_scene_km"], lang),
            night=night,
        )
        lines.append(f"{t('label.helicopter')}{sep}{leg}")
    if answer.get("air"):
        lines.append(f"{t('label.air')}{sep}{answer['air']['reason']}")
        if answer["air"].get("unavailable_text"):
            lines.append(f"{t('label.air_unavailable')}{sep}{answer['air']['unavailable_text']}")

    patient = answer["patient"]
    commune = f" · {patient['commune']['name']} ({patient['commune']['insee']})" if patient["commune"] else ""
    symptoms = patient["symptom_min_at_diagnosis"]
    if symptoms is None:
        symptoms_text = t("label.onset_unknown")
    else:
        symptoms_text = f"{hours_minutes(symptoms)} ({symptoms} min)" if symptoms >= 60 else f"{symptoms} min"
    if patient.get("located_by") == "commune":
        position = t("label.by_commune")
    elif patient.get("located_by") == "place":
        position = t("label.place", place=patient["place"])
    else:
        position = t("label.snap", distance_m=patient["snap_distance_m"])
    lines.append(f"{t('label.patient')}{sep}{patient['lat']:.5f}, {patient['lon']:.5f}{commune} · {position}")
    lines.append(f"{t('label.symptoms')}{sep}{symptoms_text}")

    lines += ["", t("label.chain")]
    for name, minutes in answer["chain_min"].items():
        lines.append(f"  {t('chain.' + name):<48} {minutes:>4}")
    timeline = answer.get("timeline") or {}
    if timeline:
        lines.append("  " + " → ".join(f"{t('timeline.' + name)} {value[11:16]}" for name, value in timeline.items()))

    lines += ["", t("label.alternatives")]
    for plan in answer["alternatives"]:
        lines.append(
            f"  {plan['diagnosis_to_wire_min']:>4} min  {t('transport.' + plan['transport']):<14} "
            f"{plan['destination']['name']}  ({plan['transport_min']} min, {decimal(plan['transport_km'], lang)} km)"
        )

    lines += ["", t("label.rules")]
    for rule in answer["rules"]:
        lines.append(f"  [{rule['id']}] {rule['text']}")
        lines.append(f"      {t('label.source')}{sep}{rule['source']}")

    if answer["warnings"]:
        lines += ["", t("label.warnings")]
        lines += [f"  ! {w['text']}" for w in answer["warnings"]]

    network = answer["network"]
    footer = t("label.footer", source=t("source." + network["source"]), name=network["name"], version=network["version"], date=network["date"], closed=network["closed_sections"])
    lines += ["", f"{t('label.network')}{sep}{footer}"]
    return "\n".join(lines)
