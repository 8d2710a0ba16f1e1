/* Behaviour every page shares, kept out of the templates: the Content-Security-Policy allows no inline
   script or event handler. Loaded with `defer`; listens on the document, so it also serves content that
   htmx swaps in later. */
(function () {
  "use strict";

  // A <select data-submit-on-change> submits its form as soon as a value is chosen (the language switch).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[data-submit-on-change]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });
})();
