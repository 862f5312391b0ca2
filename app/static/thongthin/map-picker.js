/* Location fields: "latitude, longitude" typed, taken from the phone's location, or tapped on a map.
   The map needs Leaflet (served by the app) and a tile URL; without either the box still works. */
(function () {
  "use strict";
  var script = document.getElementById("map-picker-script");
  var tiles = script ? script.getAttribute("data-tiles") : "";
  var attribution = script ? script.getAttribute("data-attribution") : "";
  var THAILAND = [13.0, 101.0];

  function parse(text) {
    var m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text || "");
    return m ? [parseFloat(m[1]), parseFloat(m[2])] : null;
  }
  function format(lat, lng) { return lat.toFixed(6) + ", " + lng.toFixed(6); }

  function setup(group) {
    var input = group.querySelector("input.thai-location");
    var button = group.querySelector(".thai-locate");
    var mapBox = group.querySelector(".thai-map");
    var hint = group.querySelector(".thai-map-hint");
    var map = null, marker = null;

    function place(lat, lng, zoom) {
      if (!map) { return; }
      if (marker) { marker.setLatLng([lat, lng]); } else { marker = window.L.marker([lat, lng]).addTo(map); }
      map.setView([lat, lng], zoom || Math.max(map.getZoom(), 16));
    }
    function set(lat, lng) {
      input.value = format(lat, lng);
      input.dispatchEvent(new Event("change", { bubbles: true }));
      place(lat, lng);
    }
    if (navigator.geolocation && button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          set(pos.coords.latitude, pos.coords.longitude);
        }, function () { button.disabled = true; }, { enableHighAccuracy: true, timeout: 15000 });
      });
    }
    if (window.L && tiles && mapBox) {
      mapBox.hidden = false;
      if (hint) { hint.hidden = false; }
      mapBox.style.height = "240px";
      mapBox.style.marginTop = "6px";
      var start = parse(input.value);
      map = window.L.map(mapBox).setView(start || THAILAND, start ? 16 : 5);
      window.L.tileLayer(tiles, { maxZoom: 19, attribution: attribution }).addTo(map);
      if (start) { place(start[0], start[1], 16); }
      map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng); });
      input.addEventListener("change", function () {
        var p = parse(input.value);
        if (p) { place(p[0], p[1]); }
      });
    }
  }
  document.querySelectorAll(".thai-location-group").forEach(setup);
})();
