// Rendering of a recommendation answer, shared by both pages.
"use strict";

const RAnswer = (() => {
  const el = (...args) => R.element(...args);

  function transportText(plan) {
    const transport = R.t(`transport.${plan.transport}`);
    if (plan.helicopter) return R.t("web.answer.helicopter", { transport, base: plan.helicopter.base_name });
    return transport;
  }

  function strategyBlock(answer) {
    return el("div", { class: `strategy strategy-${answer.strategy}`, id: "strategy", text: answer.strategy_text });
  }

  function delayText(answer) {
    if (answer.diagnosis_to_wire_min === null || answer.diagnosis_to_wire_min === undefined) return R.t("web.answer.unknown");
    const parts = [R.t("web.answer.d2w_value", { minutes: answer.diagnosis_to_wire_min })];
    const range = answer.diagnosis_to_wire_range_min;
    if (range) parts.push(R.t("web.answer.d2w_range", { low: range[0], high: range[1] }));
    if (answer.threshold_min) parts.push(R.t("web.answer.threshold", { minutes: answer.threshold_min }));
    return parts.join(" · ");
  }

  // A bar of the diagnosis-to-wire delay against the threshold, with the range shaded.
  function delayGauge(answer) {
    const value = answer.diagnosis_to_wire_min;
    const threshold = answer.threshold_min;
    if (value === null || value === undefined || !threshold) return null;
    const range = answer.diagnosis_to_wire_range_min || [value, value];
    const scale = Math.max(threshold * 1.5, range[1] * 1.1, value * 1.1);
    const percent = (minutes) => `${Math.min(100, (minutes / scale) * 100).toFixed(1)}%`;
    const over = value > threshold;
    const gauge = el(
      "div",
      { class: `gauge ${over ? "over" : "within"}`, role: "img", "aria-label": `${delayText(answer)} (${R.t(over ? "web.answer.over_threshold" : "web.answer.within_threshold")})` },
      el("span", { class: "gauge-range" }),
      el("span", { class: "gauge-value" }),
      el("span", { class: "gauge-threshold" }),
    );
    gauge.children[0].style.left = percent(range[0]);
    gauge.children[0].style.width = `calc(${percent(range[1])} - ${percent(range[0])})`;
    gauge.children[1].style.width = percent(value);
    gauge.children[2].style.left = percent(threshold);
    return gauge;
  }

  function chainBar(chain) {
    // The service lists the intervals in chain order, road or air.
    const names = Object.keys(chain);
    const total = names.reduce((sum, name) => sum + chain[name], 0) || 1;
    const bar = el("div", { class: "chain-bar" });
    const legend = el("ol", { class: "chain-legend" });
    names.forEach((name, index) => {
      const label = R.t(`chain.${name}`);
      const segment = el("span", { class: `chain-segment chain-${index % 10}`, title: `${label} – ${chain[name]} min`, text: chain[name] >= total * 0.06 ? String(chain[name]) : "" });
      segment.style.flexGrow = String(Math.max(chain[name], 0.5));
      bar.append(segment);
      legend.append(el("li", { class: `chain-${index % 10}` }, el("span", { class: "swatch" }), `${label} – ${chain[name]} min`));
    });
    return [bar, legend];
  }

  function timeline(answer) {
    const list = el("ol", { class: "timeline" });
    for (const [name, iso] of Object.entries(answer.timeline || {})) {
      list.append(el("li", {}, el("strong", { text: R.clockTime(iso) }), ` ${R.t(`timeline.${name}`)}`));
    }
    return list;
  }

  function alternativesTable(answer) {
    const head = el(
      "tr",
      {},
      el("th", { scope: "col", text: R.t("web.column.destination") }),
      el("th", { scope: "col", text: R.t("web.column.transport") }),
      el("th", { scope: "col", class: "number", text: R.t("web.column.d2w") }),
      el("th", { scope: "col", class: "number", text: R.t("web.column.transport_min") }),
      el("th", { scope: "col", class: "number", text: R.t("web.column.km") }),
    );
    const body = el("tbody");
    for (const plan of answer.alternatives) {
      const chosen = answer.destination && plan.destination.id === answer.destination.id && plan.transport === answer.transport;
      body.append(
        el(
          "tr",
          { class: chosen ? "chosen" : null },
          el("td", { text: plan.destination.name }),
          el("td", { text: transportText(plan) }),
          el("td", { class: "number", text: `${plan.diagnosis_to_wire_min} min` }),
          el("td", { class: "number", text: `${plan.transport_min} min` }),
          el("td", { class: "number", text: R.number(plan.transport_km) }),
        ),
      );
    }
    return el("table", { class: "alternatives" }, el("thead", {}, head), body);
  }

  function rulesList(answer) {
    const list = el("ul", { class: "rules" });
    for (const rule of answer.rules) {
      list.append(el("li", {}, el("span", { text: rule.text }), el("small", { text: R.t("web.answer.source", { source: rule.source }) })));
    }
    return list;
  }

  function warningsList(answer) {
    const list = el("ul", { class: "warnings" });
    for (const warning of answer.warnings) list.append(el("li", { "data-code": warning.code, text: warning.text }));
    return list;
  }

  function facts(answer) {
    const destination = answer.destination ? answer.destination.name : R.t("web.answer.no_destination");
    const rows = [
      ["web.answer.destination", destination, "destination"],
      ["web.answer.transport", answer.transport ? transportText(answer) : "–", "transport"],
    ];
    if (answer.air && answer.air.reason) rows.push(["label.air", answer.air.reason, "air"]);
    if (answer.air && answer.air.unavailable_text) rows.push(["label.air_unavailable", answer.air.unavailable_text, "air-unavailable"]);
    if (answer.smur) {
      rows.push([
        "web.answer.smur",
        R.t("web.answer.smur_value", { name: answer.smur.name, minutes: answer.smur.drive_min ?? "–", km: R.number(answer.smur.drive_km) }),
        "smur",
      ]);
    }
    rows.push(["web.answer.d2w", delayText(answer), "d2w"]);
    const list = el("dl", { class: "facts" });
    for (const [label, value, id] of rows) list.append(el("dt", { text: R.t(label) }), el("dd", { id: `answer-${id}`, text: value }));
    return list;
  }

  function patientLine(answer) {
    const patient = answer.patient;
    const names = [patient.place, patient.commune && patient.commune.name].filter(Boolean);
    const where = [...new Set(names)].join(" · ");
    const lines = [R.t("web.answer.patient", { lat: patient.lat.toFixed(5), lon: patient.lon.toFixed(5), where })];
    if (patient.symptom_min_at_diagnosis !== null && patient.symptom_min_at_diagnosis !== undefined) {
      lines.push(R.t("web.answer.symptoms", { minutes: patient.symptom_min_at_diagnosis }));
    }
    if (patient.age_years !== null && patient.age_years !== undefined) lines.push(R.t("web.answer.age", { years: patient.age_years }));
    if (patient.cardiogenic_shock) lines.push(R.t("web.label.shock"));
    if (patient.resuscitated_arrest) lines.push(R.t("web.label.arrest"));
    if (patient.contraindication && patient.contraindication !== "none") {
      lines.push(R.t("web.answer.contraindication", { kind: R.t(`web.contraindication.${patient.contraindication}`) }));
    }
    return lines.join(" · ");
  }

  function section(titleKey, ...children) {
    return el("section", { class: "answer-part" }, el("h3", { text: R.t(titleKey) }), ...children);
  }

  return { transportText, strategyBlock, delayText, delayGauge, chainBar, timeline, alternativesTable, rulesList, warningsList, facts, patientLine, section };
})();
