// The postmortem page, enhanced: while someone types in a section, the server renders the
// text (sanitised, as it will be shown) and checks it for blaming language, and the result
// appears under the textarea. Without this script, the "Preview" button does the same.
(function () {
  "use strict";
  var DELAY_MS = 400;
  document.querySelectorAll("textarea[data-preview]").forEach(function (area) {
    var target = document.getElementById(area.getAttribute("data-live"));
    var csrf = area.form && area.form.querySelector("input[name=csrf]");
    if (!target || !csrf) return;
    var timer = null;
    var sent = 0;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        // Only the newest answer is shown: an older, slower one must not overwrite it.
        var mine = ++sent;
        var body = new URLSearchParams({ csrf: csrf.value, body: area.value });
        fetch(area.getAttribute("data-preview"), {
          method: "POST",
          body: body,
          credentials: "same-origin",
        })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) {
            // The fragment is our own server's sanitised HTML.
            if (mine === sent) target.innerHTML = html;
          })
          .catch(function () {});
      }, DELAY_MS);
    });
  });
})();
