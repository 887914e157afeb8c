// Tocsin's incident page, live: listens to the page's server-sent events and appends new
// timeline entries (server-rendered <li>s) and applies header changes, without a reload.
// The page works without this script; it only saves the reload. No third-party code.
(function () {
  "use strict";
  var root = document.getElementById("incident");
  var list = document.getElementById("timeline");
  if (!root || !list || !window.EventSource) { return; }
  var id = root.getAttribute("data-incident");
  var after = root.getAttribute("data-after") || "0";
  var live = document.getElementById("live-state");
  var say = function (text) { if (live) { live.textContent = text; } };

  // The browser resends the last event id on reconnect, so no entry is missed or repeated.
  var source = new EventSource("/incidents/" + encodeURIComponent(id) + "/events?after=" + encodeURIComponent(after));
  source.onopen = function () { say("Live"); };
  source.onerror = function () { say("Reconnecting…"); };

  source.addEventListener("entry", function (ev) {
    if (document.getElementById("entry-" + ev.lastEventId)) { return; }
    var holder = document.createElement("ol");
    // The fragment is our own template's output, sanitised on the server like the page.
    holder.innerHTML = ev.data;
    var li = holder.firstElementChild;
    if (!li) { return; }
    li.classList.add("arrived");
    list.appendChild(li);
  });

  var badge = function (cls, text) {
    var span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    return span;
  };

  source.addEventListener("state", function (ev) {
    var s;
    try { s = JSON.parse(ev.data); } catch (e) { return; }
    var status = document.getElementById("incident-status");
    if (status) { status.replaceChildren(badge("badge inc-status inc-status-" + s.status, s.status)); }
    var sev = document.getElementById("incident-severity");
    if (sev && s.severity) { sev.replaceChildren(badge("badge inc-sev inc-sev-" + s.severity.rank, s.severity.name)); }
    ["commander", "ops", "comms"].forEach(function (role) {
      var el = document.getElementById("holder-" + role);
      if (!el) { return; }
      var who = s.holders && s.holders[role];
      el.replaceChildren(who ? document.createTextNode(who) : badge("muted", "vacant"));
    });
  });
})();
