// Put API answers on the page, as they are: this module formats, it does not compute.

import { WEEKDAYS, ago, count, rate, seconds, span } from "./format.js";

const $ = (selector) => document.querySelector(selector);

function setText(selector, text) {
  const node = $(selector);
  if (node && node.textContent !== text) node.textContent = text;
}

/** The four tiles and their window, from GET /metrics and GET /metrics/users. */
export function tiles(metrics, users) {
  const window = span(metrics.window.seconds);
  setText('[data-tile="active_users"]', count(metrics.active_users));
  setText('[data-sub="active_users"]', `in the last ${window}`);
  setText('[data-tile="events_per_min"]', rate(metrics.events_per_min));
  setText('[data-sub="events_per_min"]', `${count(metrics.events_in_window)} events in the last ${window}`);
  setText('[data-tile="avg_duration"]', seconds(metrics.avg_duration));
  setText('[data-sub="avg_duration"]', `of events with a duration, last ${window}`);
  for (const node of document.querySelectorAll("[data-window]")) node.textContent = window;
  if (users) {
    setText('[data-tile="total_events"]', count(users.total.events));
    setText('[data-sub="total_events"]', `from ${count(users.total.users)} users, all time`);
  }
  $('[data-tile="events_per_min"]').dataset.value = String(metrics.events_in_window);
}

/** Backlog, oldest undrained event, last drain and refresh: so that stale is never read as quiet. */
export function freshness(fresh) {
  if (!fresh || !fresh.available) {
    setText('[data-fresh="backlog"]', "unknown (Redis unavailable)");
    setText('[data-fresh="oldest"]', "unknown");
    setText('[data-fresh="drain"]', "unknown");
    setText('[data-fresh="refresh"]', "unknown");
    return;
  }
  setText('[data-fresh="backlog"]', `${count(fresh.backlog)} ${fresh.backlog === 1 ? "event" : "events"}`);
  setText('[data-fresh="oldest"]', fresh.oldest_undrained_age_seconds == null ? "none waiting" : seconds(fresh.oldest_undrained_age_seconds) + " old");
  setText('[data-fresh="drain"]', fresh.seconds_since_drain == null ? "not yet" : ago(fresh.seconds_since_drain));
  setText('[data-fresh="refresh"]', fresh.seconds_since_refresh == null ? "not yet" : ago(fresh.seconds_since_refresh));
  $("#freshness").dataset.lagging = String(fresh.backlog > 0 && fresh.oldest_undrained_age_seconds > 10);
}

/** Horizontal bars of GET /metrics/elements; a bar's length is its count against the first's. */
export function elements(body) {
  const list = $("#elements");
  $("#elements-empty").hidden = body.elements.length > 0;
  const top = body.elements.length ? body.elements[0].events : 1;
  list.replaceChildren(
    ...body.elements.map((row) => {
      const item = document.createElement("li");
      item.className = "grid grid-cols-[minmax(0,9rem)_1fr_auto] items-center gap-2 text-sm";
      item.dataset.element = row.element;
      item.dataset.events = String(row.events);
      item.title = `${row.element}: ${row.events} events from ${row.users} users, mean duration ${seconds(row.avg_duration)}`;
      const name = document.createElement("span");
      name.className = "truncate font-mono text-slate-700";
      name.textContent = row.element;
      const track = document.createElement("span");
      track.className = "h-4 rounded bg-slate-100";
      const bar = document.createElement("span");
      bar.className = "block h-4 rounded bg-indigo-500";
      bar.style.width = `${Math.max(2, (100 * row.events) / top)}%`;
      track.append(bar);
      const value = document.createElement("span");
      value.className = "tabular-nums text-slate-600";
      value.textContent = count(row.events);
      item.append(name, track, value);
      return item;
    })
  );
}

/** The weekday x hour grid of GET /metrics/heatmap; a cell's shade is its count against the largest. */
export function heatmap(body) {
  const grid = $("#heatmap");
  setText("#heatmap-total", `${count(body.events)} events in the last 7 days (UTC)`);
  grid.setAttribute("aria-label", `Activity by weekday and hour, UTC: ${body.events} events in the last 7 days`);
  const cells = grid.querySelectorAll("[data-cell]");
  if (cells.length !== body.cells.length) {
    const nodes = [];
    for (let row = 0; row < 7; row++) {
      const label = document.createElement("span");
      label.className = "pr-1 text-right text-[10px] leading-3 text-slate-500";
      label.textContent = WEEKDAYS[row];
      nodes.push(label);
      for (let hour = 0; hour < 24; hour++) {
        const cell = document.createElement("span");
        cell.className = "aspect-square min-h-2 rounded-sm bg-indigo-600";
        cell.dataset.cell = `${row + 1}-${hour}`;
        nodes.push(cell);
      }
    }
    grid.replaceChildren(...nodes);
  }
  for (const cell of body.cells) {
    const node = grid.querySelector(`[data-cell="${cell.weekday}-${cell.hour}"]`);
    const hour = String(cell.hour).padStart(2, "0");
    node.style.opacity = cell.events ? String(0.15 + (0.85 * cell.events) / body.max_events) : "0.05";
    node.title = `${WEEKDAYS[cell.weekday - 1]} ${hour}:00 UTC: ${cell.events} events`;
    node.dataset.events = String(cell.events);
  }
}

/** The most engaged users of GET /metrics/users. */
export function users(body) {
  $("#users-empty").hidden = body.users.length > 0;
  const now = Date.now();
  $("#users").replaceChildren(
    ...body.users.map((user) => {
      const row = document.createElement("tr");
      row.className = "border-t border-slate-100";
      const cells = [
        [user.user_id, "truncate py-1.5 pr-2 font-mono text-slate-700 max-w-[10rem]"],
        [count(user.events), "py-1.5 pr-2 text-right tabular-nums"],
        [seconds(user.total_duration), "py-1.5 pr-2 text-right tabular-nums"],
        [ago((now - Date.parse(user.last_seen)) / 1000), "py-1.5 text-right text-slate-500"],
      ];
      for (const [text, className] of cells) {
        const cell = document.createElement("td");
        cell.className = className;
        cell.textContent = text;
        row.append(cell);
      }
      row.cells[0].title = user.user_id;
      return row;
    })
  );
}

/** The status pill: live, slow, or why not. */
export function status(state, text) {
  const pill = $("#status");
  pill.dataset.state = state;
  const dot = pill.querySelector("span");
  dot.className =
    {
      live: "h-2 w-2 rounded-full bg-emerald-500",
      slow: "h-2 w-2 rounded-full bg-amber-500 animate-pulse",
      down: "h-2 w-2 rounded-full bg-rose-600",
      waiting: "h-2 w-2 rounded-full bg-slate-400 animate-pulse",
    }[state] || "h-2 w-2 rounded-full bg-slate-400";
  setText("#status-text", text);
}

/** The banner that says what is wrong and how to fix it; null hides it. */
export function banner(problem) {
  const node = $("#banner");
  if (!problem) {
    node.hidden = true;
    node.dataset.kind = "";
    return;
  }
  node.hidden = false;
  node.dataset.kind = problem.kind;
  setText("#banner-title", problem.title);
  setText("#banner-text", problem.text);
  const action = $("#banner-action");
  action.hidden = !problem.action;
  action.textContent = problem.action || "";
}
