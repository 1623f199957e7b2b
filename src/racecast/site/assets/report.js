/* racecast report: draws a page's charts, and sorts and filters the index table. */
(function () {
  "use strict";

  function drawCharts() {
    if (typeof vegaEmbed !== "function") return;
    document.querySelectorAll(".chart[data-spec]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-spec"));
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      vegaEmbed(el, spec, { actions: false, renderer: "svg" }).catch(function (err) {
        el.textContent = "This chart could not be drawn: " + err;
      });
    });
  }

  function cellValue(row, index) {
    var cell = row.children[index];
    return cell ? cell.getAttribute("data-value") || "" : "";
  }

  function sortBy(table, th, direction) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var numeric = th.querySelector("button").getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = direction === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x === "" || y === "") return (x === "") - (y === "");  // missing values always last
      var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, undefined, { sensitivity: "base" });
      return sign * c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", direction);
  }

  function filterRows(table, text, status, counter) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var hay = r.textContent.toLowerCase();
      var ok = words.every(function (w) { return hay.indexOf(w) >= 0; }) &&
        (!status || r.getAttribute("data-status") === status);
      r.hidden = !ok;
      if (ok) shown++;
    }
    counter.textContent = shown + " of " + rows.length + " contests shown";
  }

  function setUpIndex() {
    var table = document.getElementById("contests");
    if (!table) return;
    table.querySelectorAll("thead th button").forEach(function (button) {
      button.addEventListener("click", function () {
        var th = button.parentNode;
        var now = th.getAttribute("aria-sort");
        sortBy(table, th, now === "ascending" ? "descending" : "ascending");
      });
    });
    var input = document.getElementById("filter");
    var select = document.getElementById("status-filter");
    var counter = document.getElementById("shown");
    function update() { filterRows(table, input.value, select.value, counter); }
    input.addEventListener("input", update);
    select.addEventListener("change", update);
  }

  function start() {
    setUpIndex();
    drawCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
