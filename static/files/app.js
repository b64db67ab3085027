// Keeps keyboard focus where it is while htmx works. htmx's hx-disabled-elt disables the
// pressed button, and a disabled button drops focus to <body>. Instead, the buttons of a form
// that is posting are marked aria-disabled (announced, and styled like disabled) and stay
// focusable; the form's hx-sync="this:drop" ignores presses until the answer is in.
(function () {
  "use strict";
  function mark(evt, busy) {
    var form = evt.detail && evt.detail.elt;
    if (!form || form.tagName !== "FORM") {
      return;
    }
    form.querySelectorAll("button").forEach(function (b) {
      if (busy) {
        b.setAttribute("aria-disabled", "true");
      } else {
        b.removeAttribute("aria-disabled");
      }
    });
  }
  document.addEventListener("htmx:beforeRequest", function (evt) { mark(evt, true); });
  document.addEventListener("htmx:afterRequest", function (evt) { mark(evt, false); });
})();

// Narrows a list of column checkboxes to those matching what is typed in its search box
// (input.column-search with data-filter naming the list). Without JavaScript every column shows.
(function () {
  "use strict";
  document.addEventListener("input", function (evt) {
    var box = evt.target;
    if (!box.classList || !box.classList.contains("column-search")) {
      return;
    }
    var list = document.getElementById(box.getAttribute("data-filter"));
    if (!list) {
      return;
    }
    var q = box.value.trim().toLowerCase();
    list.querySelectorAll("[data-search]").forEach(function (row) {
      row.hidden = q !== "" && row.getAttribute("data-search").toLowerCase().indexOf(q) < 0;
    });
  });
})();
