// Draw every Vega-Lite chart on the page. Charts are data: a spec file under static/charts/
// (<div data-vega-spec-url="…">) whose data URLs are our own JSON addresses, relative to the site's
// root (data-vega-racine, so a base_url prefix works); data-vega-donnees, when present, replaces the
// spec's main data (the same table, filtered for this page). An inline spec is read from
// <div data-vega-spec="ID"> + <script type="application/json" id="ID">.
// The HTML table next to each chart stays as the accessible, no-JavaScript version.
(function () {
  "use strict";
  var frenchNumbers = { decimal: ",", thousands: "\u202f", grouping: [3], currency: ["", "\u00a0$"] };
  function absolute(url) {
    return new URL(url, window.location.href).href;
  }
  function loadSpec(node) {
    var url = node.getAttribute("data-vega-spec-url");
    if (!url) {
      var source = document.getElementById(node.getAttribute("data-vega-spec"));
      return source ? Promise.resolve(JSON.parse(source.textContent)) : Promise.reject(new Error("spec absente"));
    }
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(url + " : " + response.status);
        }
        return response.json();
      })
      .then(function (spec) {
        var data = node.getAttribute("data-vega-donnees");
        if (data) {
          spec.data = { url: absolute(data), format: { type: "json" } };
        }
        return spec;
      });
  }
  function draw() {
    var nodes = document.querySelectorAll("[data-vega-spec], [data-vega-spec-url]");
    Array.prototype.forEach.call(nodes, function (node) {
      if (typeof vegaEmbed === "undefined" || typeof vega === "undefined") {
        return;
      }
      // Relative data URLs of the spec resolve against the site's root, as an absolute address.
      var loader = vega.loader({ baseURL: absolute(node.getAttribute("data-vega-racine") || "/") });
      loadSpec(node)
        .then(function (spec) {
          // ast + the expression interpreter bundled in vega-embed: no eval(), so the CSP needs no
          // 'unsafe-eval'; no injected <style> for the embed or its tooltips (the CSP allows no
          // inline style): their rules are in ciso.css.
          return vegaEmbed(node, spec, {
            actions: false,
            renderer: "svg",
            loader: loader,
            formatLocale: frenchNumbers,
            ast: true,
            defaultStyle: false,
            tooltip: { disableDefaultStyle: true }
          });
        })
        .then(function () {
          node.classList.add("ciso-graphique-pret");
        })
        .catch(function (error) {
          node.textContent = "Le graphique n'a pas pu être dessiné ; le tableau ci-dessous donne les mêmes chiffres.";
          node.classList.add("ciso-graphique-echec");
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
