// Datasette 0.65.5 _close_open_menus.html, as a file (the CSP allows no inline script):
// a click outside an open <details> menu closes it.
document.addEventListener("click", function (ev) {
  "use strict";
  var target = ev.target;
  var detailsClickedWithin = null;
  while (target && target.tagName !== "DETAILS") {
    target = target.parentNode;
  }
  if (target && target.tagName === "DETAILS") {
    detailsClickedWithin = target;
  }
  Array.prototype.forEach.call(document.getElementsByTagName("details"), function (details) {
    if (details.open && details !== detailsClickedWithin) {
      details.open = false;
    }
  });
});
