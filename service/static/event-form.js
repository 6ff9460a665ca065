// The event form shows a field marked data-shown-for-format="hybrid" (the online places)
// only while that format is chosen. Without this file every field shows, and the server
// leaves aside what the chosen format does not use.
(function () {
  "use strict";
  var format = document.querySelector("select[name=format]");
  if (!format) { return; }
  var parts = document.querySelectorAll("[data-shown-for-format]");
  function show() {
    parts.forEach(function (part) {
      part.hidden = part.getAttribute("data-shown-for-format") !== format.value;
    });
  }
  format.addEventListener("change", show);
  show();
})();
