// Address fields: typing a 5-digit postcode offers the subdistricts that use it (geothai data).
(function () {
  "use strict";
  document.addEventListener("input", function (e) {
    var box = e.target;
    if (!box.classList || !box.classList.contains("thai-postcode")) { return; }
    var select = box.closest(".thai-address").querySelector("select.thai-subdistrict");
    if (!/^\d{5}$/.test(box.value)) { return; }
    fetch("/services/subdistricts/" + box.value, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { result: [] }; })
      .then(function (data) {
        var keep = select.getAttribute("data-selected");
        select.innerHTML = '<option value="">—</option>';
        data.result.forEach(function (s) {
          var o = document.createElement("option");
          o.value = s.code; o.textContent = s.text; o.selected = s.code === keep;
          select.appendChild(o);
        });
        if (data.result.length === 1) { select.value = data.result[0].code; }
      });
  });
})();
