/* Keeps a running spreadsheet job's page up to date: polls its progress every second, moves the
 * bar and the figures, and reloads the page when the job's status changes (the preview, the
 * download link or the outcome then appear). No inline script, so the page's CSP stays strict. */
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root || !root.dataset.progressUrl) return;
  var initial = root.dataset.status;

  function set(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function poll() {
    fetch(root.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("progress " + response.status);
        return response.json();
      })
      .then(function (p) {
        if (p.status !== initial) {
          window.location.reload();
          return;
        }
        var bar = document.getElementById("job-bar");
        if (bar) bar.style.width = p.percent + "%";
        set("job-rows", p.rows_read);
        set("job-total", p.rows_total || "?");
        set("job-rate", p.rows_per_second);
        set("job-elapsed", p.elapsed_seconds);
        if (p.eta_seconds !== null) set("job-eta", p.eta_seconds);
        set("job-phase", "(" + p.phase + ")");
        setTimeout(poll, 1000);
      })
      .catch(function () {
        setTimeout(poll, 5000);
      });
  }
  setTimeout(poll, 1000);
})();
