// Phones: each cell of a table of rows is labelled with its column name. Datasette's table, row and
// query pages write one inline <style> rule per column for this; the Content-Security-Policy allows
// no inline style, so the same rules are added here, through the CSSOM, from the table's headings.
(function () {
  "use strict";
  function quoted(text) {
    return '"' + text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/[\r\n]+/g, " ") + '"';
  }
  function label() {
    var table = document.querySelector("table.rows-and-columns");
    if (!table) {
      return;
    }
    var style = document.createElement("style"); // empty: allowed by the policy's hash of ""
    document.head.appendChild(style);
    var rules = [];
    table.querySelectorAll("thead th").forEach(function (th, i) {
      // the French label (data-libelle, from metadata.yml) rather than the code name
      var name = th.getAttribute("data-libelle") || th.getAttribute("data-column") || th.textContent.trim();
      rules.push(".rows-and-columns td:nth-of-type(" + (i + 1) + "):before { content: " + quoted(name) + "; }");
    });
    style.sheet.insertRule("@media only screen and (max-width: 576px) { " + rules.join(" ") + " }", 0);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", label);
  } else {
    label();
  }
})();
