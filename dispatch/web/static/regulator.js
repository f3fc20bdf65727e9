// The regulator's page: locate the patient, set the onset and flags, get the answer.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("call-form");
  const communeInput = document.getElementById("commune");
  const coordsInput = document.getElementById("coords");
  const preciseInput = document.getElementById("onset-precise");
  const answerBox = document.getElementById("answer");

  const regionMap = RMap.create(document.getElementById("map"), {
    onClick(lat, lon) {
      coordsInput.value = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
      completion.clear();
      R.setFieldError("coords", "");
      regionMap.setPatient(lat, lon);
    },
  });

  // The console and the tests reach the map through this name.
  window.regulatorMap = regionMap;

  const completion = R.attachCompletion(communeInput, document.getElementById("commune-list"), (item) => {
    coordsInput.value = "";
    R.setFieldError("coords", "");
    if (regionMap) regionMap.setPatient(item.lat, item.lon);
  });

  // Typing coordinates replaces a chosen commune, and the reverse.
  coordsInput.addEventListener("input", () => {
    if (coordsInput.value.trim()) completion.clear();
  });
  communeInput.addEventListener("input", () => {
    if (communeInput.value.trim()) coordsInput.value = "";
  });
  preciseInput.addEventListener("input", () => {
    document.getElementById("onset-precise-choice").checked = true;
  });

  function render(answer, elapsedMs) {
    const [bar, legend] = RAnswer.chainBar(answer.chain_min);
    const printButton = R.element("button", { type: "button", class: "no-print", id: "print", text: R.t("web.print") });
    printButton.addEventListener("click", () => window.print());
    answerBox.replaceChildren(
      RAnswer.strategyBlock(answer),
      RAnswer.facts(answer),
      RAnswer.delayGauge(answer),
      RAnswer.section("web.answer.chain", bar, legend, RAnswer.timeline(answer)),
      RAnswer.section("web.answer.alternatives", RAnswer.alternativesTable(answer)),
      RAnswer.section("web.answer.rules", RAnswer.rulesList(answer)),
      RAnswer.section("web.answer.warnings", RAnswer.warningsList(answer)),
      R.element("p", { class: "meta", text: RAnswer.patientLine(answer) }),
      R.element("p", {
        class: "meta",
        // The network's version already starts with "v" (v4-…), which the text also puts before it.
        text: R.t("web.answer.network", {
          name: answer.network.name,
          version: String(answer.network.version).replace(/^v/, ""),
          profile: answer.profile.name,
          sites: answer.sites_version,
        }),
      }),
      R.element("p", { class: "meta no-print", id: "elapsed", text: R.t("web.answer.elapsed", { ms: elapsedMs }) }),
      R.element("p", { class: "meta print-only", text: R.t("web.answer.printed", { time: new Date().toLocaleString(R.lang === "fr" ? "fr-FR" : "en-GB") }) }),
      printButton,
    );
    answerBox.dataset.strategy = answer.strategy;
    if (regionMap) regionMap.showAnswer(answer);
    // On a narrow screen the panels stack and the answer sits below the form.
    if (window.matchMedia("(max-width: 1000px)").matches) answerBox.scrollIntoView({ block: "start" });
  }

  // After a failed request the previous answer is removed from the panel, the map and the
  // print, so nobody reads it as the answer for the place now typed.
  function discard() {
    if (!answerBox.dataset.strategy) return;
    answerBox.replaceChildren(R.element("p", { class: "empty", id: "answer-discarded", "data-t": "web.answer.discarded", text: R.t("web.answer.discarded") }));
    delete answerBox.dataset.strategy;
    if (regionMap) regionMap.clearAnswer();
  }

  R.handleCalls(form, completion, render, discard);

  const onsetChoice = (value) => () => {
    const radio = form.querySelector(`input[name=onset][value="${value}"]`);
    radio.checked = true;
    radio.focus();
  };
  R.shortcuts({
    KeyC: () => communeInput.focus(),
    KeyG: () => coordsInput.focus(),
    Digit1: onsetChoice("30"),
    Digit2: onsetChoice("60"),
    Digit3: onsetChoice("120"),
    Digit4: onsetChoice("unknown"),
    KeyH: () => {
      document.getElementById("onset-precise-choice").checked = true;
      preciseInput.focus();
    },
    KeyA: () => document.getElementById("age").focus(),
    KeyP: () => window.print(),
    KeyR: () => document.getElementById("resources").focus(),
    KeyL: () => R.toggleLang(),
  });

  RResources.create(document.getElementById("resources"));
  communeInput.focus();
});
