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

  // On a phone a table's rows stack (app.css); each cell shows its column's name, copied
  // here from the header into data-label, so the markup stays one table for both widths.
  // A header cell spanning columns names each of them; a cell that has a label keeps it.
  function labelCells(root) {
    var tables = root.matches && root.matches("table.grid") ? [root] : [];
    tables = tables.concat(Array.prototype.slice.call(root.querySelectorAll("table.grid")));
    var parent = root.closest && root.closest("table.grid");
    if (parent && tables.indexOf(parent) < 0) tables.push(parent);
    tables.forEach(function (table) {
      var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
      if (!head) return;
      var names = [];
      Array.prototype.forEach.call(head.cells, function (cell) {
        var name = cell.textContent.replace(/\s+/g, " ").trim();
        for (var i = 0; i < (cell.colSpan || 1); i++) names.push(name);
      });
      Array.prototype.forEach.call(table.querySelectorAll(":scope > tbody > tr, :scope > tfoot > tr"), function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var span = cell.colSpan || 1;
          if (span === 1 && !cell.hasAttribute("data-label") && names[column]) {
            cell.setAttribute("data-label", names[column]);
          }
          column += span;
        });
      });
    });
  }
  window.wealthscoreLabelCells = labelCells;

  // A table that fits the screen as it is stays a table (a board of three columns): it is
  // marked data-fits, which the phone's stacking rules skip. Without this script every
  // table with a header stacks on a phone, which fits too.
  function fitTables() {
    var tables = Array.prototype.slice.call(document.querySelectorAll("table.grid"));
    tables.forEach(function (table) { table.setAttribute("data-fits", ""); });
    // Measured against the screen, not the parent: a card in a grid column grows with its
    // table, and a scrolling box is as wide as the screen allows.
    var width = document.documentElement.clientWidth;
    var wide = tables.filter(function (table) {
      var box = table.getBoundingClientRect();
      return box.right > width - 8 || table.scrollWidth > table.clientWidth + 1;
    });
    wide.forEach(function (table) { table.removeAttribute("data-fits"); });
  }
  var fitTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(fitTimer);
    fitTimer = setTimeout(fitTables, 100);
  });

  // The phone menu: the button opens and closes the pages and the user's links; Escape
  // closes them and gives the focus back to the button.
  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    function show(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    }
    toggle.addEventListener("click", function () {
      show(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || toggle.getAttribute("aria-expanded") !== "true") return;
      show(false);
      toggle.focus();
    });
  }

  function ready() {
    applySizes(document);
    labelCells(document);
    fitTables();
    setUpMenu();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  // Fragments swapped in by htmx get their sizes and labels too.
  document.addEventListener("htmx:afterSwap", function (event) {
    applySizes(event.target);
    labelCells(event.target);
    fitTables();
  });
})();
