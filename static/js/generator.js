// The seed's test-event generator: one event of each kind, or a stream of realistic traffic,
// sent through the ingest API with the write key, exactly as any client would.

import { send } from "./api.js";

/** The kinds of event the buttons send; weight is how often simulated traffic picks each. */
export const KINDS = [
  { action: "play", element: "video_player", weight: 30, duration: [4, 90] },
  { action: "scroll", element: "feed", weight: 25, duration: [1, 20] },
  { action: "like", element: "like_button", weight: 15 },
  { action: "pause", element: "video_player", weight: 12, duration: [1, 10] },
  { action: "share", element: "share_button", weight: 10 },
  { action: "comment", element: "comment_box", weight: 8, duration: [5, 45] },
];

// A dozen users, some far busier than others (weights 12, 6, 4, 3 ...), as real traffic is.
const USERS = Array.from({ length: 12 }, (_, i) => ({ id: `sim_user_${String(i + 1).padStart(2, "0")}`, weight: 12 / (i + 1) }));
const TICK_MS = 400;

function pick(items) {
  let roll = Math.random() * items.reduce((sum, item) => sum + item.weight, 0);
  for (const item of items) {
    roll -= item.weight;
    if (roll <= 0) return item;
  }
  return items[items.length - 1];
}

function eventOf(kind, userId, sessionId) {
  const event = { user_id: userId, action: kind.action, element: kind.element, timestamp: new Date().toISOString() };
  if (sessionId) event.session_id = sessionId;
  if (kind.duration) {
    const [low, high] = kind.duration;
    event.duration = Math.round((low + Math.random() * (high - low)) * 10) / 10;
  }
  return event;
}

/** Counts of what the ingest API answered, shown next to the switch. */
export const tally = { sent: 0, accepted: 0, duplicates: 0, rejected: 0, failed: 0 };

async function post(writeKey, events) {
  tally.sent += events.length;
  try {
    const { body } = await send("/events", writeKey, events);
    tally.accepted += body.accepted;
    tally.duplicates += body.duplicates;
    tally.rejected += body.rejected.length;
    return { ok: true, body };
  } catch (err) {
    tally.failed += events.length;
    return { ok: false, error: err };
  }
}

/** One event of `kind` from the dashboard's own user. */
export function sendOne(writeKey, kind) {
  return post(writeKey, [eventOf(kind, "dashboard_user")]);
}

/** Simulated traffic until stop(): every TICK_MS, 1 to 5 events from weighted users and kinds. */
export function simulate(writeKey, onTick) {
  const sessions = new Map(USERS.map((user) => [user.id, `sim_${Math.random().toString(36).slice(2, 10)}`]));
  let running = true;
  let timer = 0;
  async function tick() {
    const events = Array.from({ length: 1 + Math.floor(Math.random() * 5) }, () => {
      const user = pick(USERS);
      return eventOf(pick(KINDS), user.id, sessions.get(user.id));
    });
    const outcome = await post(writeKey, events);
    onTick(outcome);
    if (running) timer = setTimeout(tick, TICK_MS);
  }
  tick();
  return {
    stop() {
      running = false;
      clearTimeout(timer);
    },
  };
}
