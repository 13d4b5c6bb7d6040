/* Keeps a running job's page up to date, for any kind of job: polls the JSON at the root's
 * data-progress-url every second, writes each value into the elements that name it
 * (data-progress-field="moved"), moves the bar (data-progress-bar, from "percent") and reloads the
 * page when the job's "status" changes (its outcome then shows). No inline script: the admin's
 * CSP stays strict. */
(function () {
  "use strict";
  var root = document.querySelector("[data-progress-url]");
  if (!root) return;
  var initial = root.dataset.status;

  function show(progress) {
    root.querySelectorAll("[data-progress-field]").forEach(function (el) {
      var value = progress[el.dataset.progressField];
      if (value !== undefined && value !== null) el.textContent = value;
    });
    var bar = root.querySelector("[data-progress-bar]");
    if (bar && typeof progress.percent === "number") bar.style.width = progress.percent + "%";
  }

  function poll() {
    fetch(root.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("progress " + response.status);
        return response.json();
      })
      .then(function (progress) {
        if (progress.status !== initial) {
          window.location.reload();
          return;
        }
        show(progress);
        setTimeout(poll, 1000);
      })
      .catch(function () {
        setTimeout(poll, 5000);
      });
  }
  setTimeout(poll, 1000);
})();
