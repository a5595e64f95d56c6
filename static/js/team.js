/* The manager's team dashboard: client-side sorting of the team table, the distribution
   of totals and the heat map of points (Apache ECharts, served by the app). */
(function () {
  "use strict";

  var table = document.getElementById("team-table");
  var dataNode = document.getElementById("team-charts");
  var data = dataNode ? JSON.parse(dataNode.textContent) : null;
  var heatmap = null;

  // ---------------------------------------------------------------- sorting
  // Which way a column sorts first: scores and changes best first, the rest A → Z.
  var FIRST = { rank: "ascending", total: "descending", change: "descending" };
  // Names are Chinese whatever the page's language: sort them in pinyin order.
  var collator = new Intl.Collator(["zh-Hans-CN", document.documentElement.lang || "en"],
                                   { numeric: true });

  function cellValue(row, key, type) {
    var cell = row.querySelector('td[data-field="' + key + '"]');
    var raw = cell ? cell.getAttribute("data-value") : "";
    if (raw === null || raw === "") return null;
    return type === "number" ? Number(raw) : raw;
  }

  function tier(row, key) {
    var cell = row.querySelector('td[data-field="' + key + '"]');
    return cell && cell.getAttribute("data-tier") ? Number(cell.getAttribute("data-tier")) : 0;
  }

  function sortBy(th, direction) {
    var key = th.getAttribute("data-sort");
    var type = th.getAttribute("data-type") || "text";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = direction === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = cellValue(a, key, type), y = cellValue(b, key, type);
      // Rows without a value go last, whichever the direction.
      if (x === null || y === null) {
        if (x === null && y === null) return a._teamIndex - b._teamIndex;
        return x === null ? 1 : -1;
      }
      // A vetoed total ranks after every other (SPEC §6): best first puts it where its
      // rank is, whatever its points.
      var tiers = tier(b, key) - tier(a, key);
      if (tiers !== 0) return sign * tiers;
      var order = type === "number" ? x - y : collator.compare(x, y);
      return order !== 0 ? sign * order : a._teamIndex - b._teamIndex;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th[data-sort]").forEach(function (other) {
      if (other === th) other.setAttribute("aria-sort", direction);
      else other.removeAttribute("aria-sort");
    });
    reorderHeatmap(rows.map(function (row) { return row.getAttribute("data-employee-id"); }));
  }

  if (table) {
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, index) {
      row._teamIndex = index; // the server's order (rank) breaks ties
    });
    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.addEventListener("click", function () {
        var current = th.getAttribute("aria-sort");
        var key = th.getAttribute("data-sort");
        var direction = current
          ? (current === "ascending" ? "descending" : "ascending")
          : (FIRST[key] || "ascending");
        sortBy(th, direction);
      });
    });
  }

  if (!data || !window.echarts) return;
  var charts = [];
  var muted = "#616e7c";

  function emptyTitle(text) {
    return {
      text: text, left: "center", top: "middle",
      textStyle: { color: muted, fontSize: 14, fontWeight: "normal" }
    };
  }

  // ---------------------------------------------------------------- distribution
  var distNode = document.getElementById("distribution-chart");
  if (distNode) {
    var dist = data.distribution;
    var any = dist.counts.some(function (n, i) { return n + dist.vetoed[i] > 0; });
    var chart = echarts.init(distNode);
    chart.setOption({
      title: any ? undefined : emptyTitle(dist.empty),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { show: dist.vetoed.some(function (n) { return n > 0; }), bottom: 0 },
      grid: { left: 40, right: 16, top: 28, bottom: 64 },
      xAxis: { type: "category", data: dist.bands, name: dist.x_name, nameLocation: "middle",
               nameGap: 24, axisLabel: { fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1, name: dist.y_name },
      series: [
        { name: dist.series, type: "bar", stack: "rms", data: dist.counts,
          itemStyle: { color: "#9b1c1c" }, barMaxWidth: 48 },
        { name: dist.series_vetoed, type: "bar", stack: "rms", data: dist.vetoed,
          itemStyle: { color: "#f4a3a3" }, barMaxWidth: 48 }
      ]
    });
    charts.push(chart);
  }

  // ---------------------------------------------------------------- heat map
  var heatNode = document.getElementById("heatmap-chart");
  var heat = data.heatmap;
  var VISIBLE_ROWS = 25;

  function heatCells(order) {
    // The cells of the rows in `order` (employee IDs), y counted from the top.
    var position = {};
    order.forEach(function (id, y) { position[id] = y; });
    return heat.cells.map(function (cell) {
      var y = position[heat.rms[cell[1]]];
      return [cell[0], y, cell[2] === null ? "-" : cell[2]];
    });
  }

  function heatNames(order) {
    var names = {};
    heat.rms.forEach(function (id, i) { names[id] = heat.rm_names[i]; });
    return order.map(function (id) { return names[id]; });
  }

  if (heatNode) {
    var many = heat.rms.length > VISIBLE_ROWS;
    // Its height grows with the team (data-height-px): set before ECharts measures the node
    // (a style="" attribute would break the Content-Security-Policy).
    if (heatNode.dataset.heightPx) heatNode.style.height = heatNode.dataset.heightPx + "px";
    heatmap = echarts.init(heatNode);
    heatmap.setOption({
      title: heat.cells.length ? undefined : emptyTitle(heat.empty),
      tooltip: {
        position: "top",
        formatter: function (p) {
          var value = p.value[2] === "-" ? heat.not_applicable : p.value[2].toFixed(2);
          return p.name + "<br>" + heat.measure_names[p.value[0]] + ": <b>" + value + "</b>";
        }
      },
      grid: { left: 150, right: many ? 70 : 24, top: 12, bottom: 150 },
      xAxis: { type: "category", data: heat.measure_names, splitArea: { show: true },
               axisLabel: { interval: 0, rotate: 45, fontSize: 11, width: 130,
                            overflow: "truncate" } },
      yAxis: { type: "category", data: heatNames(heat.rms), inverse: true,
               splitArea: { show: true }, axisLabel: { fontSize: 11 } },
      visualMap: { min: 0, max: 120, calculable: false, orient: "horizontal", left: "center",
                   bottom: 0, itemHeight: 160, text: ["120", heat.points + " 0"],
                   inRange: { color: ["#b42318", "#fdf6b2", "#1a9850"] } },
      dataZoom: many ? [
        { type: "slider", yAxisIndex: 0, right: 8, width: 16, startValue: 0,
          endValue: VISIBLE_ROWS - 1, zoomLock: true, showDetail: false },
        { type: "inside", yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true }
      ] : [],
      series: [{ name: heat.points, type: "heatmap", data: heatCells(heat.rms),
                 emphasis: { itemStyle: { borderColor: "#1f2933", borderWidth: 1 } } }]
    });
    charts.push(heatmap);
  }

  function reorderHeatmap(order) {
    if (!heatmap) return;
    heatmap.setOption({
      yAxis: { data: heatNames(order) },
      series: [{ data: heatCells(order) }]
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
