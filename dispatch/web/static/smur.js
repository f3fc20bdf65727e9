// The SMUR team's page, for a phone: the team's position, the destination and the
// alternatives with their times.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("call-form");
  const coordsInput = document.getElementById("coords");
  const communeInput = document.getElementById("commune");
  const answerBox = document.getElementById("answer");
  const geoStatus = document.getElementById("geolocate-status");

  const completion = R.attachCompletion(communeInput, document.getElementById("commune-list"), () => {
    coordsInput.value = "";
  });
  coordsInput.addEventListener("input", () => {
    if (coordsInput.value.trim()) completion.clear();
  });

  // NOTE: browsers give the position only to secure pages (https, or 127.0.0.1). A phone
  // reaching the service over plain http on the SAMU network gets "unsupported" and types
  // the coordinates instead, until the service is put behind TLS.
  document.getElementById("geolocate").addEventListener("click", () => {
    if (!navigator.geolocation || !window.isSecureContext) {
      geoStatus.textContent = R.t("web.geolocate.unsupported");
      return;
    }
    geoStatus.textContent = R.t("web.geolocate.waiting");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        coordsInput.value = `${position.coords.latitude.toFixed(5)}, ${position.coords.longitude.toFixed(5)}`;
        completion.clear();
        R.setFieldError("coords", "");
        geoStatus.textContent = R.t("web.geolocate.done", { accuracy: Math.round(position.coords.accuracy) });
      },
      (error) => {
        geoStatus.textContent = R.t("web.geolocate.failed", { message: error.message });
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  });

  function alternativeCards(answer) {
    const list = R.element("ol", { class: "cards" });
    for (const plan of answer.alternatives) {
      const chosen = answer.destination && plan.destination.id === answer.destination.id && plan.transport === answer.transport;
      list.append(
        R.element(
          "li",
          { class: chosen ? "card chosen" : "card" },
          R.element("strong", { text: plan.destination.name }),
          R.element("span", {
            text: `${R.t("web.column.d2w")} ${plan.diagnosis_to_wire_min} min · ${R.t("web.column.transport_min")} ${plan.transport_min} min · ${R.number(plan.transport_km)} km · ${RAnswer.transportText(plan)}`,
          }),
        ),
      );
    }
    return list;
  }

  function render(answer, elapsedMs) {
    const warnings = R.element("details", {}, R.element("summary", { text: `${R.t("web.answer.warnings")} (${answer.warnings.length})` }), RAnswer.warningsList(answer));
    answerBox.replaceChildren(
      R.element("p", { class: "destination-big", id: "destination", text: answer.destination ? answer.destination.name : R.t("web.answer.no_destination") }),
      RAnswer.strategyBlock(answer),
      RAnswer.facts(answer),
      RAnswer.delayGauge(answer),
      RAnswer.section("web.answer.alternatives", alternativeCards(answer)),
      warnings,
      R.element("p", { class: "meta", text: RAnswer.patientLine(answer) }),
      R.element("p", { class: "meta", id: "elapsed", text: R.t("web.answer.elapsed", { ms: elapsedMs }) }),
    );
    answerBox.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  // After a failed request the previous destination is removed, so it is not read as the
  // destination for the position now given.
  function discard() {
    if (!answerBox.childElementCount) return;
    answerBox.replaceChildren(R.element("p", { class: "empty", id: "answer-discarded", "data-t": "web.answer.discarded", text: R.t("web.answer.discarded") }));
  }

  R.handleCalls(form, completion, render, discard);
});
