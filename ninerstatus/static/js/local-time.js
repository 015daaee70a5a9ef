/* The visitor's own time beside the site's UTC times: "14:02 UTC (15:02 your time)".
 *
 * Every <time datetime="..." data-local> gets its hint in a span of its own,
 * in the site's 24-hour style, with the day added when the visitor's date is
 * not the UTC one. A visitor whose clock agrees with UTC at that moment gets
 * nothing: "14:02 UTC (14:02 your time)" says nothing new. Without this file
 * the UTC text is complete on its own.
 */
(function () {
  "use strict";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var HINT_CLASS = "local-time";

  function twoDigits(number) {
    return (number < 10 ? "0" : "") + number;
  }

  // The hint for a moment, or "" when the visitor's clock reads UTC then (offsets vary with summer time).
  function hintFor(moment) {
    if (moment.getTimezoneOffset() === 0) {
      return "";
    }
    var time = twoDigits(moment.getHours()) + ":" + twoDigits(moment.getMinutes());
    var sameDay = moment.getDate() === moment.getUTCDate() && moment.getMonth() === moment.getUTCMonth();
    var day = sameDay ? "" : moment.getDate() + " " + MONTHS[moment.getMonth()] + " ";
    return " (" + day + time + " your time)";
  }

  function annotate(element) {
    var iso = element.getAttribute("datetime");
    var moment = new Date(iso);
    var hint = element.querySelector(":scope > ." + HINT_CLASS);
    if (hint && hint.getAttribute("data-for") === iso) {
      return;  // already told, for this very moment
    }
    var text = isNaN(moment.getTime()) ? "" : hintFor(moment);
    if (!text) {
      if (hint) { hint.remove(); }
      return;
    }
    if (!hint) {
      hint = document.createElement("span");
      hint.className = HINT_CLASS;
      element.appendChild(hint);
    }
    hint.setAttribute("data-for", iso);
    hint.textContent = text;
  }

  function annotateAll() {
    document.querySelectorAll("time[data-local]").forEach(annotate);
  }

  annotateAll();
  // Live widgets rewrite parts of the page (a server's "since" changes with its state): hint those too.
  // Hinting an element that already has its hint changes nothing, so this settles at once.
  if (window.MutationObserver) {
    new MutationObserver(annotateAll).observe(document.body, {
      childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["datetime"]
    });
  }
})();
