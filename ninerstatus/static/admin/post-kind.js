/* Show only the parts of the post form that apply to the chosen kind.
 *
 * Without JavaScript every part is shown, each saying which kind it is for
 * (the server ignores the parts a kind does not use). With it, the incident
 * fields appear only for incidents and the maintenance window only for
 * maintenance posts, and those notes are no longer needed.
 */
(function () {
  "use strict";
  var form = document.getElementById("post-form");
  if (!form) {
    return;
  }
  var parts = form.querySelectorAll("[data-for-kind]");
  var kinds = form.querySelectorAll("input[name=kind]");

  function chosen() {
    for (var i = 0; i < kinds.length; i += 1) {
      if (kinds[i].checked) {
        return kinds[i].value;
      }
    }
    return "";
  }

  function show() {
    var kind = chosen();
    parts.forEach(function (part) {
      part.hidden = part.getAttribute("data-for-kind") !== kind;
    });
  }

  form.classList.add("kind-aware");
  kinds.forEach(function (input) {
    input.addEventListener("change", show);
  });
  show();
})();
