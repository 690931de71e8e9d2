// The rule playground's live syntax check: as the query is typed, ask the server to parse it
// and show the error with a caret under its column. Pages work without this file.
"use strict";
(function () {
  var box = document.getElementById("q");
  var out = document.getElementById("syntax");
  if (!box || !out) {
    return;
  }
  var timer = null;
  var asked = 0;
  function show(query, answer) {
    if (answer.ok) {
      out.className = "ok";
      out.textContent = "syntax OK";
      return;
    }
    out.className = "error";
    var caret = " ".repeat(Math.max(0, answer.column - 1)) + "^";
    out.textContent = query + "\n" + caret + " column " + answer.column + ": " + answer.message;
  }
  function check() {
    var query = box.value;
    var mine = ++asked;
    fetch("/api/v1/check?q=" + encodeURIComponent(query), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (answer) { if (mine === asked) { show(query, answer); } })
      .catch(function () { out.textContent = ""; });
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 150);
  });
})();
