/* Keeping a writer's text: drafts are saved in the background a few seconds
 * after each change, and leaving a page with unsaved changes asks first.
 *
 * The post form carries data-autosave-url only while the post is a draft:
 * a published post changes only when someone presses a button. The first
 * autosave of a new post creates the draft, so the form and the address bar
 * then point at that draft.
 */
(function () {
  "use strict";
  var form = document.getElementById("post-form");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var status = form.querySelector(".autosave-status");
  var DELAY_MS = 3000;
  var timer = null;
  var dirty = false;
  var saving = false;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function csrfInput() {
    return form.querySelector("input[name=csrf_token]");
  }

  function remember(saved) {
    form.dataset.autosaveUrl = saved.autosave_url;
    form.action = saved.edit_url;
    csrfInput().value = saved.csrf_token;
    form.querySelectorAll("[formaction]").forEach(function (button) {
      button.setAttribute("formaction", saved.preview_url);
    });
    if (window.location.pathname !== saved.edit_url) {
      window.history.replaceState(null, "", saved.edit_url);
    }
    say("Draft saved at " + utcClock(saved.saved_at) + ".");
  }

  function twoDigits(number) {
    return (number < 10 ? "0" : "") + number;
  }

  // Every other time on the staff pages is 24-hour UTC (timeutil.format_timestamp), so this one is too,
  // whatever the browser's own zone and clock style.
  function utcClock(iso) {
    var moment = new Date(iso);
    if (isNaN(moment)) {
      return "just now";
    }
    return twoDigits(moment.getUTCHours()) + ":" + twoDigits(moment.getUTCMinutes()) + " UTC";
  }

  function save() {
    timer = null;
    if (saving) {
      later();
      return;
    }
    saving = true;
    dirty = false;
    var data = new FormData(form);
    data.delete("action");
    fetch(form.dataset.autosaveUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": csrfInput().value}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          remember(body);
        } else {
          failed(body.error || "Not saved (the site answered " + response.status + ").");
        }
      });
    }, function () {
      failed("Not saved: the site could not be reached. Keep this page open; it will try again.");
      later();
    }).then(function () {
      saving = false;
    });
  }

  function failed(message) {
    dirty = true;
    say(message);
  }

  function later() {
    if (timer) {
      clearTimeout(timer);
    }
    timer = setTimeout(save, DELAY_MS);
  }

  function changed(event) {
    if (!form.contains(event.target)) {
      return;
    }
    dirty = true;
    if (form.dataset.autosaveUrl) {
      say("Unsaved changes…");
      later();
    }
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  document.addEventListener("trix-change", changed);
  form.addEventListener("submit", function () {
    dirty = false;
    if (timer) {
      clearTimeout(timer);
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
