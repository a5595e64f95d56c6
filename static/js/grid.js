// The manual-score grid (/team/manual-scores/): highlight changed cells, say how many
// existing scores a save overwrites, and paste a block copied from Excel (tab-separated
// rows) from the focused cell on. No inline script: the page's CSP allows none.
(function () {
  const form = document.getElementById("manual-grid");
  if (!form) return;
  const status = document.getElementById("grid-status");
  const rows = Array.from(form.querySelectorAll("tbody tr")).map((tr) =>
    Array.from(tr.querySelectorAll("input[data-original]"))
  );
  const inputs = rows.flat();
  const label = form.dataset.changedLabel || "{changed} changed, {overwritten} overwrite";

  function refresh() {
    let changed = 0;
    let overwritten = 0;
    for (const input of inputs) {
      const differs = input.value.trim() !== input.dataset.original;
      input.classList.toggle("changed", differs);
      if (differs) {
        changed += 1;
        if (input.dataset.original !== "") overwritten += 1;
      }
    }
    status.textContent = changed
      ? label.replace("{changed}", changed).replace("{overwritten}", overwritten)
      : "";
    status.classList.toggle("warn", overwritten > 0);
  }

  form.addEventListener("input", refresh);
  form.addEventListener("paste", (event) => {
    const start = event.target;
    if (!(start instanceof HTMLInputElement) || !start.dataset) return;
    const text = (event.clipboardData || window.clipboardData).getData("text");
    if (!/[\t\n]/.test(text)) return; // one value: the browser pastes it
    event.preventDefault();
    const block = text.replace(/\r/g, "").replace(/\n$/, "").split("\n").map((line) => line.split("\t"));
    const r0 = rows.findIndex((row) => row.includes(start));
    const c0 = rows[r0].indexOf(start);
    block.forEach((values, dr) => {
      const row = rows[r0 + dr];
      if (!row) return;
      values.forEach((value, dc) => {
        const input = row[c0 + dc];
        if (input) input.value = value.trim();
      });
    });
    refresh();
  });
  refresh();
})();
