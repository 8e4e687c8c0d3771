// The dashboard: poll the API every 3 s, render what it answers, say plainly when it can't.

import { read } from "./api.js";
import { perMinuteChart } from "./chart.js";
import * as explore from "./explore.js";
import { ago, seconds } from "./format.js";
import { KINDS, sendOne, simulate, tally } from "./generator.js";
import { loadKeys, saveKeys } from "./keys.js";
import * as render from "./render.js";

const POLL_MS = 3000;
const SLOW_MS = 2000;
const STALE_S = 10;
const SERIES = { perMinute: "/metrics/per-minute", elements: "/metrics/elements", heatmap: "/metrics/heatmap", users: "/metrics/users" };

const $ = (selector) => document.querySelector(selector);
let keys = { read: "", write: "", source: "none" };
let lastOk = 0;
let waitingSince = 0;
let failing = false;
let timer = 0;
let chart = null;
let traffic = null;

function problemOf(err) {
  const retry = `This page tries again every ${POLL_MS / 1000} s.`;
  switch (err.kind) {
    case "unauthorized":
      return {
        kind: "unauthorized",
        title: keys.read ? "The read key was refused (401)" : "A read key is needed",
        text:
          keys.source === "local"
            ? "The key make run handed this page did not open the metrics function: restart make run."
            : "Enter the read key: make run prints it and keeps it in .local/keys.json; for a deployed engine, ask whoever runs it.",
        action: "Enter keys",
      };
    case "function_down":
      return {
        kind: "unreachable",
        title: "API unreachable: the metrics function is not answering",
        text: `${err.message}. A function that dies is restarted within seconds; if this stays, read .local/logs/metrics.log. ${retry}`,
        action: "Retry now",
      };
    case "timeout":
      return {
        kind: "unreachable",
        title: `API unreachable: no answer within ${err.message.match(/\d+/)[0]} s`,
        text: `The metrics function (or its database) is stopped, overloaded or stuck in a long query. ${retry}`,
        action: "Retry now",
      };
    case "unreachable":
      return {
        kind: "unreachable",
        title: "API unreachable: nothing answers",
        text: `${err.message}. Is make run still running? Start it again with make run. ${retry}`,
        action: "Retry now",
      };
    case "unavailable":
      return { kind: "unavailable", title: "The database is unavailable (503)", text: `${err.message}. ${retry}`, action: "Retry now" };
    default:
      return { kind: "http", title: `Unexpected answer${err.status ? ` (HTTP ${err.status})` : ""}`, text: `${err.message}. ${retry}`, action: "Retry now" };
  }
}

function showSeriesError(name, err) {
  const note = document.querySelector(`[data-error-for="${name}"]`);
  if (!note) return;
  note.hidden = !err;
  note.textContent = err ? `Could not load: ${err.message}` : "";
}

function showEmpty(metrics, users) {
  const fresh = metrics.freshness || {};
  $("#empty").hidden = !(users && users.total.events === 0 && metrics.events_in_window === 0 && !(fresh.backlog > 0));
}

async function poll() {
  if (waitingSince) return; // one poll at a time, whoever asks
  clearTimeout(timer);
  waitingSince = Date.now();
  let next = POLL_MS;
  try {
    if (!keys.read) throw { kind: "unauthorized", message: "no read key" };
    // While /metrics fails, ask only for it: a sick server gets one request per tick.
    const names = failing ? [] : Object.keys(SERIES);
    const [metrics, ...series] = await Promise.allSettled([read("/metrics", keys.read), ...names.map((name) => read(SERIES[name], keys.read))]);
    if (metrics.status === "rejected") throw metrics.reason;
    const got = Object.fromEntries(names.map((name, i) => [name, series[i]]));
    for (const [name, outcome] of Object.entries(got)) showSeriesError(name, outcome.status === "rejected" ? outcome.reason : null);
    const body = (name) => (got[name] && got[name].status === "fulfilled" ? got[name].value.body : null);
    render.tiles(metrics.value.body, body("users"));
    render.freshness(metrics.value.body.freshness);
    if (body("perMinute")) chart.update(body("perMinute"));
    if (body("elements")) render.elements(body("elements"));
    if (body("heatmap")) render.heatmap(body("heatmap"));
    if (body("users")) render.users(body("users"));
    showEmpty(metrics.value.body, body("users"));
    const wasFailing = failing;
    failing = false;
    if (!lastOk) performance.mark("live-first-render"); // the browser tests read it
    lastOk = Date.now();
    render.banner(null);
    document.querySelector("main").dataset.stale = "false";
    const ms = metrics.value.ms;
    render.status(ms > SLOW_MS ? "slow" : "live", ms > SLOW_MS ? `Slow: the API took ${seconds(ms / 1000)}` : "Live");
    if (wasFailing) next = 0; // the series at once, not a tick later
  } catch (err) {
    if (!err.kind) console.error(err); // a defect of this page, not an answer of the API
    failing = true;
    const problem = problemOf(err);
    render.banner(problem);
    document.querySelector("main").dataset.stale = "true"; // old numbers stay, faded, so none is read as current
    render.status("down", problem.kind === "unauthorized" ? "Key refused" : "Unreachable");
  } finally {
    waitingSince = 0;
  }
  timer = setTimeout(poll, next);
}

/** Once a second: "updated Xs ago", and a slow answer being waited for. */
function clock() {
  const age = lastOk ? (Date.now() - lastOk) / 1000 : null;
  const updated = $("#updated");
  updated.textContent = lastOk ? `updated ${ago(age)}` : "waiting for the first answer";
  updated.dataset.stale = String(age != null && age > STALE_S);
  const waited = waitingSince ? (Date.now() - waitingSince) / 1000 : 0;
  if (waited * 1000 > SLOW_MS) render.status("slow", `Slow: waiting ${Math.floor(waited)} s for the API`);
}

function showTally() {
  for (const [name, value] of Object.entries(tally)) $(`[data-tally="${name}"]`).textContent = String(value);
}

function say(text) {
  $("#generator-status").textContent = text;
}

function outcomeText(kind, outcome) {
  if (outcome.ok) {
    const b = outcome.body;
    return b.accepted ? `${kind.action} on ${kind.element}: accepted (event ${b.event_ids[0]})` : `${kind.action}: ${b.duplicates} duplicate`;
  }
  const err = outcome.error;
  return err.kind === "unauthorized" ? `The write key was refused (401): ${err.message}` : `Not sent: ${err.message}`;
}

function setupGenerator() {
  const buttons = $("#kinds");
  buttons.replaceChildren(
    ...KINDS.map((kind) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn";
      button.dataset.kind = kind.action;
      button.innerHTML = `<span class="font-semibold"></span><span class="font-mono text-xs text-slate-500"></span>`;
      button.children[0].textContent = kind.action;
      button.children[1].textContent = kind.element;
      button.addEventListener("click", async () => {
        const outcome = await sendOne(keys.write, kind);
        say(outcomeText(kind, outcome));
        showTally();
      });
      return button;
    })
  );
  const toggle = $("#simulate");
  toggle.addEventListener("click", () => {
    const on = toggle.getAttribute("aria-checked") !== "true";
    toggle.setAttribute("aria-checked", String(on));
    if (on) {
      say("Simulating traffic: about 7 events a second from 12 users.");
      traffic = simulate(keys.write, (outcome) => {
        showTally();
        if (!outcome.ok) say(outcomeText({}, outcome));
      });
    } else {
      traffic && traffic.stop();
      traffic = null;
      say("Simulation stopped.");
    }
  });
}

function enableGenerator() {
  const allowed = Boolean(keys.write);
  for (const control of document.querySelectorAll("#generator button")) control.disabled = !allowed;
  $("#generator-disabled").hidden = allowed;
}

function setupKeys() {
  const dialog = $("#keys-dialog");
  const open = () => {
    $("#read-key").value = keys.source === "saved" ? keys.read : "";
    $("#write-key").value = keys.source === "saved" ? keys.write : "";
    $("#keys-source").textContent =
      keys.source === "local"
        ? "This page has make run's keys (from the gateway's /local-config); keys saved here would not be used."
        : keys.source === "saved"
          ? "Using keys saved in this browser (localStorage)."
          : "No keys yet: make run prints them, and keeps them in .local/keys.json.";
    dialog.showModal();
  };
  $("#keys-button").addEventListener("click", open);
  $("#banner-action").addEventListener("click", () => ($("#banner").dataset.kind === "unauthorized" ? open() : poll()));
  $("#keys-cancel").addEventListener("click", () => dialog.close());
  $("#keys-forget").addEventListener("click", async () => {
    saveKeys("", "");
    dialog.close();
    await start();
  });
  $("#keys-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    saveKeys($("#read-key").value.trim(), $("#write-key").value.trim());
    dialog.close();
    await start();
  });
}

async function start() {
  keys = await loadKeys();
  enableGenerator();
  failing = false;
  explore.refresh();
  await poll();
}

chart = perMinuteChart($("#per-minute"));
explore.setup(() => keys.read);
setupGenerator();
setupKeys();
setInterval(clock, 1000);
start();
