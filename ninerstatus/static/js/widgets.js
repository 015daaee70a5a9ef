/* Live status: keep the server states and check widgets of the page current from /api/servers.
 *
 * Progressive enhancement only: every page is complete and true when it is
 * served, and stays readable without this file. Here the states are fetched
 * again every 30 s (revalidated with the ETag, so an unchanged answer is a
 * 304), and the "checked 12 s ago" ages count on in between. Since-times
 * ("since 14:02 UTC") are written as the server writes them, in UTC, with
 * ``data-local`` for the page's local-time hint; one that did not change is
 * left alone, hint and all. A server page's location grid follows too, cell
 * by cell. A widget whose markup is not the one expected (a plugin's own, or
 * checks added since the page was served), or a grid cell of a location or
 * check the answer does not name, is left as it was; the next page load
 * shows it anew.
 */
(function () {
  "use strict";
  var REFRESH_MS = 30000;
  var AGE_TICK_MS = 5000;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // Labels that are no news: they say no "since".
  var QUIET_LABELS = ["OPERATIONAL", "INTERNAL"];
  var script = document.currentScript;
  var api = script && script.getAttribute("data-api");

  // Every place the page shows a server: its code, where its label goes and its list of checks.
  function serverPlaces() {
    var places = [];
    document.querySelectorAll(".glance li.server").forEach(function (item) {
      var code = item.querySelector("a.code");
      if (code) {
        places.push({code: code.textContent.trim(), box: item, label: item.querySelector(".state"),
                     checks: item.querySelector("ul.checks")});
      }
    });
    document.querySelectorAll("[data-server-code].server-facts").forEach(function (facts) {
      var code = facts.getAttribute("data-server-code");
      places.push({code: code, box: facts, label: facts.querySelector(".state"),
                   checks: document.querySelector("ul.checks-wide[data-server-code='" + code + "']")});
    });
    return places;
  }

  function timeAgo(iso) {
    var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    if (seconds >= 2 * 86400) { return Math.floor(seconds / 86400) + " days ago"; }
    if (seconds >= 3600) { return Math.floor(seconds / 3600) + " h ago"; }
    if (seconds >= 60) { return Math.floor(seconds / 60) + " min ago"; }
    return seconds + " s ago";
  }

  function pad(number) { return (number < 10 ? "0" : "") + number; }

  // A time in UTC as briefly as it stays clear, as the site writes it: "14:02 UTC", "28 Nov 14:02 UTC",
  // "28 Nov 2025 14:02 UTC" (checks/status.py short_time).
  function shortTime(iso) {
    var moment = new Date(iso);
    var now = new Date();
    var clock = pad(moment.getUTCHours()) + ":" + pad(moment.getUTCMinutes()) + " UTC";
    if (moment.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) { return clock; }
    var day = moment.getUTCDate() + " " + MONTHS[moment.getUTCMonth()] + " ";
    return day + (moment.getUTCFullYear() === now.getUTCFullYear() ? "" : moment.getUTCFullYear() + " ") + clock;
  }

  function localTime(iso) {
    var time = document.createElement("time");
    time.setAttribute("datetime", iso);
    time.setAttribute("data-local", "");
    time.textContent = shortTime(iso);
    return time;
  }

  // Write "<words><time>" into element, unless it already shows that moment (the page writes microseconds,
  // the API milliseconds, so moments are compared, not their text).
  function showMoment(element, words, iso) {
    var time = element.querySelector("time");
    if (time && element.firstChild.nodeValue === words &&
        Date.parse(time.getAttribute("datetime")) === Date.parse(iso)) { return; }
    element.textContent = words;
    element.appendChild(localTime(iso));
  }

  // The "since 14:02 UTC" of a server or a check: hidden when there is no news or no known time.
  function showSince(element, iso) {
    if (!element) { return; }
    element.hidden = !iso;
    if (iso) { showMoment(element, "since ", iso); }
  }

  function setStatusClass(element, name) {
    Array.prototype.slice.call(element.classList).forEach(function (cls) {
      if (cls.indexOf("status-") === 0) { element.classList.remove(cls); }
    });
    element.classList.add("status-" + name);
  }

  // The label is the element's first text; a note may follow it (the server page's "maintenance until ...").
  function setLeadingText(element, text) {
    var first = element.firstChild;
    if (first && first.nodeType === Node.TEXT_NODE) {
      first.nodeValue = text;
    } else {
      element.insertBefore(document.createTextNode(text), first);
    }
  }

  function setText(item, selector, text) {
    var element = item.querySelector(selector);
    if (element) {
      element.hidden = text === null;
      if (text !== null) { element.textContent = text; }
    }
  }

  function showAge(item, check) {
    var age = item.querySelector(".check-age");
    if (!age) { return; }
    if (!check.fresh) {
      if (check.since) {
        showMoment(age, "no data since ", check.since);
      } else {
        age.textContent = check.summary;
      }
      return;
    }
    var time = age.querySelector("time");
    if (!time || age.firstChild.nodeValue !== "checked ") {
      age.textContent = "checked ";
      time = age.appendChild(document.createElement("time"));
    }
    time.setAttribute("datetime", check.checked_at);
    time.textContent = timeAgo(check.checked_at);
  }

  function updateChecks(list, checks) {
    var items = list ? list.querySelectorAll(":scope > li.check") : [];
    if (items.length !== checks.length) { return; }
    for (var i = 0; i < items.length; i += 1) {
      var name = items[i].querySelector(".check-name");
      if (!name || name.textContent.trim() !== checks[i].name) { return; }
    }
    checks.forEach(function (check, index) {
      var item = items[index];
      setStatusClass(item, check.fresh ? check.status : "nodata");
      setText(item, ".check-state", check.status);
      showSince(item.querySelector(".check-since"), check.fresh && check.status !== "operational" ? check.since : null);
      setText(item, ".check-latency", check.fresh && check.latency_ms !== null ? check.latency_ms + " ms" : null);
      setText(item, ".check-fact", check.fresh ? check.summary : null);
      showAge(item, check);
    });
  }

  // One cell of the location grid: what its location saw last of its check (an entry of a check's "locations").
  function updateCell(cell, seen) {
    setStatusClass(cell, seen.fresh ? seen.status : "nodata");
    cell.title = seen.summary;
    setText(cell, ".check-state", seen.fresh ? seen.status : "no recent result");
    setText(cell, ".located-summary", seen.summary);
    if (!seen.checked_at) { return; }
    var age = cell.querySelector(".check-age");
    if (!age) {
      age = cell.appendChild(document.createElement("span"));
      age.className = "check-age";
    }
    var time = age.querySelector("time") || age.appendChild(document.createElement("time"));
    time.setAttribute("datetime", seen.checked_at);
    time.textContent = timeAgo(seen.checked_at);
  }

  // The server page's grid: columns carry their check's id, rows their location's, and both are looked up in
  // the answer, so a grid drawn before a location or check came or went updates the cells that still match.
  function updateGrids(byCode) {
    document.querySelectorAll(".location-grid[data-server-code]").forEach(function (grid) {
      var server = byCode[grid.getAttribute("data-server-code")];
      if (!server || !server.checks) { return; }
      var checks = {};
      server.checks.forEach(function (check) { checks[String(check.id)] = check; });
      var columns = Array.prototype.map.call(grid.querySelectorAll("thead th[data-check-id]"), function (heading) {
        return checks[heading.getAttribute("data-check-id")];
      });
      grid.querySelectorAll("tbody tr[data-location-id]").forEach(function (row) {
        var cells = row.querySelectorAll(":scope > td");
        var locationId = row.getAttribute("data-location-id");
        if (cells.length !== columns.length) { return; }
        columns.forEach(function (check, index) {
          var seen = check && (check.locations || []).filter(function (entry) {
            return String(entry.id) === locationId;
          })[0];
          if (seen && cells[index].classList.contains("located")) { updateCell(cells[index], seen); }
        });
      });
    });
  }

  function apply(servers) {
    var byCode = {};
    servers.forEach(function (server) { byCode[server.code] = server; });
    serverPlaces().forEach(function (place) {
      var server = byCode[place.code];
      if (!server) { return; }
      // A public server without checks is OPERATIONAL as listed, not probed: never coloured as a live result.
      var notProbed = server.label === "OPERATIONAL" && server.checks && server.checks.length === 0;
      setStatusClass(place.box, notProbed ? "not-probed" : server.label.toLowerCase().replace(/ /g, "-"));
      if (place.label) {
        setLeadingText(place.label, server.label);
        if (place.label.title) { place.label.title = "Server " + server.code + " is " + server.status; }
      }
      showSince(place.box.querySelector(".state-since"),
                QUIET_LABELS.indexOf(server.label) === -1 ? server.since || null : null);
      // An incident that no longer holds the server (resolved) takes its note away; a new one shows on the next load.
      var incident = place.box.querySelector(".server-incident");
      if (incident && !server.incident) { incident.hidden = true; }
      if (server.checks) { updateChecks(place.checks, server.checks); }
    });
    updateGrids(byCode);
  }

  function refresh() {
    if (document.visibilityState === "hidden") { return; }
    fetch(api, {headers: {Accept: "application/json"}, cache: "no-cache", credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && body.servers) { apply(body.servers); } })
      .catch(function () { /* Offline or the site is down: the page keeps what it showed. */ });
  }

  function tickAges() {
    document.querySelectorAll(".check-age time[datetime]").forEach(function (time) {
      // A widget's age reads "checked 12 s ago"; a grid cell's is the age alone.
      if (time.parentNode.firstChild.nodeValue === "checked " || time.closest(".location-grid")) {
        time.textContent = timeAgo(time.getAttribute("datetime"));
      }
    });
  }

  if (!api || !window.fetch || serverPlaces().length === 0) { return; }
  window.setInterval(refresh, REFRESH_MS);
  window.setInterval(tickAges, AGE_TICK_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { refresh(); }
  });
})();
