/* Phones: every table with column headers reads as one card per row (app.css,
 * "table.cards"). Each cell gets its column's header as data-label (cells that set
 * their own keep it), counting colspan and rowspan, and explicit table roles so a
 * screen reader still reads a table. No build step.
 */
(function () {
  "use strict";

  function label(table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) return;
    var names = [];
    Array.prototype.forEach.call(head.cells, function (th) {
      for (var i = 0; i < (th.colSpan || 1); i++) names.push(th.textContent.trim());
    });
    var spans = [];  // per column: rows still covered by a rowspan above
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          while (spans[col] > 0) { spans[col] -= 1; col += 1; }
          if (!cell.hasAttribute("data-label") && names[col]) cell.setAttribute("data-label", names[col]);
          for (var i = 0; i < (cell.colSpan || 1); i++) spans[col + i] = (cell.rowSpan || 1) - 1;
          col += cell.colSpan || 1;
        });
        for (; col < spans.length; col++) if (spans[col] > 0) spans[col] -= 1;
      });
    });
    // display: block would drop the table's semantics for screen readers; say them.
    table.setAttribute("role", "table");
    Array.prototype.forEach.call(table.rows, function (row) {
      row.setAttribute("role", "row");
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (cell.hasAttribute("role")) return;
        var header = cell.tagName === "TH";
        var rowHeader = header && (cell.getAttribute("scope") === "row" || cell.parentNode.parentNode !== table.tHead);
        cell.setAttribute("role", header ? (rowHeader ? "rowheader" : "columnheader") : "cell");
      });
    });
    Array.prototype.forEach.call(table.querySelectorAll("thead, tbody, tfoot"), function (g) {
      g.setAttribute("role", "rowgroup");
    });
    table.classList.add("cards");
  }

  function all(root) {
    var scope = root.querySelectorAll ? root : document;
    var tables = Array.prototype.slice.call(scope.querySelectorAll("table"));
    if (scope.matches && scope.matches("table")) tables.push(scope);
    tables.forEach(function (t) {
      if (t.closest("main") && !t.dataset.labelled) { t.dataset.labelled = "1"; label(t); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { all(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { all(evt.detail.target || document); });
})();
