// The live resource panel: SMUR teams, helicopters and cath labs with their states and
// ages, kept current by the service's event stream. The stream is read with fetch()
// rather than EventSource, because EventSource cannot send the Authorization header.
// Its `store` events report whether the shared store is reachable: while it is not, every
// unit reads stale with its state unknown, under a banner giving since when.
"use strict";

const RResources = (() => {
  const KINDS = ["smur", "helicopter", "cath_lab"];
  const RETRY_UNAVAILABLE_MS = 60000;
  const RETRY_STREAM_MS = 3000;

  function create(panel) {
    const list = panel.querySelector(".resource-list");
    const status = panel.querySelector(".resource-status");
    const banner = R.element("p", { class: "resource-banner", role: "alert", hidden: "hidden" });
    list.before(banner);
    const units = new Map();
    // States picked in a unit's selector and not applied yet, by unit key.
    const choices = new Map();
    let states = {};
    let store = null;
    let streamAbort = null;
    // False until the current stream's first store event, which the service sends once subscribed.
    let subscribed = false;

    function key(unit) {
      return `${unit.kind}/${unit.unit_id}`;
    }

    let lastStatus = [null, {}, false];

    function setStatus(textKey, params, failed = false) {
      lastStatus = [textKey, params, failed];
      status.textContent = textKey ? R.t(textKey, params) : "";
      status.classList.toggle("failed", failed);
    }

    function ageOf(unit) {
      return unit.age_s + (Date.now() - unit.receivedAt) / 1000;
    }

    // True while the last store health read reports the store unreachable.
    function storeDown() {
      return Boolean(store && store.reachable === false);
    }

    function renderBanner() {
      banner.hidden = !storeDown();
      banner.textContent = storeDown() ? R.t("web.resources.unreachable_since", { time: store.since ? R.clockTime(store.since) : "?" }) : "";
    }

    function unitRow(unit) {
      const down = storeDown();
      const state = unit.stale || down ? "unknown" : unit.state;
      // A unit never set has no age: the time since the page loaded is not one.
      const neverSet = unit.set_at === null || unit.age_s === null;
      const details = [neverSet ? R.t("web.resources.never_set") : R.t("web.resources.age", { age: R.duration(ageOf(unit)) })];
      if (down) details.push(R.t("web.resources.outdated"));
      else if (unit.stale) details.push(R.t("web.resources.stale"));
      if (unit.until) details.push(R.t("web.resources.until", { time: R.clockTime(unit.until) }));
      if (unit.set_by) details.push(R.t("web.resources.set_by", { name: unit.set_by }));

      // The selector starts on an empty choice, so Apply changes nothing until a state is
      // picked. A pick not yet applied survives the list being drawn again.
      const picked = choices.get(key(unit)) || "";
      const select = R.element("select", { "aria-label": R.t("web.resources.change", { name: unit.name }) });
      select.append(R.element("option", { value: "", selected: picked ? null : "selected", text: R.t("web.resources.choose") }));
      for (const choice of states[unit.kind] || []) {
        select.append(R.element("option", { value: choice, selected: choice === picked ? "selected" : null, text: R.t(`state.${choice}`) }));
      }
      const apply = R.element("button", { type: "button", class: "small", disabled: picked ? null : "disabled", text: R.t("web.resources.apply") });
      select.addEventListener("change", () => {
        if (select.value) choices.set(key(unit), select.value);
        else choices.delete(key(unit));
        apply.disabled = !select.value;
      });
      apply.addEventListener("click", () => {
        if (select.value) change(unit, select.value);
      });

      return R.element(
        "li",
        { class: `unit state-${state}`, "data-unit": key(unit) },
        R.element("span", { class: "unit-name", text: unit.name }),
        R.element("span", { class: "unit-state", text: R.t(`state.${state}`) }),
        R.element("span", { class: "unit-age", text: details.join(" · ") }),
        R.element("span", { class: "unit-change" }, select, apply),
      );
    }

    function render() {
      renderBanner();
      list.replaceChildren();
      if (!units.size) {
        list.append(R.element("p", { text: R.t("web.resources.empty") }));
        return;
      }
      for (const kind of KINDS) {
        const members = [...units.values()].filter((unit) => unit.kind === kind);
        if (!members.length) continue;
        members.sort((a, b) => a.name.localeCompare(b.name));
        const group = R.element("ul", { class: "unit-group" });
        for (const unit of members) group.append(unitRow(unit));
        list.append(R.element("h3", { text: R.t(`web.resources.kind.${kind}`) }), group);
      }
      if (store && store.reachable === false) setStatus("web.resources.store_down", { name: store.name }, true);
    }

    function upsert(unit) {
      units.set(key(unit), { ...unit, receivedAt: Date.now() });
    }

    async function change(unit, state) {
      let result;
      try {
        result = await R.api(`/api/v1/resources/${encodeURIComponent(unit.kind)}/${encodeURIComponent(unit.unit_id)}`, { method: "PUT", body: { state } });
      } catch (error) {
        setStatus("web.resources.save_failed", { name: unit.name, message: error.message }, true);
        return;
      }
      if (!result.ok) {
        setStatus("web.resources.save_failed", { name: unit.name, message: R.errorMessage(result.data, result.status) }, true);
        return;
      }
      choices.delete(key(unit));
      if (result.data && result.data.unit_id) upsert(result.data);
      setStatus("web.resources.saved", { name: unit.name, state: R.t(`state.${state}`) });
      render();
    }

    async function load() {
      let result;
      try {
        result = await R.api("/api/v1/resources");
      } catch (error) {
        setStatus("web.resources.failed", { message: error.message }, true);
        setTimeout(load, RETRY_STREAM_MS * 5);
        return;
      }
      if (result.status === 404) {
        list.replaceChildren();
        setStatus("web.resources.unavailable", {}, true);
        setTimeout(load, RETRY_UNAVAILABLE_MS);
        return;
      }
      if (!result.ok) {
        setStatus("web.resources.failed", { message: R.errorMessage(result.data, result.status) }, true);
        setTimeout(load, RETRY_UNAVAILABLE_MS);
        return;
      }
      showList(result.data);
      stream();
    }

    function showList(data) {
      store = data.store;
      units.clear();
      for (const unit of data.units) upsert(unit);
      setStatus("web.resources.live");
      render();
    }

    // Read the list again once the stream is subscribed: a change made between the first
    // read and the subscription is in this list, and every later change comes as an event.
    async function refreshList() {
      try {
        const result = await R.api("/api/v1/resources");
        if (result.ok) showList(result.data);
      } catch (error) {
        console.error("resource list not refreshed", error);
      }
    }

    // Read the event stream until it ends, then load the snapshot again, which also
    // recovers the changes made while the stream was down.
    async function stream() {
      if (streamAbort) streamAbort.abort();
      streamAbort = new AbortController();
      subscribed = false;
      try {
        const response = await fetch("/api/v1/resources/events", { headers: await R.headers({ Accept: "text/event-stream" }), signal: streamAbort.signal });
        if (!response.ok || !response.body) throw new Error(String(response.status));
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          const blocks = buffer.split(/\r?\n\r?\n/);
          buffer = blocks.pop();
          for (const block of blocks) handleEvent(block);
        }
      } catch (error) {
        if (error.name === "AbortError") return;
      }
      setStatus("web.resources.reconnecting", {}, true);
      setTimeout(load, RETRY_STREAM_MS);
    }

    function handleEvent(block) {
      let event = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(":")) continue;
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if ((event !== "state" && event !== "store") || !data.length) return;
      let body;
      try {
        body = JSON.parse(data.join("\n"));
      } catch (error) {
        console.error("unreadable resource event", error, block);
        return;
      }
      if (event === "store") {
        handleStore(body);
        return;
      }
      upsert(body);
      if (!storeDown()) setStatus("web.resources.live");
      render();
    }

    // A store event comes at each heartbeat and when reachability changes. Back from an
    // outage, the list is loaded again, because the changes made meanwhile were not sent.
    function handleStore(health) {
      const wasDown = storeDown();
      const first = !subscribed;
      subscribed = true;
      store = { ...(store || {}), ...health };
      if (first && !storeDown()) {
        refreshList();
        return;
      }
      if (storeDown()) {
        setStatus("web.resources.store_down", { name: store.name }, true);
        render();
      } else if (wasDown) {
        load();
      }
    }

    R.configReady.then((config) => {
      states = config.resource_states || {};
      load();
    });
    // Ages grow between events.
    setInterval(() => units.size && !list.contains(document.activeElement) && render(), 15000);
    R.onLang(() => {
      setStatus(...lastStatus);
      if (units.size) render();
    });
    return { reload: load };
  }

  return { create };
})();
