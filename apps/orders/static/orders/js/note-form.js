/* The order page's note box posts without leaving the page: whatever else the page's form holds
 * (a quantity typed but not saved) stays as it is. The timeline above it is replaced by the
 * fresh one the server answers with; a refusal is shown beside the box and the text kept.
 * Without JavaScript the box still posts as a plain form. No inline script (strict CSP). */
(function () {
  "use strict";
  var form = document.getElementById("note-form");
  if (!form || !window.fetch) return;
  var status = document.getElementById("note-status");

  function say(text, failed) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("text-red-600", Boolean(failed));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          say((result.body.errors || ["The note was not added."]).join(" "), true);
          form.dispatchEvent(new CustomEvent("unsaved:kept", { bubbles: true }));
          return;
        }
        var entries = document.getElementById("timeline-entries");
        if (entries && result.body.timeline) entries.outerHTML = result.body.timeline;
        form.reset();
        form.dispatchEvent(new CustomEvent("unsaved:saved", { bubbles: true }));
        say(result.body.message, false);
      })
      .catch(function () {
        say("The note could not be sent: check the connection and try again.", true);
      })
      .then(function () {
        if (button) button.disabled = false;
      });
  }, false);
})();
