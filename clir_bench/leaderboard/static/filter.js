// Show only the board's rows of the checked conditions and training protocols (form#filters).
// The form stays hidden with JavaScript off, and every row shows; order numbers never change,
// so a filtered table still says where each row stands among all of them.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  var count = form.querySelector("[data-filter-count]");
  function checked(name) {
    var boxes = form.querySelectorAll("input[name=" + name + "]");
    if (!boxes.length) return null;
    var on = {};
    boxes.forEach(function (b) { if (b.checked) on[b.value] = true; });
    return on;
  }
  function apply() {
    var conditions = checked("condition"), protocols = checked("protocol");
    var shown = 0, total = 0;
    document.querySelectorAll("table.board tbody tr").forEach(function (row) {
      var ok = (!conditions || conditions[row.getAttribute("data-condition")]) &&
               (!protocols || protocols[row.getAttribute("data-protocol")]);
      row.hidden = !ok;
      total += 1;
      if (ok) shown += 1;
    });
    count.textContent = shown === total ? "Showing every row (" + total + ")." :
      "Showing " + shown + " of " + total + " rows; order numbers are among all rows.";
  }
  form.addEventListener("change", apply);
  form.hidden = false;
  apply();
})();
