// Progressive enhancement of the backfill page: while a backfill runs, reload the page every
// few seconds so its progress bar moves. The page names the interval on an element; without it
// (finished, cancelled, or "Stop updating automatically") nothing reloads. Without scripts, the
// <noscript> meta refresh in the page's head does the same. The only script Omniroo serves;
// the CSP allows it by origin and allows no inline script.
(function () {
  "use strict";
  var marked = document.querySelector("[data-refresh-seconds]");
  if (!marked) {
    return;
  }
  var seconds = parseInt(marked.getAttribute("data-refresh-seconds"), 10);
  if (seconds > 0) {
    window.setTimeout(function () {
      window.location.reload();
    }, seconds * 1000);
  }
})();
