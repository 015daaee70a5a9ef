/* Next to a UTC date-time field, say what that moment is in the writer's own time zone. */
(function () {
  "use strict";
  // Spelled out: dateStyle and timeStyle may not be combined with timeZoneName. A 24-hour clock,
  // like every time the staff pages print, whatever the browser's own habit.
  var LOCAL_FORMAT = {weekday: "long", year: "numeric", month: "long", day: "numeric",
                      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"};
  document.querySelectorAll("input[data-utc-input]").forEach(function (input) {
    var output = document.querySelector("[data-local-time-for='" + input.id + "']");
    if (!output || !window.Intl) {
      return;
    }
    function show() {
      var moment = input.value ? new Date(input.value + ":00Z") : null;
      output.textContent = moment && !isNaN(moment) ?
        "That is " + moment.toLocaleString(undefined, LOCAL_FORMAT) +
        " where you are." : "";
    }
    input.addEventListener("input", show);
    show();
  });
})();
