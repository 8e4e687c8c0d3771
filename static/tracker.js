/*
 * The analytics tracker: the snippet a site embeds to send events.
 *
 *   <script src="https://YOUR-ANALYTICS-HOST/dist/tracker.min.js" data-key="WRITE_KEY"></script>
 *   <button data-analytics-element="signup_button">Sign up</button>     (clicks are sent by themselves)
 *   <script>analyticsEngine.track("play", "video_player", {duration: 12.5, episode: 4})</script>
 *
 * Optional attributes: data-user (your user id; else an anonymous id kept in localStorage),
 * data-endpoint (where ingest answers; else the origin this script came from), data-global
 * (a further global name for the API, e.g. "analytics"; it replaces what that name held).
 * analyticsEngine.identify(userId) switches the user; analyticsEngine.flush() sends now.
 * The API's own global is analyticsEngine: a page may also load Segment's analytics.js, whose
 * global is analytics, and both work.
 *
 * Events are sent as text/plain JSON to /events?key=... , which needs no CORS preflight, in
 * batches of at most 50, by fetch with keepalive; a network error, 429 or 5xx is retried
 * after 1, 2, 4 ... 30 s, any other answer ends the batch. Every event carries an event_id
 * made here, so a retry whose first attempt did arrive is stored once. When the page is
 * hidden or left, what is queued goes by navigator.sendBeacon, with the page's engaged time
 * (visible and focused) as an "engage" event on the element "page".
 *
 * Built into dist/tracker.min.js by `make css`; the tests keep it under 2 KB gzipped.
 */
(function (win, doc) {
  var script = doc.currentScript;
  var attr = function (name) {
    return script.getAttribute("data-" + name);
  };
  var url = (attr("endpoint") || new URL(script.src).origin) + "/events?key=" + encodeURIComponent(attr("key"));
  var BATCH = 50;
  var queue = [];
  var timer = 0;
  var busy = 0;
  var attempt = 0;
  var engagedMs = 0;
  var activeSince = 0;

  // RFC 4122 version 4; crypto.randomUUID exists only on https pages, getRandomValues everywhere.
  function uuid() {
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  // Storage may be refused (privacy modes, sandboxed frames): then the id lasts for this page.
  function kept(storage, name) {
    try {
      return win[storage][name] || (win[storage][name] = uuid());
    } catch (e) {
      return uuid();
    }
  }

  var user = attr("user") || kept("localStorage", "analytics_uid");
  var session = kept("sessionStorage", "analytics_sid");

  function body(batch) {
    return JSON.stringify({ events: batch, sent_at: new Date().toISOString() });
  }

  function schedule(ms) {
    if (!timer) timer = setTimeout(flush, ms);
  }

  function flush() {
    timer = 0;
    if (busy || !queue.length) return;
    var batch = queue.slice(0, BATCH);
    busy = 1;
    fetch(url, { method: "POST", body: body(batch), headers: { "Content-Type": "text/plain" }, keepalive: true, credentials: "omit" })
      .then(
        function (answer) {
          return answer.status < 500 && answer.status != 429;
        },
        function () {
          return 0;
        }
      )
      .then(function (done) {
        busy = 0;
        if (!done) return schedule(Math.min(30000, 1000 << Math.min(5, attempt++)));
        attempt = 0;
        // By identity: a beacon may have emptied the queue while this batch was in flight.
        queue = queue.filter(function (event) {
          return batch.indexOf(event) < 0;
        });
        if (queue.length) schedule(0);
      });
  }

  function track(action, element, props) {
    props = Object.assign({ path: location.pathname }, props);
    var event = { event_id: uuid(), user_id: user, session_id: session, action: action, timestamp: new Date().toISOString() };
    if (element) event.element = element;
    if (props.duration != null) event.duration = props.duration;
    delete props.duration;
    event.properties = props;
    queue.push(event);
    schedule(queue.length < BATCH ? 1000 : 0);
  }

  function measure() {
    var now = Date.now();
    if (activeSince) engagedMs += now - activeSince;
    activeSince = doc.visibilityState == "visible" && doc.hasFocus() ? now : 0;
  }

  function leave() {
    measure();
    if (engagedMs >= 100) track("engage", "page", { duration: Math.round(engagedMs / 100) / 10 });
    engagedMs = 0;
    while (queue.length && navigator.sendBeacon(url, new Blob([body(queue.slice(0, BATCH))], { type: "text/plain" }))) {
      queue = queue.slice(BATCH);
    }
  }

  doc.addEventListener(
    "click",
    function (e) {
      var el = e.target.closest && e.target.closest("[data-analytics-element]");
      if (el) track(el.getAttribute("data-analytics-action") || "click", el.getAttribute("data-analytics-element"));
    },
    true
  );
  win.addEventListener("focus", measure);
  win.addEventListener("blur", measure);
  win.addEventListener("pagehide", leave);
  doc.addEventListener("visibilitychange", function () {
    doc.visibilityState == "hidden" ? leave() : measure();
  });
  measure();

  var api = {
    track: track,
    flush: flush,
    identify: function (id) {
      user = id;
    },
  };
  win.analyticsEngine = api;
  if (attr("global")) win[attr("global")] = api;
})(window, document);
