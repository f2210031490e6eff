/* opengov portal: sorting and filtering of preview tables, catalogue search.
   The pages are complete without it; this only adds controls. */
(function () {
  "use strict";
  var collator = new Intl.Collator("sv", { numeric: true, sensitivity: "base" });
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var words = function (value) {
    return value.toLocaleLowerCase("sv").split(/\s+/).filter(Boolean);
  };
  var matches = function (haystack, wanted) {
    return wanted.every(function (w) { return haystack.indexOf(w) !== -1; });
  };

  function sortKey(cell) {
    var raw = cell.getAttribute("data-sort");
    return raw === null ? cell.textContent.trim() : raw;
  }

  function compare(a, b, numeric) {
    if (a === "" || b === "") { return a === b ? 0 : (a === "" ? 1 : -1); }
    if (numeric) { return parseFloat(a) - parseFloat(b); }
    return collator.compare(a, b);
  }

  each(document.querySelectorAll(".js-hint"), function (hint) { hint.hidden = false; });

  each(document.querySelectorAll("table[data-sortable]"), function (table) {
    var head = table.tHead.rows[0];
    var body = table.tBodies[0];
    each(head.cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        var numeric = th.getAttribute("data-kind") === "number";
        each(head.cells, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var x = sortKey(r1.cells[index]);
          var y = sortKey(r2.cells[index]);
          if (x === "" || y === "") { return compare(x, y, numeric); }
          var order = compare(x, y, numeric);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  each(document.querySelectorAll("[data-filter-for]"), function (box) {
    var table = document.getElementById(box.getAttribute("data-filter-for"));
    var input = box.querySelector("input");
    var status = box.querySelector("[role=status]");
    if (!table || !input) { return; }
    box.hidden = false;
    var rows = table.tBodies[0].rows;
    input.addEventListener("input", function () {
      var wanted = words(input.value);
      var shown = 0;
      each(rows, function (row) {
        var ok = matches(row.textContent.toLocaleLowerCase("sv"), wanted);
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (status) {
        status.textContent = wanted.length ? "Visar " + shown + " av " + rows.length + " rader." : "";
      }
    });
  });

  var form = document.getElementById("search");
  var list = document.getElementById("datasets");
  if (form && list) {
    var items = list.querySelectorAll("li.dataset");
    var extra = {};
    var query = document.getElementById("q");
    var selects = form.querySelectorAll("select[data-field]");
    var status = document.getElementById("search-status");
    var values = function (item, field) {
      try { return JSON.parse(item.getAttribute("data-" + field) || "[]"); } catch (e) { return []; }
    };
    var apply = function () {
      var wanted = words(query.value);
      var shown = 0;
      each(items, function (item) {
        var haystack = (item.textContent + " " + (extra[item.getAttribute("data-name")] || ""))
          .toLocaleLowerCase("sv");
        var ok = matches(haystack, wanted);
        each(selects, function (select) {
          if (ok && select.value) {
            ok = values(item, select.getAttribute("data-field")).indexOf(select.value) !== -1;
          }
        });
        item.hidden = !ok;
        if (ok) { shown += 1; }
      });
      status.textContent = "Visar " + shown + " av " + items.length + " datamängder.";
    };
    form.hidden = false;
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    query.addEventListener("input", apply);
    each(selects, function (select) { select.addEventListener("change", apply); });
    /* The machine-readable catalogue adds what the cards do not show in full (the whole
       description, every keyword); opened from a file, the cards alone are searched. */
    if (window.fetch && location.protocol !== "file:") {
      fetch("catalog.json").then(function (r) { return r.ok ? r.json() : null; }).then(function (cat) {
        each((cat && cat.datasets) || [], function (d) {
          extra[d.name] = [d.title, d.description, d.publisher].concat(d.keywords || [], d.theme || [])
            .filter(function (v) { return typeof v === "string"; }).join(" ");
        });
        if (query.value) { apply(); }
      }).catch(function () { /* the cards are searched */ });
    }
  }
})();
