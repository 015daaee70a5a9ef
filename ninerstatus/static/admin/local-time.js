/* Next to a UTC date-time field, say what that moment is in the writer's own time zone. */
(function () {
  "use strict";
  document.querySelectorAll("input[data-utc-input]").forEach(function (input) {
    var output = document.querySelector("[data-local-time-for='" + input.id + "']");
    if (!output || !window.Intl) {
      return;
    }
    function show() {
      var moment = input.value ? new Date(input.value + ":00Z") : null;
      output.textContent = moment && !isNaN(moment) ?
        "That is " + moment.toLocaleString(undefined, {dateStyle: "full", timeStyle: "short", timeZoneName: "short"}) +
        " where you are." : "";
    }
    input.addEventListener("input", show);
    show();
  });
})();
