// Shared by the regulator's and the SMUR team's pages: texts, language, access token,
// API calls, coordinate parsing, commune completion and the call form's request.
"use strict";

const R = (() => {
  const TEXTS = JSON.parse(document.getElementById("texts").textContent);
  const LANG_KEY = "resurcor.lang";
  const TOKEN_KEY = "resurcor.token";
  let lang = document.documentElement.lang || "fr";
  const langListeners = [];

  // ---- Texts and language ------------------------------------------------------------

  function t(key, params = {}) {
    const text = (TEXTS[lang] && TEXTS[lang][key]) || (TEXTS.fr && TEXTS.fr[key]);
    if (text === undefined) {
      console.error("missing catalogue entry", key);
      return key;
    }
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  function applyTexts(root = document) {
    for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    for (const el of root.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
    for (const el of root.querySelectorAll("[data-t-title]")) el.title = t(el.dataset.tTitle);
    for (const el of root.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  }

  function setLang(next) {
    if (!TEXTS[next]) return;
    lang = next;
    localStorage.setItem(LANG_KEY, next);
    document.cookie = `resurcor_lang=${next}; path=/; max-age=31536000; SameSite=Strict`;
    document.documentElement.lang = next;
    applyTexts();
    for (const listener of langListeners) listener(next);
  }

  function toggleLang() {
    setLang(lang === "fr" ? "en" : "fr");
  }

  // The server renders the language of the cookie; a language kept only in
  // localStorage (cookie cleared) is applied here.
  const stored = localStorage.getItem(LANG_KEY);
  if (stored && stored !== lang && TEXTS[stored]) setLang(stored);

  // ---- Access token and API calls ----------------------------------------------------

  let config = null;
  const configReady = fetch("/api/v1/web/config", { headers: { "Accept-Language": lang } })
    .then((response) => response.json())
    .then((body) => {
      config = body;
      return body;
    });

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function forgetToken() {
    sessionStorage.removeItem(TOKEN_KEY);
  }

  // Show the token dialog and resolve once a token was typed. Calls made while the
  // dialog is open share its promise, so one token serves every waiting request.
  let tokenPrompt = null;

  // Escape would close the dialog and leave the waiting requests without a token.
  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("token-dialog").addEventListener("cancel", (event) => event.preventDefault());
  });

  function askToken(message) {
    const dialog = document.getElementById("token-dialog");
    const input = document.getElementById("token-input");
    const error = document.getElementById("token-error");
    if (message) error.textContent = message;
    if (tokenPrompt) return tokenPrompt;

    input.value = "";
    tokenPrompt = new Promise((resolve) => {
      dialog.querySelector("form").onsubmit = (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        sessionStorage.setItem(TOKEN_KEY, value);
        error.textContent = "";
        tokenPrompt = null;
        dialog.close();
        resolve(value);
      };
    });
    if (!dialog.open) dialog.showModal();
    input.focus();
    return tokenPrompt;
  }

  async function headers(extra = {}) {
    await configReady;
    if (config.tokens_required && !token()) await askToken();
    const result = { "Accept-Language": lang, ...extra };
    if (token()) result.Authorization = `Bearer ${token()}`;
    return result;
  }

  // Call the API and return {ok, status, data}. After a 401 the user is asked for
  // another token, once. A network failure throws, for the caller to show web.error.network.
  async function api(path, { method = "GET", body = undefined, retry = true } = {}) {
    const extra = body === undefined ? {} : { "Content-Type": "application/json" };
    const response = await fetch(path, { method, headers: await headers(extra), body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    if ((response.headers.get("content-type") || "").includes("application/json")) data = await response.json();
    if (response.status === 401 && retry && config.tokens_required) {
      forgetToken();
      await askToken(t("web.token.rejected", { message: errorMessage(data, response.status) }));
      return api(path, { method, body, retry: false });
    }
    return { ok: response.ok, status: response.status, data };
  }

  function errorMessage(data, status) {
    return (data && data.error && data.error.message) || String(status);
  }

  // ---- Coordinates -------------------------------------------------------------------

  // One coordinate: an optional hemisphere letter, degrees, then optional minutes and
  // seconds with their marks, then an optional letter. A decimal comma is a comma
  // between digits; a comma followed by anything else separates the two coordinates.
  const NUMBER = String.raw`(\d+(?:[.,]\d+)?)`;
  const COORDINATE = new RegExp(
    String.raw`([NSEWO])?\s*(-)?\s*` + NUMBER +
      String.raw`\s*(?:°\s*(?:` + NUMBER + String.raw`\s*'\s*(?:` + NUMBER + String.raw`\s*(?:"|'')?\s*)?)?)?` +
      String.raw`([NSEWO](?![A-Z]))?`,
    "iy",
  );
  const SEPARATOR = /\s*[,;\/]?\s*/y;

  function toNumber(text) {
    return text === undefined ? undefined : Number(text.replace(",", "."));
  }

  // Return {lat, lon} or {error: catalogue key, params}.
  function parseCoordinates(raw) {
    const value = raw.trim();
    const text = value
      .replace(/[′’‘`´]/g, "'")
      .replace(/[″”“]/g, '"')
      .replace(/[º˚]/g, "°")
      .replace(/\s+/g, " ");
    const found = [];
    let position = 0;
    while (position < text.length) {
      COORDINATE.lastIndex = position;
      const match = COORDINATE.exec(text);
      if (!match || match[0].length === 0) return { error: "web.coords.invalid", params: { value } };
      found.push(match);
      position = COORDINATE.lastIndex;
      SEPARATOR.lastIndex = position;
      SEPARATOR.exec(text);
      position = SEPARATOR.lastIndex;
    }
    if (found.length !== 2) return { error: "web.coords.count", params: { count: found.length, value } };

    const values = [];
    for (const match of found) {
      const [whole, before, minus, degreesText, minutesText, secondsText, after] = match;
      const letter = (before || after || "").toUpperCase();
      if (minus && letter) return { error: "web.coords.sign_and_letter", params: { value: whole.trim() } };
      const minutes = toNumber(minutesText) || 0;
      const seconds = toNumber(secondsText) || 0;
      if (minutes >= 60 || seconds >= 60) return { error: "web.coords.minutes", params: { value: minutes >= 60 ? minutes : seconds } };
      if (minutesText !== undefined && !Number.isInteger(toNumber(degreesText))) return { error: "web.coords.invalid", params: { value } };
      let degrees = toNumber(degreesText) + minutes / 60 + seconds / 3600;
      if (minus || letter === "S" || letter === "W" || letter === "O") degrees = -degrees;
      let axis = null;
      if (letter === "N" || letter === "S") axis = "lat";
      else if (letter) axis = "lon";
      values.push({ degrees, axis, text: whole.trim() });
    }

    let [first, second] = values;
    if (first.axis && second.axis && first.axis === second.axis) {
      return { error: "web.coords.hemisphere", params: { value: `${first.text} ${second.text}` } };
    }
    // A longitude given first with its letter (E 6.87, N 45.92) is put back in order.
    if (first.axis === "lon" || second.axis === "lat") [first, second] = [second, first];
    const lat = first.degrees;
    const lon = second.degrees;
    if (!(lat >= -90 && lat <= 90)) return { error: "web.coords.latitude_range", params: { value: lat } };
    if (!(lon >= -180 && lon <= 180)) return { error: "web.coords.longitude_range", params: { value: lon } };
    return { lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6 };
  }

  // ---- Field errors ------------------------------------------------------------------

  function setFieldError(name, message) {
    const box = document.getElementById(`${name}-error`);
    const input = document.getElementById(name);
    if (box) box.textContent = message || "";
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function clearErrors(form) {
    for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.setAttribute("aria-invalid", "false");
  }

  // The API names the request field at fault; the pages show it beside their own field.
  const FIELD_OF = { commune: "commune", lat: "coords", lon: "coords", onset: "onset-precise", at: "onset-precise", age: "age", contraindication: "contraindication" };

  function showServerError(form, error) {
    const field = FIELD_OF[error.field];
    if (field && document.getElementById(`${field}-error`)) {
      setFieldError(field, error.message);
      document.getElementById(field).focus();
    } else {
      setFieldError("form", error.message);
    }
  }

  // ---- Commune completion ------------------------------------------------------------

  // Attach completion to ``input`` with suggestions in ``list``. While the list is open,
  // Enter picks the highlighted suggestion (the first by default). Enter typed during a
  // search waits for its result. Once a suggestion is picked, Enter submits the form.
  function attachCompletion(input, list, onPick) {
    let items = [];
    let active = 0;
    let picked = null;
    let pending = null;
    let sequence = 0;
    let timer = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function render() {
      list.replaceChildren();
      items.forEach((item, index) => {
        const option = document.createElement("li");
        option.id = `${list.id}-${index}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", index === active ? "true" : "false");
        option.textContent = item.label;
        if (item.kind === "place") {
          const kind = document.createElement("small");
          kind.textContent = ` · ${t("web.completion.place")}`;
          option.append(kind);
        }
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(index);
        });
        list.append(option);
      });
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        input.setAttribute("aria-activedescendant", `${list.id}-${active}`);
      } else {
        close();
      }
    }

    function search() {
      const query = input.value.trim();
      const mine = ++sequence;
      if (!query) {
        items = [];
        render();
        return Promise.resolve();
      }
      pending = api(`/api/v1/communes?q=${encodeURIComponent(query)}&limit=8`)
        .then(({ ok, status, data }) => {
          if (mine !== sequence) return;
          if (!ok) {
            setFieldError(input.id, t("web.completion.failed", { message: errorMessage(data, status) }));
            items = [];
          } else {
            items = data.suggestions;
            setFieldError(input.id, items.length ? "" : t("web.completion.none", { query }));
          }
          active = 0;
          render();
        })
        .catch((error) => {
          if (mine === sequence) setFieldError(input.id, t("web.error.network", { message: error.message }));
        })
        .finally(() => {
          if (mine === sequence) pending = null;
        });
      return pending;
    }

    function pick(index) {
      const item = items[index];
      if (!item) return;
      picked = item;
      input.value = item.label;
      items = [];
      close();
      setFieldError(input.id, "");
      onPick(item);
    }

    input.addEventListener("input", () => {
      picked = null;
      clearTimeout(timer);
      // The timer groups fast typing. The promise covers the wait and the search, so
      // Enter typed right after the last letter waits for that letter's suggestions.
      pending = new Promise((resolve) => {
        timer = setTimeout(() => search().then(resolve), 60);
      });
    });

    input.addEventListener("keydown", async (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!items.length) return;
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        render();
      } else if (event.key === "Escape") {
        close();
      } else if (event.key === "Enter" && !picked && input.value.trim()) {
        event.preventDefault();
        if (pending) await pending;
        // A second Enter typed before the search returned finds the first Enter's pick
        // made, and submits.
        if (items.length) pick(active);
        else input.form.requestSubmit();
      }
    });

    input.addEventListener("blur", () => setTimeout(close, 150));

    return {
      picked: () => picked,
      clear() {
        picked = null;
        input.value = "";
        items = [];
        close();
      },
    };
  }

  // ---- The call form -----------------------------------------------------------------

  const ONSET_MINUTES = { 30: 30, 60: 60, 120: 120 };

  // Return the request body of the form, or null after showing each field's error.
  function buildRequest(form, completion) {
    clearErrors(form);
    const body = { lang };
    let valid = true;

    const coordsText = form.querySelector("#coords").value.trim();
    const communeText = form.querySelector("#commune").value.trim();
    if (coordsText) {
      const parsed = parseCoordinates(coordsText);
      if (parsed.error) {
        setFieldError("coords", t(parsed.error, parsed.params));
        valid = false;
      } else {
        body.lat = parsed.lat;
        body.lon = parsed.lon;
      }
    } else if (communeText) {
      const picked = completion.picked();
      body.commune = picked && picked.label === communeText ? picked.value : communeText;
    } else {
      setFieldError("form", t(form.dataset.missingKey || "web.location.missing"));
      valid = false;
    }

    const choice = form.querySelector("input[name=onset]:checked");
    const precise = form.querySelector("#onset-precise");
    if (choice && choice.value in ONSET_MINUTES) {
      body.onset = new Date(Date.now() - ONSET_MINUTES[choice.value] * 60000).toISOString();
    } else if (choice && choice.value === "precise") {
      if (!precise.value.trim()) {
        setFieldError("onset-precise", t("web.onset.precise_missing"));
        valid = false;
      } else {
        body.onset = precise.value.trim();
      }
    }

    const age = form.querySelector("#age");
    if (age && age.value.trim()) {
      const years = Number(age.value.trim());
      if (!Number.isInteger(years) || years < 0 || years > 120) {
        setFieldError("age", t("web.age.invalid", { value: age.value.trim() }));
        valid = false;
      } else {
        body.age = years;
      }
    }
    const shock = form.querySelector("#shock");
    if (shock) body.shock = shock.checked;
    const arrest = form.querySelector("#arrest");
    if (arrest) body.arrest = arrest.checked;
    const contraindication = form.querySelector("#contraindication");
    if (contraindication && contraindication.value !== "none") body.contraindication = contraindication.value;

    if (!valid) {
      const first = form.querySelector("[aria-invalid=true]");
      if (first) first.focus();
      return null;
    }
    return body;
  }

  // Send a recommendation request; return the answer, or null after showing the error.
  async function recommend(form, body) {
    const started = performance.now();
    let result;
    try {
      result = await api("/api/v1/recommendations", { method: "POST", body: { ...body, lang } });
    } catch (error) {
      setFieldError("form", t("web.error.network", { message: error.message }));
      return null;
    }
    if (!result.ok) {
      if (result.data && result.data.error) showServerError(form, result.data.error);
      else setFieldError("form", t("web.error.request", { status: result.status, message: "" }));
      return null;
    }
    return { answer: result.data, elapsedMs: Math.round(performance.now() - started) };
  }

  // Send a recommendation request when ``form`` is submitted and show the answer with
  // ``render(answer, elapsedMs)``. A failed request (invalid field, place out of the
  // region, service error) calls ``discard()``, because the answer on screen was for
  // another request and must not be read as the current one. A change of language sends
  // the last request again, because the answer's texts and the service's errors come
  // from the service, or checks the fields again to show their errors in the new language.
  function handleCalls(form, completion, render, discard = () => {}) {
    const button = form.querySelector("[type=submit]");
    const idleKey = button.dataset.t;
    let lastBody = null;
    // The request that failed: { body } after a service error, { body: null } after invalid fields.
    let failure = null;

    function fail(body) {
      lastBody = null;
      failure = { body };
      discard();
    }

    async function send(body) {
      button.disabled = true;
      button.textContent = t("web.busy");
      try {
        const result = await recommend(form, body);
        if (result) {
          lastBody = body;
          failure = null;
          render(result.answer, result.elapsedMs);
        } else {
          fail(body);
        }
      } finally {
        button.disabled = false;
        button.textContent = t(idleKey);
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = buildRequest(form, completion);
      if (body) send(body);
      else fail(null);
    });
    // Browsers submit on Enter from text fields only; the radios, checkboxes and the
    // select submit too, so Enter works from every field of the form.
    form.addEventListener("keydown", (event) => {
      const target = event.target;
      if (event.key !== "Enter" || event.altKey || event.ctrlKey) return;
      if (target.type === "radio" || target.type === "checkbox" || target.tagName === "SELECT") {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    langListeners.push(() => {
      if (failure && failure.body) send(failure.body);
      else if (failure) buildRequest(form, completion);
      else if (lastBody) send(lastBody);
    });
  }

  // ---- Small formatting helpers -------------------------------------------------------

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function clockTime(iso) {
    return iso ? iso.slice(11, 16) : "";
  }

  function duration(seconds) {
    if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
    const hours = Math.floor(seconds / 3600);
    return `${hours} h ${String(Math.round((seconds % 3600) / 60)).padStart(2, "0")}`;
  }

  function number(value, digits = 1) {
    return Number(value).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", { maximumFractionDigits: digits });
  }

  // Keyboard shortcuts: Alt + the key's code runs its action.
  function shortcuts(actions) {
    document.addEventListener("keydown", (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const action = actions[event.code];
      if (!action) return;
      event.preventDefault();
      action();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("lang-switch");
    if (button) button.addEventListener("click", toggleLang);
    const forget = document.getElementById("token-forget");
    if (forget) {
      configReady.then((body) => {
        forget.hidden = !body.tokens_required;
      });
      forget.addEventListener("click", () => {
        forgetToken();
        askToken();
      });
    }
  });

  return {
    t,
    get lang() {
      return lang;
    },
    onLang: (listener) => langListeners.push(listener),
    toggleLang,
    configReady,
    api,
    headers,
    errorMessage,
    parseCoordinates,
    setFieldError,
    attachCompletion,
    buildRequest,
    handleCalls,
    element,
    clockTime,
    duration,
    number,
    shortcuts,
  };
})();
