/* Every admin form warns before leaving with unsaved changes.
 *
 * A form that posts (change and add forms, the order page's note box, a move's reason…) is
 * watched once the person has typed or changed something in it: leaving the page then asks
 * first (the browser's own "Leave site?" question), unless the values are back to what the page
 * showed or the person has sent that form. A form the server showed again with the person's
 * values (refused with errors, or changed by someone else meanwhile) counts as unsaved at once.
 * The change list's selection form is left out (ticking rows is not an edit), and so is any
 * form marked data-unsaved-ignore. A script that saves a form without leaving the page (the
 * note box) dispatches "unsaved:saved" on it (its current values become the saved ones), or
 * "unsaved:kept" when the save was refused. Loaded on every admin page (unfold SCRIPTS); no
 * inline script, so the admin's CSP stays strict.
 *
 * unfold's own ModelAdmin.warn_unsaved_form watches only a page's change form and counts any
 * keystroke, even one undone; the note box, forms in dialogs and refused forms need more. */
(function () {
  "use strict";
  var IGNORED = "#changelist-form, #logout-form, #login-form, [data-unsaved-ignore]";
  var saved = new WeakMap();
  var touched = new WeakSet();

  function watched(form) {
    return form && form.method && form.method.toLowerCase() === "post" && !form.matches(IGNORED);
  }

  function snapshot(form) {
    var parts = [];
    new FormData(form).forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      parts.push(name + "=" + (typeof value === "string" ? value : value.name + ":" + value.size));
    });
    return parts.join("&");
  }

  function remember(form) {
    if (watched(form)) saved.set(form, snapshot(form));
  }

  function shown(form) {
    return form.isConnected && form.getClientRects().length > 0; // a closed dialog's is not
  }

  function dirty(form) {
    if (!touched.has(form) || !shown(form)) return false;
    // A form edited before its first state was seen counts as changed.
    return !saved.has(form) || saved.get(form) !== snapshot(form);
  }

  function onEdit(event) {
    if (!event.isTrusted) return;
    var form = event.target && event.target.form;
    if (watched(form)) touched.add(form);
  }

  function start() {
    document.querySelectorAll("form").forEach(function (form) {
      remember(form);
      // A form shown again with what the person typed (refused: errors, or someone saved the
      // object meanwhile) holds unsaved values from the start.
      if (watched(form) && form.querySelector(".errornote, #stale-form")) {
        saved.delete(form);
        touched.add(form);
      }
    });
    // Forms that arrive later (htmx dialogs): their first state as they arrive.
    document.addEventListener("htmx:afterSettle", function (event) {
      event.target.querySelectorAll("form").forEach(function (form) {
        if (!saved.has(form)) remember(form);
      });
    });
    document.addEventListener("input", onEdit, true);
    document.addEventListener("change", onEdit, true);
    // A form being sent (by the browser, htmx or a script) is not lost: it no longer counts.
    // Others still do (a note typed but not added while the order itself is saved).
    document.addEventListener("submit", function (event) { touched.delete(event.target); }, true);
    document.addEventListener("unsaved:kept", function (event) {
      touched.add(event.target); // sent, but refused: what it holds is still unsaved
    });
    document.addEventListener("unsaved:saved", function (event) {
      remember(event.target);
      touched.delete(event.target);
    });
    window.addEventListener("beforeunload", function (event) {
      var unsaved = Array.prototype.some.call(document.querySelectorAll("form"), dirty);
      if (unsaved) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  // After every other script has filled its widgets (select2, date pickers), so what the page
  // shows is what counts as saved.
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
