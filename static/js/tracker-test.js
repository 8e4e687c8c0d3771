// The tracker test page's loader: embeds dist/tracker.min.js with the write key from ?key=
// (else from make run's /local-config) and the user from ?user=, as a site would write them in.
(function () {
  const params = new URLSearchParams(location.search);
  function embed(key) {
    const script = document.createElement("script");
    script.src = "dist/tracker.min.js";
    script.dataset.key = key;
    if (params.get("user")) script.dataset.user = params.get("user");
    script.onload = () => {
      const state = document.getElementById("tracker-state");
      if (state) state.textContent = key ? "tracker loaded" : "no write key: add ?key=WRITE_KEY to this page's address";
    };
    document.head.append(script);
  }
  if (params.get("key")) return embed(params.get("key"));
  fetch("/local-config", { cache: "no-store" })
    .then((answer) => (answer.ok ? answer.json() : {}))
    .then((config) => embed(config.write_key || ""), () => embed(""));
})();
