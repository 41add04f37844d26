// Draw every Vega-Lite chart on the page: <div data-vega-spec="ID"> + <script type="application/json" id="ID">.
// The HTML table next to each chart stays as the accessible, no-JavaScript version.
(function () {
  "use strict";
  var frenchNumbers = { decimal: ",", thousands: "\u202f", grouping: [3], currency: ["", "\u00a0$"] };
  function draw() {
    var nodes = document.querySelectorAll("[data-vega-spec]");
    Array.prototype.forEach.call(nodes, function (node) {
      var source = document.getElementById(node.getAttribute("data-vega-spec"));
      if (!source || typeof vegaEmbed === "undefined") {
        return;
      }
      var spec = JSON.parse(source.textContent);
      // ast + the expression interpreter bundled in vega-embed: no eval(), so the CSP needs no
      // 'unsafe-eval'; no injected <style> for the embed or its tooltips (the CSP allows no
      // inline style): their rules are in ciso.css.
      vegaEmbed(node, spec, {
        actions: false,
        renderer: "svg",
        formatLocale: frenchNumbers,
        ast: true,
        defaultStyle: false,
        tooltip: { disableDefaultStyle: true }
      })
        .then(function () {
          node.classList.add("ciso-graphique-pret");
        })
        .catch(function (error) {
          node.textContent = "Le graphique n'a pas pu être dessiné ; le tableau ci-dessous donne les mêmes chiffres.";
          if (window.console) {
            console.warn(error);
          }
        });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
