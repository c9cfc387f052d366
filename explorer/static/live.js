// Keeps the home page live: fetches the same page again and swaps in its tables and verification banner.
// The server renders (and escapes) everything; this script only moves parsed nodes, never builds HTML.
(function () {
  "use strict";
  var note = document.getElementById("live-note");
  if (!note) { return; }
  var pollMs = Number(note.getAttribute("data-poll-ms")) || 4000;
  var liveParts = ["[data-live='transactions']", "[data-live='blocks']", "#verification"];

  function swap(fresh) {
    liveParts.forEach(function (selector) {
      var current = document.querySelector(selector);
      var next = fresh.querySelector(selector);
      if (current && next) { current.replaceWith(document.importNode(next, true)); }
    });
  }

  function refresh() {
    if (document.hidden) { return; }
    fetch(window.location.pathname, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text) { swap(new DOMParser().parseFromString(text, "text/html")); }
      })
      .catch(function () { /* the next poll tries again */ });
  }

  window.setInterval(refresh, pollMs);
}());
