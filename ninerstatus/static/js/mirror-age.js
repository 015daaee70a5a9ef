/* The static mirror's banner: "as of 10:42 UTC" with the day added once the reader's UTC day is not the copy's.
 *
 * The page was written with the time alone (it was today then). A reader who
 * opens the copy a day later must not take it for today's, so the day (and
 * the year, when not this one) is added, as the site writes times.
 */
(function () {
  "use strict";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function pad(number) { return (number < 10 ? "0" : "") + number; }

  function asOf(element) {
    var moment = new Date(element.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { return; }
    var now = new Date();
    if (moment.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) { return; }
    var day = moment.getUTCDate() + " " + MONTHS[moment.getUTCMonth()] + " ";
    var year = moment.getUTCFullYear() === now.getUTCFullYear() ? "" : moment.getUTCFullYear() + " ";
    element.firstChild.nodeValue = day + year + pad(moment.getUTCHours()) + ":" + pad(moment.getUTCMinutes()) + " UTC";
  }

  document.querySelectorAll("time[data-mirror-as-of]").forEach(asOf);
}());
