/* The shoe listing's "Filter and sort" drawer. Without this script it is a plain <details> and
   the server redirects a form sent with empty fields to the clean URL. */
(function () {
  "use strict";
  var drawer = document.getElementById("filters");
  var form = drawer && drawer.querySelector("form");
  if (!form) { return; }
  // Only the filters in use go into the URL: empty fields are left out of the request.
  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value === "") { field.disabled = true; }
    });
  });
  // Back from the results (page cache): the fields are usable again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
  });
  // On a wide screen the filters are a side column: open from the start.
  if (window.matchMedia && window.matchMedia("(min-width: 720px)").matches) { drawer.open = true; }
})();
