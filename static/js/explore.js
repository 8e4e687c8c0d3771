// The explore view: a range, a timezone and filters over the analytics routes (GET /metrics/timeseries,
// breakdown, sessions, funnel, retention). Its state lives in the URL: every change is a history entry
// (pushState), the back button restores the previous view (popstate), a reload or a shared link the same.

import { download, read } from "./api.js";
import { rangeChart } from "./chart.js";
import * as panels from "./panels.js";
import { FILTERS, browserZone, common, interval, isLive, knownZone, localTime, parse, retention, serialize } from "./state.js";

export const LIVE_MS = 10_000;
// Sessions, funnels and retention follow each person's events over the whole range: on a large store and a
// long range they take longer than the live board's 8 s, so the explore view waits longer before giving up.
const TIMEOUT_MS = 30_000;
const WITHIN = [
  [3600, "1 hour"],
  [86400, "1 day"],
  [7 * 86400, "7 days"],
  [30 * 86400, "30 days"],
];
const PRESET_LABELS = { "1h": "the last hour", today: "today", "7d": "the last 7 days", "30d": "the last 30 days" };

const $ = (selector) => document.querySelector(selector);
let state = parse(location.search);
let readKey = () => "";
let chart = null;
let timer = 0;
let generation = 0;
let shown = {}; // route -> the path whose answer the panel shows (its CSV button downloads the same)

/** The paths of every panel for this state at `now` (the funnel only once it has two steps). */
export function paths(view, now) {
  const base = common(view, now);
  const route = (name, extra) => {
    const params = new URLSearchParams(base);
    for (const [key, value] of Object.entries(extra)) params.set(key, String(value));
    return `/metrics/${name}?${params}`;
  };
  const found = {
    timeseries: route("timeseries", { interval: interval(view, now) }),
    breakdown: route("breakdown", { by: view.by, limit: 10 }),
    sessions: route("sessions", {}),
    retention: route("retention", retention(view, now)),
  };
  if (view.steps.length >= 2) found.funnel = route("funnel", { steps: view.steps.join(","), within: view.within });
  return found;
}

const RENDER = {
  timeseries: (body) => chart.update(body, state.tz),
  breakdown: panels.breakdown,
  sessions: panels.sessions,
  funnel: panels.funnel,
  retention: panels.retention,
};

function showError(route, err) {
  const note = document.querySelector(`[data-error-for="${route}"]`);
  note.hidden = !err;
  note.textContent = err ? `Could not load: ${err.message}` : "";
}

function section(route) {
  return document.querySelector(`[data-csv="${route}"]`).closest("section");
}

/** Ask every panel's route once; render each answer as it arrives while it still belongs to the current view. */
export async function refresh() {
  clearTimeout(timer);
  const key = readKey();
  if (!key) return;
  const mine = ++generation;
  const view = state;
  const wanted = paths(view, new Date());
  const root = $("#explore");
  root.dataset.busy = "true";
  $("#funnel-result").hidden = !wanted.funnel;
  $("#funnel-hint").hidden = Boolean(wanted.funnel);
  if (!wanted.funnel) showError("funnel", null);
  shown = {};
  for (const button of document.querySelectorAll("[data-csv]")) {
    button.dataset.path = "";
    section(button.dataset.csv).setAttribute("aria-busy", String(Boolean(wanted[button.dataset.csv])));
  }
  const asked = Object.entries(wanted).map(async ([route, path]) => {
    let body = null;
    let failed = null;
    try {
      body = (await read(path, key, { timeoutMs: TIMEOUT_MS })).body;
    } catch (err) {
      failed = err;
    }
    if (mine !== generation) return; // a newer view was asked for meanwhile
    showError(route, failed);
    if (body) RENDER[route](body);
    shown[route] = path; // its CSV button downloads what the panel shows
    section(route).setAttribute("aria-busy", "false");
    $(`[data-csv="${route}"]`).dataset.path = path;
    if (!performance.getEntriesByName("explore-first-panel").length) performance.mark("explore-first-panel"); // the browser tests read it
  });
  await Promise.all(asked);
  if (mine !== generation) return;
  root.dataset.view = serialize(view);
  root.dataset.busy = "false";
  root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
  if (root.dataset.renders === "1") performance.mark("explore-first-render"); // every panel: the browser tests read it
  if (isLive(view)) timer = setTimeout(refresh, LIVE_MS);
}

/** A new view: a history entry, the controls, the panels. */
function go(changes) {
  state = { ...state, ...changes };
  history.pushState(null, "", serialize(state));
  controls();
  refresh();
}

function chip(text, label, onRemove) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "inline-flex items-center gap-1 rounded-full bg-indigo-50 px-2.5 py-1 font-mono text-xs text-indigo-900 hover:bg-indigo-100";
  button.textContent = `${text} ×`;
  button.setAttribute("aria-label", label);
  button.addEventListener("click", onRemove);
  item.append(button);
  return item;
}

/** Put the state on the controls (after a change, a reload or the back button). */
function controls() {
  for (const button of document.querySelectorAll("[data-range]")) button.setAttribute("aria-pressed", String(button.dataset.range === state.range));
  $("#custom-range").hidden = state.range !== "custom";
  if (state.range === "custom") {
    $("#range-from").value = state.from;
    $("#range-to").value = state.to;
  }
  const zones = $("#tz");
  if (![...zones.options].some((option) => option.value === state.tz)) zones.append(new Option(state.tz, state.tz));
  zones.value = state.tz;
  $("#breakdown-by").value = state.by;
  $("#breakdown-by-label").textContent = state.by;
  const within = $("#funnel-within");
  if (![...within.options].some((option) => option.value === String(state.within))) within.append(new Option(`${state.within} s`, String(state.within)));
  within.value = String(state.within);
  const range = state.range === "custom" ? `${state.from.replace("T", " ")} to ${state.to.replace("T", " ")}` : PRESET_LABELS[state.range];
  $("#explore-range").textContent = `${range}, ${state.tz}`;
  const live = $("#explore-live");
  live.dataset.live = String(isLive(state));
  live.textContent = isLive(state) ? `Live: updates every ${LIVE_MS / 1000} s` : "Fixed range";
  $("#filters").replaceChildren(
    ...state.filters.map(([name, value], i) =>
      chip(`${name} = ${value}`, `Remove the filter ${name} = ${value}`, () => go({ filters: state.filters.filter((_, j) => j !== i) }))
    )
  );
  $("#funnel-steps").replaceChildren(
    ...state.steps.map((step, i) => chip(`${i + 1}. ${step}`, `Remove step ${i + 1}, ${step}`, () => go({ steps: state.steps.filter((_, j) => j !== i) })))
  );
}

function zoneNames() {
  const names = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...names.filter((name) => name !== "UTC")];
}

function setupControls() {
  for (const button of document.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => {
      if (button.dataset.range !== "custom") return go({ range: button.dataset.range, from: "", to: "" });
      const now = new Date();
      $("#range-to").value = state.range === "custom" ? state.to : localTime(now, state.tz);
      $("#range-from").value = state.range === "custom" ? state.from : localTime(new Date(now.getTime() - 7 * 86400_000), state.tz);
      $("#custom-range").hidden = false;
      $("#range-from").focus();
    });
  }
  $("#custom-range").addEventListener("submit", (event) => {
    event.preventDefault();
    const from = $("#range-from").value;
    const to = $("#range-to").value;
    if (from && to && from < to) go({ range: "custom", from, to });
  });
  const zones = $("#tz");
  zones.replaceChildren(...zoneNames().map((name) => new Option(name, name)));
  zones.addEventListener("change", () => knownZone(zones.value) && go({ tz: zones.value }));
  $("#filter-name").replaceChildren(...FILTERS.map((name) => new Option(name, name)));
  $("#filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("#filter-name").value;
    const value = $("#filter-value").value.trim();
    if (!value || state.filters.some(([n, v]) => n === name && v === value)) return;
    $("#filter-value").value = "";
    go({ filters: [...state.filters, [name, value]] });
  });
  $("#breakdown-by").addEventListener("change", () => go({ by: $("#breakdown-by").value }));
  $("#funnel-within").replaceChildren(...WITHIN.map(([value, label]) => new Option(label, String(value))));
  $("#funnel-within").addEventListener("change", () => go({ within: Number($("#funnel-within").value) }));
  $("#funnel-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const step = $("#funnel-step").value.trim();
    if (!/^[^,:\s]+(:[^,\s]+)?$/.test(step) || state.steps.length >= 20) return;
    $("#funnel-step").value = "";
    go({ steps: [...state.steps, step] });
  });
  for (const button of document.querySelectorAll("[data-csv]")) {
    button.addEventListener("click", async () => {
      const route = button.dataset.csv;
      const note = $(`[data-error-for="${route}"]`);
      if (!shown[route]) return;
      try {
        await download(`${shown[route]}&format=csv`, readKey(), `${route}.csv`);
      } catch (err) {
        note.hidden = false;
        note.textContent = `Could not download: ${err.message}`;
      }
    });
  }
}

/** Start the view: `key` gives the current read key (main.js loads it). */
export function setup(key) {
  readKey = key;
  chart = rangeChart($("#range-chart"));
  if (!new URLSearchParams(location.search).has("tz")) state = { ...state, tz: browserZone() };
  history.replaceState(null, "", serialize(state));
  setupControls();
  controls();
  window.addEventListener("popstate", () => {
    state = parse(location.search);
    controls();
    refresh();
  });
}
