/* Clicking an existing tag adds it to the post's comma-separated tag field. */
(function () {
  "use strict";
  var input = document.querySelector("input[data-tag-input]");
  if (!input) {
    return;
  }
  document.querySelectorAll("button[data-tag]").forEach(function (button) {
    button.addEventListener("click", function () {
      var names = input.value.split(",").map(function (name) { return name.trim(); }).filter(Boolean);
      var wanted = button.dataset.tag;
      var lower = names.map(function (name) { return name.toLowerCase(); });
      if (lower.indexOf(wanted.toLowerCase()) === -1) {
        names.push(wanted);
        input.value = names.join(", ");
        input.dispatchEvent(new Event("input", {bubbles: true}));
      }
    });
  });
})();
