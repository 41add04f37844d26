// Table pages: what Datasette's table.html did in inline scripts, moved here because the
// Content-Security-Policy allows no inline script.
// 1. table.js (loaded with defer) reads DATASETTE_ALLOW_FACET: set it from this tag's data attribute.
window.DATASETTE_ALLOW_FACET = document.currentScript.getAttribute("data-allow-facet") === "true";
// 2. table.js builds its column menu and filter buttons in English; DOMContentLoaded fires after
//    it has run, so translate them by class.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var libelles = {
    "dropdown-sort-asc": "Trier en ordre croissant",
    "dropdown-sort-desc": "Trier en ordre décroissant",
    "dropdown-facet": "Créer une facette avec cette colonne",
    "dropdown-hide-column": "Masquer cette colonne",
    "dropdown-show-all-columns": "Afficher toutes les colonnes",
    "dropdown-not-blank": "Afficher les lignes non vides"
  };
  Object.keys(libelles).forEach(function (classe) {
    document.querySelectorAll("body > .dropdown-menu a." + classe).forEach(function (a) {
      a.textContent = libelles[classe];
    });
  });
  document.querySelectorAll("body > .dropdown-menu .dropdown-column-type").forEach(function (p) {
    // table.js writes "Type: TEXT" when the menu opens: French spacing before the colon.
    new MutationObserver(function () {
      if (p.textContent.indexOf("Type: ") === 0) {
        p.textContent = "Type : " + p.textContent.slice(6);
      }
    }).observe(p, { childList: true, characterData: true, subtree: true });
  });
  document.querySelectorAll('.filter-row a[aria-label="Remove this filter"]').forEach(function (a) {
    a.setAttribute("aria-label", "Retirer ce filtre");
  });
});
