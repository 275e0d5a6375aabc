// ticketd live updates: the page listens to /events (Server-Sent Events,
// ids of changed tickets only) and, on a change, tells htmx: each part of
// the page marked data-swap is fetched again (hx-get of the page itself,
// hx-select of the part) and replaced, unless the person is working in it.
// Pages work without this script.
(function () {
  "use strict";
  if (!window.EventSource || !window.htmx) {
    return;
  }
  var es = null, stream = "", timer = 0;

  // inUse: the person is working in this part (a field with focus, a box
  // ticked); it waits for the next change.
  function inUse(el) {
    var a = document.activeElement;
    if (a && a !== document.body && el.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) &&
        !/^(checkbox|radio)$/.test(a.type)) {
      return true;
    }
    return el.querySelector("input[type=checkbox]:checked") !== null;
  }

  // arm gives the data-swap parts under root what htmx needs; a part the
  // server sends again comes without it and is armed when it lands.
  function arm(root) {
    var parts = Array.prototype.slice.call(root.querySelectorAll("[data-swap][id]"));
    if (root.matches && root.matches("[data-swap][id]")) {
      parts.push(root);
    }
    parts.forEach(function (el) {
      if (el.hasAttribute("hx-get")) {
        return;
      }
      el.setAttribute("hx-get", location.pathname + location.search);
      el.setAttribute("hx-select", "#" + el.id);
      el.setAttribute("hx-trigger", "ticketd:changed from:body");
      el.setAttribute("hx-swap", "outerHTML");
      el.setAttribute("hx-disinherit", "hx-select hx-swap hx-trigger");
      htmx.process(el);
    });
  }

  // the page's own address when the request leaves (hx-boost may have
  // moved on since the part was armed).
  function self(evt) {
    var el = evt.detail.elt;
    if (el && el.hasAttribute && el.hasAttribute("data-swap")) {
      evt.detail.path = location.pathname + location.search;
    }
  }

  // guard keeps a part as it is while it is in use, and when the answer
  // is not the page with that part (an error, the sign-in page).
  function guard(evt) {
    var el = evt.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-swap")) {
      return;
    }
    if (evt.type === "htmx:confirm") {
      if (inUse(el)) {
        evt.preventDefault();
      }
      return;
    }
    var x = evt.detail.xhr;
    if (inUse(el) || x.status !== 200 || x.responseText.indexOf('id="' + el.id + '"') < 0) {
      evt.detail.shouldSwap = false;
      evt.detail.isError = false;
    }
  }

  // schedule gathers the changes of 150 ms into one round of requests.
  function schedule() {
    if (!timer) {
      timer = setTimeout(function () {
        timer = 0;
        document.body.dispatchEvent(new CustomEvent("ticketd:changed"));
      }, 150);
    }
  }

  // connect listens to the stream the page names (main[data-live]); a page
  // reached through hx-boost may name another one, or none.
  function connect() {
    var main = document.querySelector("main[data-live]");
    var want = main ? main.getAttribute("data-live") : "";
    if (want === stream) {
      return;
    }
    if (es) {
      es.close();
      es = null;
    }
    stream = want;
    if (want) {
      es = new EventSource("/events?" + want);
      es.addEventListener("changed", schedule);
    }
  }

  htmx.onLoad(arm);
  document.addEventListener("htmx:confirm", guard);
  document.addEventListener("htmx:beforeSwap", guard);
  document.addEventListener("htmx:configRequest", self);
  document.addEventListener("htmx:afterSettle", connect);
  document.addEventListener("htmx:historyRestore", connect);
  connect();
})();
