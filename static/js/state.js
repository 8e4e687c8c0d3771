// The explore view's state, and the URL that holds it: a link reproduces the view, the back
// button returns to the previous one. Pure: no DOM, no fetch.

export const PRESETS = ["1h", "today", "7d", "30d", "custom"];
export const FILTERS = ["action", "element", "user_id"];
export const BREAKDOWNS = ["element", "action", "user_id"];
const PRESET_SECONDS = { "1h": 3600, "7d": 7 * 86400, "30d": 30 * 86400 };
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/;

/** The browser's own timezone, the default when the URL names none. */
export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Whether tz is a timezone this browser knows. */
export function knownZone(tz) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch (err) {
    return false;
  }
}

/** The state a query string describes; anything missing or malformed falls back to a default. */
export function parse(search) {
  const params = new URLSearchParams(search);
  const range = PRESETS.includes(params.get("range")) ? params.get("range") : "7d";
  const from = params.get("from") || "";
  const to = params.get("to") || "";
  const custom = range === "custom" && LOCAL_TIME.test(from) && LOCAL_TIME.test(to);
  const tz = params.get("tz") && knownZone(params.get("tz")) ? params.get("tz") : browserZone();
  const filters = FILTERS.flatMap((name) => params.getAll(name).filter(Boolean).map((value) => [name, value]));
  const steps = (params.get("steps") || "").split(",").filter(Boolean).slice(0, 20);
  const by = BREAKDOWNS.includes(params.get("by")) ? params.get("by") : "element";
  const within = Number.parseInt(params.get("within"), 10);
  return {
    range: custom ? "custom" : range === "custom" ? "7d" : range,
    from: custom ? from : "",
    to: custom ? to : "",
    tz,
    filters,
    steps,
    within: within > 0 ? within : 86400,
    by,
  };
}

/** The query string of a state: parse(serialize(s)) gives s back. */
export function serialize(state) {
  const params = new URLSearchParams();
  params.set("range", state.range);
  if (state.range === "custom") {
    params.set("from", state.from);
    params.set("to", state.to);
  }
  params.set("tz", state.tz);
  for (const [name, value] of state.filters) params.append(name, value);
  if (state.steps.length) params.set("steps", state.steps.join(","));
  if (state.within !== 86400) params.set("within", String(state.within));
  if (state.by !== "element") params.set("by", state.by);
  return `?${params}`;
}

function wallClock(now, tz) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  return Object.fromEntries(format.formatToParts(now).map((part) => [part.type, part.value]));
}

/** The local calendar date of `now` in tz, as YYYY-MM-DD (what the API reads as that day's midnight in tz). */
export function localDate(now, tz) {
  const parts = wallClock(now, tz);
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** The wall-clock time of `now` in tz, as YYYY-MM-DDTHH:MM (a datetime-local input's value; the API reads it in tz). */
export function localTime(now, tz) {
  const parts = wallClock(now, tz);
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** Whether the range ends now (every preset): such a view is live, refreshed while it is open. */
export function isLive(state) {
  return state.range !== "custom";
}

/** The range's length in seconds, for choosing intervals; a custom range's is read as if its times were UTC. */
export function spanSeconds(state, now) {
  if (state.range === "custom") return Math.max(0, (Date.parse(`${state.to}Z`) - Date.parse(`${state.from}Z`)) / 1000);
  if (state.range === "today") return 86400;
  return PRESET_SECONDS[state.range];
}

/** The common parameters of every analytics route: from, to, tz and the filters. A range that ends now
 * ends at the end of the current minute (the API counts whole minutes), so the newest events are in it. */
export function common(state, now) {
  const params = new URLSearchParams();
  if (state.range === "custom") {
    params.set("from", state.from);
    params.set("to", state.to);
  } else {
    const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
    const start = state.range === "today" ? localDate(now, state.tz) : new Date(end.getTime() - PRESET_SECONDS[state.range] * 1000).toISOString();
    params.set("from", start);
    params.set("to", end.toISOString());
  }
  params.set("tz", state.tz);
  for (const [name, value] of state.filters) params.append(name, value);
  return params;
}

/** The series' interval: minutes up to 6 hours, hours up to 2 days, days up to about 3 years, then weeks. */
export function interval(state, now) {
  const span = spanSeconds(state, now);
  if (span <= 6 * 3600) return "minute";
  if (span <= 2 * 86400) return "hour";
  return span <= 1000 * 86400 ? "day" : "week";
}

/** Retention by day (7 days after each cohort) up to 31 days, by week (8 weeks after) beyond. */
export function retention(state, now) {
  return spanSeconds(state, now) <= 31 * 86400 ? { period: "day", periods: 7 } : { period: "week", periods: 8 };
}
