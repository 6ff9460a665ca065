// The door's search as you type: the plain GET form, submitted a moment after the typing
// stops. Without this file the form works the same with its button.
(function () {
  "use strict";
  var form = document.querySelector("[data-door-search]");
  if (!form) { return; }
  var input = form.querySelector("input[type=search]");
  var timer = null;
  var sent = input.value;
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      if (input.value.trim() !== sent.trim()) { sent = input.value; form.submit(); }
    }, 400);
  });
  // Back on the page after a search: the cursor stays where the volunteer was typing.
  if (input.value) {
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
})();
