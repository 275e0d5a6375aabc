// ticketd live updates: the page listens to /events (Server-Sent Events,
// ids of changed tickets only) and, on a change, fetches itself again and
// swaps the parts marked data-swap. Pages work without this script.
(function () {
  "use strict";
  var main = document.querySelector("main[data-live]");
  if (!main || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var busy = false, again = false, timer = 0;

  // busy: the person is working in this part (a field with focus, a box
  // ticked); it waits for the next change.
  function inUse(el) {
    var a = document.activeElement;
    if (a && a !== document.body && el.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) {
      return true;
    }
    return el.querySelector("input[type=checkbox]:checked") !== null;
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) {
        if (!r.ok) {
          throw new Error("status " + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-swap][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh && !inUse(el)) {
            el.replaceWith(document.importNode(fresh, true));
          }
        });
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  // schedule gathers the changes of 150 ms into one fetch.
  function schedule() {
    if (!timer) {
      timer = setTimeout(function () {
        timer = 0;
        refresh();
      }, 150);
    }
  }

  var es = new EventSource("/events?" + main.getAttribute("data-live"));
  es.addEventListener("changed", schedule);
})();
