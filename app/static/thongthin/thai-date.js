// A Thai calendar for <input class="thai-date">: Thai month names, พ.ศ. years, typed or picked.
(function () {
  "use strict";
  var BE = 543;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function parse(text) {
    var m = /^\s*(\d{1,2})\s*[\/.\-]\s*(\d{1,2})\s*[\/.\-]\s*(\d{4})\s*$/.exec(text || "");
    if (!m) { return null; }
    var d = new Date(parseInt(m[3], 10) - BE, parseInt(m[2], 10) - 1, parseInt(m[1], 10));
    return isNaN(d.getTime()) ? null : d;
  }
  function attach(input) {
    if (input.getAttribute("data-thai-date-ready")) { return; }
    input.setAttribute("data-thai-date-ready", "1");
    var months = (input.getAttribute("data-months") || "").split("|");
    var box = document.createElement("div");
    box.className = "thai-date-picker dropdown-menu";
    box.style.padding = "6px";
    box.style.minWidth = "260px";
    input.parentNode.style.position = "relative";
    input.parentNode.appendChild(box);
    var shown = parse(input.value) || new Date();
    function render() {
      var y = shown.getFullYear(), mo = shown.getMonth();
      var first = new Date(y, mo, 1).getDay(), days = new Date(y, mo + 1, 0).getDate();
      var html = '<div style="display:flex;justify-content:space-between;align-items:center">' +
        '<button type="button" class="btn btn-xs btn-default" data-step="-1">&lsaquo;</button>' +
        "<strong>" + months[mo] + " " + (y + BE) + "</strong>" +
        '<button type="button" class="btn btn-xs btn-default" data-step="1">&rsaquo;</button></div>' +
        '<table class="table table-condensed" style="margin:4px 0 0 0;text-align:center"><tr>';
      ["อา", "จ", "อ", "พ", "พฤ", "ศ", "ส"].forEach(function (w) { html += "<th style='text-align:center'>" + w + "</th>"; });
      html += "</tr><tr>";
      for (var i = 0; i < first; i++) { html += "<td></td>"; }
      for (var day = 1; day <= days; day++) {
        if ((first + day - 1) % 7 === 0 && day > 1) { html += "</tr><tr>"; }
        html += '<td><a href="#" data-day="' + day + '">' + day + "</a></td>";
      }
      box.innerHTML = html + "</tr></table>";
    }
    box.addEventListener("mousedown", function (e) { e.preventDefault(); });
    box.addEventListener("click", function (e) {
      var t = e.target;
      if (t.getAttribute("data-step")) {
        shown = new Date(shown.getFullYear(), shown.getMonth() + parseInt(t.getAttribute("data-step"), 10), 1);
        render();
      } else if (t.getAttribute("data-day")) {
        e.preventDefault();
        input.value = pad(parseInt(t.getAttribute("data-day"), 10)) + "/" + pad(shown.getMonth() + 1) + "/" + (shown.getFullYear() + BE);
        box.style.display = "none";
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    input.addEventListener("focus", function () { shown = parse(input.value) || shown; render(); box.style.display = "block"; });
    input.addEventListener("blur", function () { box.style.display = "none"; });
  }
  // Also for date boxes added later (FAB's search filters are added on demand): attach on first focus.
  document.addEventListener("focusin", function (e) {
    var t = e.target;
    if (t && t.classList && t.classList.contains("thai-date") && !t.getAttribute("data-thai-date-ready")) {
      attach(t);
      t.dispatchEvent(new Event("focus"));
    }
  });
})();
