// Shows a time in the visitor's own zone, when JavaScript runs; the page never needs it.
(function () {
  "use strict";
  var places = document.querySelectorAll("[data-local-time-for]");
  for (var i = 0; i < places.length; i++) {
    var place = places[i];
    var moment = new Date(place.getAttribute("data-local-time-for"));
    if (isNaN(moment.getTime())) continue;
    // The rest of the page writes dates the British way ("Monday 28 December, 18:30").
    var language = { en: "en-GB", es: "es-ES" }[document.documentElement.lang] || undefined;
    var text = new Intl.DateTimeFormat(language, {
      weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
      timeZoneName: "short"
    }).format(moment);
    place.textContent = (place.getAttribute("data-label") || "") + text;
    place.hidden = false;
  }
})();
