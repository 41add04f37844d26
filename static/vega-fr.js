// datasette-vega writes its chart controls in English; relabel them in French as they appear.
(function () {
  "use strict";
  var FRENCH = {
    "Show charting options": "Afficher les options de graphique",
    "Charting options": "Options de graphique",
    "Bar": "Barres",
    "Line": "Lignes",
    "Scatter": "Nuage de points",
    "X column": "Colonne X",
    "Y column": "Colonne Y",
    "Type": "Type",
    "Color": "Couleur",
    "Size": "Taille",
    "Swap X and Y": "Inverser X et Y",
    "-- none --": "-- aucune --"
  };
  function relabel(root) {
    if (!root) {
      return; // a text node removed before the observer saw it
    }
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, null);
    var node;
    while ((node = walker.nextNode())) {
      var text = node.nodeValue.trim();
      if (Object.prototype.hasOwnProperty.call(FRENCH, text)) {
        node.nodeValue = node.nodeValue.replace(text, FRENCH[text]);
      }
    }
  }
  function start() {
    relabel(document.body);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        Array.prototype.forEach.call(change.addedNodes, function (added) {
          if (added.nodeType === 1 || added.nodeType === 3) {
            relabel(added.nodeType === 1 ? added : added.parentNode);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
