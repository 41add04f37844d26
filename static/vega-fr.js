// datasette-vega's chart controls, in French, loaded only when a visitor asks for them.
//
// Its bundle (about 940 KB, 270 KB compressed) is not in the page: the table and query templates
// carry a <div class="ciso-vega" data-js="…" data-css="…"> with its URLs. This script puts a French
// button there; a click loads the bundle and its stylesheet, lets the bundle start as it would have
// on page load (it waits for DOMContentLoaded, long past by then), then opens its controls. A link
// to a chart (datasette-vega's #g.mark=… fragment) loads it at once. Its English labels are
// relabelled in French as they appear.
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
    "-- none --": "-- aucune --",
    // the types of a column (datasette-vega's typeOptions)
    "Numeric": "Nombre",
    "Numeric, binned": "Nombre, par classes",
    "Date/time": "Date et heure",
    "Date/time, binned": "Date et heure, par classes",
    "Label": "Libellé",
    "Category": "Catégorie",
    "Loading failed": "Échec du chargement",
    // vega-embed's menu, when a chart offers one
    "Save as SVG": "Enregistrer en SVG",
    "Save as PNG": "Enregistrer en PNG",
    "View Source": "Voir la source",
    "View Compiled Vega": "Voir le Vega compilé",
    "Open in Vega Editor": "Ouvrir dans l'éditeur Vega"
  };
  var LABEL = FRENCH["Show charting options"];

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

  function watch() {
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

  function urls(box, name) {
    return (box.getAttribute(name) || "").split(" ").filter(Boolean);
  }

  // Load the bundle; call done() once it has drawn its controls (closed).
  function load(box, done) {
    urls(box, "data-css").forEach(function (href) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      document.head.appendChild(link);
    });
    var waiting = [];
    // The bundle starts on DOMContentLoaded: keep its listener, to call it once loaded.
    document.addEventListener = function (type, listener, options) {
      if (type === "DOMContentLoaded") {
        waiting.push(listener);
        return undefined;
      }
      return EventTarget.prototype.addEventListener.call(document, type, listener, options);
    };
    var scripts = urls(box, "data-js");
    function next() {
      if (!scripts.length) {
        delete document.addEventListener;
        waiting.forEach(function (listener) {
          listener.call(document, new Event("DOMContentLoaded"));
        });
        done();
        return;
      }
      var script = document.createElement("script");
      script.src = scripts.shift();
      script.onload = next;
      script.onerror = function () {
        delete document.addEventListener;
        box.querySelector("button").disabled = false;
        box.querySelector("button").textContent = LABEL + " (échec du chargement, réessayer)";
      };
      document.head.appendChild(script);
    }
    next();
  }

  function start() {
    watch();
    var box = document.querySelector(".ciso-vega");
    if (!box || !document.querySelector("table.rows-and-columns")) {
      return; // no rows: datasette-vega has nothing to draw
    }
    if (/(^#|&)g\.mark=/.test(window.location.hash)) {
      load(box, function () {
        box.remove();
      }); // a link to a chart: datasette-vega reads it from the fragment and draws it
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "ciso-vega-ouvrir";
    button.textContent = LABEL;
    button.addEventListener("click", function () {
      button.disabled = true;
      button.textContent = "Chargement des options de graphique…";
      load(box, function () {
        var open = document.querySelector(".datasette-vega-inactive button");
        if (open) {
          open.click();
        }
        box.remove();
      });
    });
    box.appendChild(button);
    box.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
