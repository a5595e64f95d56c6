/* The RM's scorecard page: the period picker, the two charts and the facts panel. */
(function () {
  "use strict";

  // The period picker reloads the page with ?period= as soon as a period is chosen.
  var picker = document.getElementById("period-picker");
  if (picker) {
    picker.addEventListener("change", function () {
      if (picker.value) picker.form.submit();
    });
  }

  // ---------------------------------------------------------------- charts
  var dataNode = document.getElementById("card-charts");
  var charts = [];
  function number(value) {
    return value === null || value === undefined ? null : Number(value);
  }

  if (dataNode && window.echarts) {
    var data = JSON.parse(dataNode.textContent);
    var trendNode = document.getElementById("trend-chart");
    var radarNode = document.getElementById("radar-chart");

    if (trendNode) {
      var trend = data.trend;
      var totals = trend.totals.map(number);
      // A vetoed month is a series of its own: a triangle of another colour with a label,
      // named in the legend, so that it reads without colour too (issue 18 item 4).
      var vetoedPoints = totals.map(function (value, i) {
        return trend.vetoed[i] && value !== null ? value : null;
      });
      var anyVeto = vetoedPoints.some(function (v) { return v !== null; });
      var chart = echarts.init(trendNode);
      var hasData = trend.totals.some(function (v) { return v !== null; });
      var series = [{
        id: "total", name: trend.series, type: "line", data: totals, connectNulls: false,
        symbol: "circle", symbolSize: 7, lineStyle: { color: "#9b1c1c" },
        itemStyle: { color: "#9b1c1c" },
        markLine: {
          silent: true, symbol: "none", label: { formatter: "{c}" },
          lineStyle: { type: "dashed", color: "#9aa5b1" },
          data: trend.bands.map(function (b) { return { yAxis: Number(b) }; })
        }
      }];
      if (anyVeto) {
        series.push({
          id: "vetoed", name: trend.vetoed_label, type: "line", data: vetoedPoints,
          connectNulls: false, lineStyle: { opacity: 0 }, symbol: "triangle", symbolSize: 15,
          itemStyle: { color: "#1f2933", borderColor: "#fff", borderWidth: 1 }, z: 3,
          label: { show: true, position: "top", formatter: trend.vetoed_label, color: "#1f2933",
                   fontWeight: "bold" },
          tooltip: { show: false }
        });
      }
      chart.setOption({
        title: hasData ? undefined : {
          text: trend.empty, left: "center", top: "middle",
          textStyle: { color: "#616e7c", fontSize: 14, fontWeight: "normal" }
        },
        legend: { show: anyVeto, data: series.map(function (s) { return s.name; }), top: 0,
                  right: 8, itemWidth: 14, itemHeight: 10 },
        tooltip: {
          trigger: "axis",
          formatter: function (params) {
            var i = params[0].dataIndex;
            var v = trend.totals[i];
            var text = params[0].axisValue + "<br>" + trend.series + ": " +
              (v === null ? "—" : Number(v).toFixed(2));
            return trend.vetoed[i] ? text + " (" + trend.vetoed_label + ")" : text;
          }
        },
        grid: { left: 40, right: 24, top: anyVeto ? 40 : 24, bottom: 40, containLabel: false },
        xAxis: { type: "category", data: trend.months, axisLabel: { rotate: 45 } },
        yAxis: { type: "value", min: 0, max: function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); } },
        series: series
      });
      charts.push(chart);
    }

    if (radarNode) {
      var radar = data.radar;
      var values = radar.values.map(number);
      var top = Math.max.apply(null, [100].concat(values.filter(function (v) { return v !== null; })));
      var max = Math.ceil(top / 10) * 10;
      var anyNa = values.some(function (v) { return v === null; });
      var radarChart = echarts.init(radarNode);
      radarChart.setOption({
        tooltip: {
          trigger: "item",
          formatter: function () {
            return radar.indicators.map(function (name, i) {
              return name + ": " + (values[i] === null ? radar.na : values[i].toFixed(2) + "%");
            }).join("<br>");
          }
        },
        radar: {
          indicator: radar.indicators.map(function (name, i) {
            return { name: values[i] === null ? name + " (" + radar.na + ")" : name, max: max };
          }),
          radius: "62%",
          axisName: { color: "#1f2933" }
        },
        series: [{
          name: radar.series, type: "radar",
          data: [{
            // A dimension that does not apply has no value (null), not 0: its axis' name
            // says n/a and its label is empty. ECharts draws an item's dots on every axis
            // alike (a missing value's at the centre), so such a card's dots are 0 px: the
            // figures of the dimensions that apply stay (labels hang on the dots). With four
            // axes the outline runs straight between the missing axis' two neighbours.
            value: values,
            symbol: "circle", symbolSize: anyNa ? 0 : 6,
            name: radar.title,
            areaStyle: { color: "rgba(155, 28, 28, 0.18)" },
            lineStyle: { color: "#9b1c1c" }, itemStyle: { color: "#9b1c1c" },
            label: { show: true, formatter: function (p) {
              return p.value === null || p.value === undefined ? "" : Number(p.value).toFixed(0);
            } }
          }]
        }]
      });
      charts.push(radarChart);
    }
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  // ---------------------------------------------------------------- facts panel
  var facts = document.getElementById("facts");
  if (!facts) return;
  var hint = facts.innerHTML;

  function markActive(measure) {
    document.querySelectorAll("button[data-why]").forEach(function (button) {
      var on = button.getAttribute("data-why") === measure;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      var row = button.closest("tr");
      if (row) row.classList.toggle("active", on);
    });
  }

  // A refusal (403) or a line that is gone (404) is a message for the panel, not a failure.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "facts" && [403, 404].indexOf(event.detail.xhr.status) >= 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== facts) return;
    var body = facts.querySelector("[data-measure]");
    markActive(body ? body.getAttribute("data-measure") : null);
    facts.scrollIntoView({ behavior: "smooth", block: "start" });
  });
  facts.addEventListener("click", function (event) {
    if (!event.target.closest("[data-facts-close]")) return;
    facts.innerHTML = hint;
    markActive(null);
  });
})();
