// The issuing form, made quicker: the recent-buyer picker fills the buyer's fields, and
// lines are added and removed in place (without a script the same buttons submit the
// form, which comes back with the rows changed). Totals come from the server (htmx).
(function () {
  "use strict";
  var form = document.getElementById("issue-form");
  if (!form) return;
  var picker = document.getElementById("recent-buyer");
  var lines = document.getElementById("lines");
  var count = document.getElementById("line-count");

  document.documentElement.classList.add("js");

  function changed(element) {
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  if (picker) {
    picker.addEventListener("change", function () {
      var option = picker.options[picker.selectedIndex];
      if (!option || !option.value) return;
      ["name", "tax_id", "address", "phone", "bank", "account"].forEach(function (key) {
        var input = document.getElementById("f-buyer_" + key);
        if (input) input.value = option.getAttribute("data-" + key) || "";
      });
      var natural = document.getElementById("f-buyer_natural_person");
      if (natural) natural.checked = false;
      changed(document.getElementById("f-buyer_tax_id"));
    });
  }

  function renumber() {
    var rows = lines.querySelectorAll("fieldset.line");
    rows.forEach(function (row, index) {
      row.querySelector(".line-no").textContent = String(index + 1);
    });
  }

  function addRow() {
    var rows = lines.querySelectorAll("fieldset.line");
    var last = rows[rows.length - 1];
    var next = Number(count.value);
    var from = last.getAttribute("data-row");
    var copy = last.cloneNode(true);
    copy.setAttribute("data-row", String(next));
    var pattern = new RegExp("line" + from + "_", "g");
    copy.querySelectorAll("[id],[name],[for],[list],[hx-target],[aria-describedby]").forEach(function (el) {
      ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(pattern, "line" + next + "_"));
      });
      if (el.getAttribute("list")) el.setAttribute("list", "codes-" + next);
      if (el.getAttribute("hx-target")) el.setAttribute("hx-target", "#codes-" + next);
      if (el.tagName === "DATALIST") { el.id = "codes-" + next; el.textContent = ""; }
    });
    copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    copy.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
    copy.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("autofocus");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && !/-error$/.test(id);
      });
      if (described.length) input.setAttribute("aria-describedby", described.join(" "));
      else input.removeAttribute("aria-describedby");
    });
    copy.querySelectorAll("select").forEach(function (select) {
      select.removeAttribute("aria-invalid");
      select.value = "0.13";
      if (select.selectedIndex < 0) select.selectedIndex = 0;
    });
    var remove = copy.querySelector("button.remove");
    if (remove) remove.value = String(next);
    lines.appendChild(copy);
    count.value = String(next + 1);
    renumber();
    if (window.htmx) window.htmx.process(copy);
    var first = copy.querySelector("input");
    if (first) first.focus();
  }

  // Once the live check has looked at the corrected ID, the refusal shown from the last
  // submit no longer applies to it.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (!event.target || event.target.id !== "tax-id-check") return;
    var input = document.getElementById("f-buyer_tax_id");
    var stale = document.getElementById("f-buyer_tax_id-error");
    if (stale) stale.remove();
    input.removeAttribute("aria-invalid");
    input.closest(".field").classList.remove("invalid");
    var described = (input.getAttribute("aria-describedby") || "").replace("f-buyer_tax_id-error", "").trim();
    if (described) input.setAttribute("aria-describedby", described);
    else input.removeAttribute("aria-describedby");
  });

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.id === "more-lines") {
      event.preventDefault();
      addRow();
    } else if (button.classList.contains("remove")) {
      var rows = lines.querySelectorAll("fieldset.line");
      if (rows.length < 2) return; // the server keeps one row in any case
      event.preventDefault();
      button.closest("fieldset.line").remove();
      renumber();
      changed(form);
    }
  });
})();
