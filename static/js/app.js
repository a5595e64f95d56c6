// Behaviour every page shares, kept out of the markup: the Content-Security-Policy allows
// no inline script and no on…= attribute.
(function () {
  "use strict";

  // A picker that submits its form as soon as it changes (the language switch).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change") && field.form) {
      field.form.submit();
    }
  });

  // Sizes that come from the data (a bar's share, an indent, a chart's height) are set here
  // through the style object, which the policy allows, rather than as style="" attributes.
  function applySizes(root) {
    root.querySelectorAll("[data-width-pct]").forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, parseFloat(el.dataset.widthPct) || 0)) + "%";
    });
    root.querySelectorAll("[data-indent-em]").forEach(function (el) {
      el.style.paddingLeft = (parseFloat(el.dataset.indentEm) || 0) + "em";
    });
    root.querySelectorAll("[data-height-px]").forEach(function (el) {
      el.style.height = (parseFloat(el.dataset.heightPx) || 0) + "px";
    });
  }
  window.wealthscoreApplySizes = applySizes;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { applySizes(document); });
  } else {
    applySizes(document);
  }
  // Fragments swapped in by htmx get their sizes too.
  document.addEventListener("htmx:afterSwap", function (event) { applySizes(event.target); });
})();
