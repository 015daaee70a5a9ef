/* The check form, made quicker where JavaScript runs.

   - The TLS fields are hidden while the check will not use TLS (the TLS mode
     chosen, or the one its port uses); hidden, not removed, so what was typed
     in them is still there when TLS is chosen again, and is saved as it is.
   - A URL pasted (or typed, once the field is left) into the host field fills
     in host, port, TLS mode, and the settings the URL names, at once.

   Without JavaScript the form works the same way, more slowly: the server
   reads a URL in the host field when the form is sent and shows it filled in.
   What this script knows of the check type comes from the form's
   data-check-type attribute (see admin/check_forms.py, form_script_data). */
(function () {
  "use strict";

  var form = document.getElementById("check-form");
  if (!form) { return; }
  var type = JSON.parse(form.getAttribute("data-check-type") || "{}");
  var host = document.getElementById("host");
  var port = document.getElementById("port");
  var tlsMode = document.getElementById("tls_mode");
  var tlsGroup = document.getElementById("group-tls");
  var note = document.getElementById("url-note");
  var URL_START = /^[a-z][a-z0-9+.\-]*:\/\//i;

  /* The TLS mode the check will use: the one chosen, else the one its port uses. */
  function chosenTls() {
    if (tlsMode && tlsMode.value) { return tlsMode.value; }
    var number = (port && port.value.trim()) || String(type.defaultPort);
    return (type.tlsByPort || {})[number] || type.otherPortsTls;
  }

  function showWhatApplies() {
    if (!tlsGroup) { return; }
    // A group holding an error stays in view: hiding it would hide why the form was refused.
    tlsGroup.hidden = chosenTls() === "none" && !tlsGroup.querySelector(".field-error");
  }

  function labelOf(id) {
    var label = form.querySelector('label[for="' + id + '"]');
    return label ? label.textContent.trim() : id;
  }

  function decoded(text) {
    try { return decodeURIComponent(text); } catch (error) { return text; }
  }

  /* Fill the form in from ``text`` when it is a URL this check type reads; true when it did.
     Anything else is left as typed, for the server to refuse with its reason. */
  function readUrl(text) {
    text = text.trim();
    if (!URL_START.test(text)) { return false; }
    var url;
    try { url = new URL(text); } catch (error) { return false; }
    var scheme = url.protocol.slice(0, -1).toLowerCase();
    var known = (type.urlSchemes || {})[scheme];
    var hasLogin = url.username !== "" || url.password !== "";
    if (!known || !url.hostname || (hasLogin && !type.urlLogin)) { return false; }

    var taken = [];
    host.value = url.hostname;
    taken.push("host " + url.hostname);
    port.value = url.port || String(known.port);
    taken.push("port " + port.value);
    if (tlsMode) {
      tlsMode.value = known.tls;
      taken.push("TLS “" + tlsMode.options[tlsMode.selectedIndex].text + "”");
    }
    var location = (url.pathname || "/") + url.search;
    var leftOut = [];
    var pathField = type.urlPath && document.getElementById(type.urlPath);
    if (pathField) {
      pathField.value = location.charAt(0) === "/" ? location : "/" + location;
      taken.push(labelOf(type.urlPath).toLowerCase() + " " + pathField.value);
    } else if (location !== "/") {
      leftOut.push(location);
    }
    if (url.hash) { leftOut.push(url.hash); }
    if (hasLogin) {
      var user = document.getElementById(type.urlLogin[0]);
      var password = document.getElementById(type.urlLogin[1]);
      user.value = decoded(url.username);
      password.value = decoded(url.password);
      taken.push(labelOf(type.urlLogin[0]).toLowerCase() + " " + user.value);
      if (password.value) { taken.push(labelOf(type.urlLogin[1]).toLowerCase() + " (filled in, not shown)"); }
    }
    var message = "Taken from the URL: " + taken.join(", ") + ". Check them, then save.";
    if (leftOut.length) { message += " Left out (not used by this check type): " + leftOut.join(" ") + "."; }
    note.textContent = message;
    note.hidden = false;
    showWhatApplies();
    return true;
  }

  host.addEventListener("paste", function (event) {
    var pasted = event.clipboardData && event.clipboardData.getData("text");
    if (pasted && readUrl(pasted)) { event.preventDefault(); }
  });
  host.addEventListener("change", function () { readUrl(host.value); });
  if (tlsMode) { tlsMode.addEventListener("change", showWhatApplies); }
  if (port) { port.addEventListener("input", showWhatApplies); }
  showWhatApplies();
}());
