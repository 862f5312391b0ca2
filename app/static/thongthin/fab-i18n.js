/* FAB's scripts pass a few English phrases to ab_alert ("No row selected" in ab_actions.js); show them in the
   user's language. The phrases come translated from the page (<script type="application/json" id="fab-i18n">). */
(function () {
  "use strict";
  var node = document.getElementById("fab-i18n");
  if (!node || typeof window.ab_alert !== "function") {
    return;
  }
  var words = JSON.parse(node.textContent || "{}");
  var original = window.ab_alert;
  window.ab_alert = function (text) {
    return original(Object.prototype.hasOwnProperty.call(words, text) ? words[text] : text);
  };
})();
