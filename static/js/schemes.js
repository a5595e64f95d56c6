// The weights editor (/schemes/<pk>/): the running total of the KPI weights and each KPI's
// measure shares, kept up to date as the administrator types. The server decides what may
// be saved or published; this only shows the sums (in hundredths, to avoid float drift).
(function () {
  "use strict";
  var form = document.getElementById("weights-form");
  if (!form) return;
  var totalEl = form.querySelector("[data-testid=weights-total]");
  var gapEl = form.querySelector("[data-testid=weights-gap]");

  function hundredths(text) {
    var value = String(text).trim().replace(/,/g, "");
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value)) return null;
    return Math.round(parseFloat(value) * 100);
  }

  function shown(cents) {
    var sign = cents < 0 ? "−" : "";
    return sign + (Math.abs(cents) / 100).toFixed(2);
  }

  function sum(inputs) {
    var total = 0;
    for (var i = 0; i < inputs.length; i++) {
      var cents = hundredths(inputs[i].value);
      inputs[i].classList.toggle("invalid", cents === null);
      if (cents === null) return null;
      total += cents;
    }
    return total;
  }

  function mark(el, total) {
    el.textContent = total === null ? "—" : shown(total);
    el.classList.toggle("ok", total === 10000);
    el.classList.toggle("off", total !== 10000);
  }

  function update() {
    var weights = form.querySelectorAll("input[data-weight]:not([data-bonus])");
    var total = sum(weights);
    mark(totalEl, total);
    if (gapEl) {
      var gap = total === null ? null : total - 10000;
      gapEl.textContent = gap === null || gap === 0 ? "" : (gap > 0 ? "+" : "") + shown(gap);
    }
    var sums = form.querySelectorAll("[data-share-total]");
    for (var i = 0; i < sums.length; i++) {
      var kpi = sums[i].getAttribute("data-share-total");
      var shares = form.querySelectorAll('input[data-share-of="' + kpi + '"]');
      mark(sums[i], sum(shares));
    }
  }

  form.addEventListener("input", update);
  update();
})();
