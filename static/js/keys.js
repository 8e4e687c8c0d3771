// Where the page's keys come from. Under `make run` the gateway hands them to a browser on
// the same machine (GET /local-config); anywhere else the page asks for them once and keeps
// them in this browser's localStorage.

const STORE = "analytics.dashboard.keys";

function stored() {
  try {
    return JSON.parse(localStorage.getItem(STORE)) || {};
  } catch (err) {
    return {};
  }
}

/** {read, write, source}: source is "local" (make run), "saved" (localStorage) or "none". */
export async function loadKeys() {
  try {
    const answer = await fetch("/local-config", { cache: "no-store", credentials: "omit" });
    if (answer.ok) {
      const config = await answer.json();
      return { read: config.read_key, write: config.write_key, source: "local" };
    }
  } catch (err) {
    // No gateway answering: the banner of the first poll will say so.
  }
  const saved = stored();
  if (saved.read) return { read: saved.read, write: saved.write || "", source: "saved" };
  return { read: "", write: "", source: "none" };
}

/** Keep keys typed by the user in this browser (an empty read key forgets them). */
export function saveKeys(read, write) {
  if (read) localStorage.setItem(STORE, JSON.stringify({ read, write }));
  else localStorage.removeItem(STORE);
}
