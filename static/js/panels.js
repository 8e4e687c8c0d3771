// The explore view's panels: put the analytics routes' answers on the page, as they are.
// This module formats; every number is the API's.

import { count, seconds } from "./format.js";

const $ = (selector) => document.querySelector(selector);
const whole = new Intl.NumberFormat("en-US");

/** A whole number in full (1,234), for tables whose cells are read and compared. */
export function full(value) {
  return value == null ? "–" : whole.format(value);
}

/** A share as a percentage: 0.4567 -> 45.7 %. */
export function percent(value) {
  return value == null ? "–" : `${(value * 100).toFixed(1).replace(/\.0$/, "")} %`;
}

function cell(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** GET /metrics/breakdown: one row per value, most events first. */
export function breakdown(body) {
  $("#breakdown-empty").hidden = body.rows.length > 0;
  $("#breakdown-rows").replaceChildren(
    ...body.rows.map((row) => {
      const line = document.createElement("tr");
      line.className = "border-t border-slate-100";
      line.dataset.value = row.value == null ? "" : String(row.value);
      const name = cell("td", row.value == null ? "(none)" : String(row.value), "max-w-[12rem] truncate py-1.5 pr-2 font-mono text-slate-700");
      name.title = name.textContent;
      line.append(
        name,
        cell("td", full(row.events), "py-1.5 pr-2 text-right tabular-nums"),
        cell("td", full(row.users), "py-1.5 pr-2 text-right tabular-nums"),
        cell("td", seconds(row.avg_duration), "py-1.5 text-right tabular-nums text-slate-600")
      );
      return line;
    })
  );
}

const SESSION_TILES = [
  ["sessions", count],
  ["median_seconds", seconds],
  ["mean_seconds", seconds],
  ["bounce_rate", percent],
  ["events_per_session", (value) => (value == null ? "–" : value.toFixed(2).replace(/\.?0+$/, ""))],
];

/** GET /metrics/sessions: a row of tiles; each keeps the API's number in data-value. */
export function sessions(body) {
  for (const [name, format] of SESSION_TILES) {
    const node = $(`[data-session="${name}"]`);
    node.textContent = format(body[name]);
    node.dataset.value = String(body[name]);
  }
}

/** GET /metrics/funnel: a bar per step, its length the step's people against the first's. */
export function funnel(body) {
  const first = body.steps.length ? body.steps[0].people : 0;
  $("#funnel-result").replaceChildren(
    ...body.steps.map((step, i) => {
      const item = document.createElement("li");
      item.className = "grid grid-cols-[minmax(0,10rem)_1fr_auto] items-center gap-2 text-sm";
      item.dataset.step = step.step;
      item.dataset.people = String(step.people);
      const name = cell("span", `${i + 1}. ${step.step}`, "truncate font-mono text-slate-700");
      const track = document.createElement("span");
      track.className = "h-5 rounded bg-slate-100";
      const bar = document.createElement("span");
      bar.className = "block h-5 rounded bg-emerald-500";
      bar.style.width = `${first ? Math.max(1, (100 * step.people) / first) : 0}%`;
      track.append(bar);
      const took = step.median_seconds_from_previous == null ? "" : `, median ${seconds(step.median_seconds_from_previous)} after the previous`;
      const value = cell("span", `${full(step.people)} · ${percent(step.conversion_from_first)}`, "tabular-nums text-slate-600");
      value.dataset.role = "people";
      item.title = `${step.step}: ${step.people} people, ${percent(step.conversion_from_first)} of the first step, ${percent(step.conversion_from_previous)} of the previous${took}`;
      item.append(name, track, value);
      return item;
    })
  );
}

/** GET /metrics/retention: one row per cohort; cell k is the people of the cohort active k periods later. */
export function retention(body) {
  const periods = body.cohorts.length ? body.cohorts[0].active.length : 0;
  const unit = body.period === "week" ? "week" : "day";
  const head = document.createElement("tr");
  head.append(cell("th", `Cohort (${unit})`, "py-1 pr-2 text-left font-medium"), cell("th", "People", "py-1 pr-2 text-right font-medium"));
  for (let k = 0; k < periods; k++) head.append(cell("th", `${k}`, "px-1 py-1 text-right font-medium"));
  $("#retention-head").replaceChildren(head);
  $("#retention-empty").hidden = body.cohorts.some((cohort) => cohort.size > 0);
  $("#retention-rows").replaceChildren(
    ...body.cohorts.map((cohort) => {
      const row = document.createElement("tr");
      row.className = "border-t border-slate-100";
      row.dataset.cohort = cohort.start;
      row.append(cell("td", cohort.start.slice(0, 10), "py-1 pr-2 font-mono text-xs text-slate-600"));
      row.append(cell("td", full(cohort.size), "py-1 pr-2 text-right tabular-nums"));
      cohort.active.forEach((active, k) => {
        const share = cohort.size ? active / cohort.size : 0;
        const node = cell("td", full(active), "px-1 py-1 text-right tabular-nums");
        node.dataset.k = String(k);
        node.style.backgroundColor = `rgba(79, 70, 229, ${(0.08 + 0.6 * share).toFixed(3)})`;
        if (share > 0.6) node.style.color = "white";
        node.title = `${active} of ${cohort.size} people of ${cohort.start} active ${k} ${unit}${k === 1 ? "" : "s"} later (${percent(share)})`;
        row.append(node);
      });
      return row;
    })
  );
}
