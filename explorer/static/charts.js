// Draws each currency's supply against its attested reserves with uPlot, from the page's own JSON data block.
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || typeof uPlot === "undefined") { return; }
  var charts = JSON.parse(block.textContent);
  var drawn = [];

  function sizeOf(box) {
    var width = Math.max(280, box.clientWidth);
    return { width: width, height: width < 600 ? 240 : 320 };
  }

  // Compact labels (9.2T) hide a small margin on a large supply: when the axis spans little of its values,
  // show whole units with separators instead.
  function formatAmount(self, ticks) {
    var finite = ticks.filter(function (value) { return value != null; });
    var low = Math.min.apply(null, finite), high = Math.max.apply(null, finite);
    var isNarrow = high !== 0 && (high - low) / Math.abs(high) < 0.01;
    return ticks.map(function (value) {
      if (value == null) { return ""; }
      return isNarrow ? value.toLocaleString("en", { maximumFractionDigits: 2 })
                      : value.toLocaleString("en", { maximumSignificantDigits: 4, notation: "compact" });
    });
  }

  Object.keys(charts).forEach(function (code) {
    var box = document.querySelector("[data-chart='" + code + "']");
    if (!box) { return; }
    var size = sizeOf(box);
    var options = {
      width: size.width, height: size.height,
      scales: { x: { time: true } },
      axes: [{}, { values: formatAmount, size: 150 }],
      series: [
        {},
        { label: "Supply (" + code + ")", stroke: "#0b3d6b", width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
        { label: "Attested reserves (" + code + ")", stroke: "#116329", width: 2, dash: [6, 4],
          paths: uPlot.paths.stepped({ align: 1 }) }
      ]
    };
    drawn.push({ plot: new uPlot(options, charts[code], box), box: box });
  });

  window.addEventListener("resize", function () {
    drawn.forEach(function (item) { item.plot.setSize(sizeOf(item.box)); });
  });
}());
