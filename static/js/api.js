// Calls to this page's own origin, with a timeout, and failures sorted into the few kinds
// a person must tell apart: no server, a function down, a refused key, a slow answer.

export const TIMEOUT_MS = 8000;

/** A failed call: kind is unreachable, function_down, timeout, unauthorized, unavailable or http. */
export class ApiError extends Error {
  constructor(kind, message, status = 0, body = null) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.body = body;
  }
}

function classify(status, body) {
  const error = (body && body.error) || {};
  const message = error.message || `HTTP ${status}`;
  if (status === 401) return new ApiError("unauthorized", message, status, body);
  if (status === 502 && error.code === "function_unavailable") return new ApiError("function_down", message, status, body);
  if (status === 502 || status === 504) return new ApiError("unreachable", message, status, body);
  if (status === 503) return new ApiError("unavailable", message, status, body);
  return new ApiError("http", message, status, body);
}

/** fetch(path) on this origin; resolves to {body, ms}, or rejects with an ApiError. */
export async function call(path, { method = "GET", headers = {}, body, timeoutMs = TIMEOUT_MS } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
      credentials: "omit",
    });
  } catch (err) {
    if (controller.signal.aborted) throw new ApiError("timeout", `no answer within ${timeoutMs / 1000} s`);
    throw new ApiError("unreachable", `cannot reach ${location.origin}`);
  } finally {
    clearTimeout(timer);
  }
  let parsed = null;
  try {
    parsed = await response.json();
  } catch (err) {
    parsed = null; // a proxy's HTML page, or an empty body: the status says enough
  }
  const ms = performance.now() - started;
  if (!response.ok) throw classify(response.status, parsed);
  return { body: parsed, ms };
}

/** GET a read-key route. */
export function read(path, readKey, options = {}) {
  return call(path, { ...options, headers: { Authorization: `Bearer ${readKey}` } });
}

/** POST events with the write key (same origin, so plain JSON with a header). */
export function send(path, writeKey, events) {
  return call(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Write-Key": writeKey }, body: events });
}

/** Save a read-key route's answer as a file. A link cannot send the key (an Authorization header), and a key
 * in the URL would land in logs and history: so fetch it with the header and hand the browser a Blob. */
export async function download(path, readKey, filename) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${readKey}` }, cache: "no-store", credentials: "omit" });
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch (err) {
      parsed = null;
    }
    throw classify(response.status, parsed);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
