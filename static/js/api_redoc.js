/* Starts Redoc on /api/redoc/ without an inline script (the Content-Security-Policy allows none). Its
   styled-components add <style> elements; the nonce lets exactly those through the policy. */
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  if (container && window.Redoc) {
    window.Redoc.init(container.dataset.specUrl, { nonce: container.dataset.styleNonce }, container);
  }
})();
