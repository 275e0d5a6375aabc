// ticketd keyboard shortcuts: / search; j and k move a selection through
// the ticket lists and Enter opens the selected ticket; on a ticket t
// takes it, r goes to the reply box and c to the comment box; ? lists
// them. Keys typed into a field, or with Ctrl, Alt or Meta, are the
// field's. Every shortcut has a visible control that does the same.
(function () {
  "use strict";
  var keys = [
    ["/", "Search"],
    ["j / k", "Select the next / previous ticket in a list"],
    ["Enter", "Open the selected ticket"],
    ["t", "Take the ticket"],
    ["r", "Write a reply"],
    ["c", "Write a comment"],
    ["?", "Show these keys"]
  ];
  var help = null;

  function typing(el) {
    return el && (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("main table.tickets tbody tr"));
  }

  function selected() {
    return document.querySelector("main table.tickets tbody tr.selected");
  }

  function link(tr) {
    return tr.querySelector('a[href^="/tickets/"]');
  }

  // move selects the row by of the selected one (the first when none).
  function move(by) {
    var all = rows();
    if (!all.length) {
      return false;
    }
    var cur = selected(), i = all.indexOf(cur);
    var next = i < 0 ? all[by > 0 ? 0 : all.length - 1] : all[Math.min(all.length - 1, Math.max(0, i + by))];
    if (cur) {
      cur.classList.remove("selected");
      cur.removeAttribute("aria-selected");
    }
    next.classList.add("selected");
    next.setAttribute("aria-selected", "true");
    var a = link(next);
    if (a) {
      a.focus(); // a screen reader follows, and the row scrolls into view
    } else {
      next.scrollIntoView({block: "nearest"});
    }
    return true;
  }

  function open() {
    var tr = selected(), a = tr && link(tr);
    if (!a || document.activeElement === a) {
      return false; // a focused link opens itself
    }
    a.click();
    return true;
  }

  function take() {
    var b = document.querySelector("main button#take");
    if (!b || !b.form) {
      return false;
    }
    if (b.form.requestSubmit) {
      b.form.requestSubmit(b);
    } else {
      b.click();
    }
    return true;
  }

  function focus(sel) {
    var el = document.querySelector(sel);
    if (!el) {
      return false;
    }
    el.focus();
    el.scrollIntoView({block: "center"});
    return true;
  }

  function showHelp() {
    if (!help) {
      help = document.createElement("dialog");
      help.id = "keys";
      help.setAttribute("aria-labelledby", "keys-title");
      var h = document.createElement("h2");
      h.id = "keys-title";
      h.textContent = "Keyboard shortcuts";
      var dl = document.createElement("dl");
      keys.forEach(function (k) {
        var dt = document.createElement("dt"), kbd = document.createElement("kbd"), dd = document.createElement("dd");
        kbd.textContent = k[0];
        dt.appendChild(kbd);
        dd.textContent = k[1];
        dl.appendChild(dt);
        dl.appendChild(dd);
      });
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "Close";
      close.addEventListener("click", function () { help.close(); });
      help.appendChild(h);
      help.appendChild(dl);
      help.appendChild(close);
      document.body.appendChild(help);
    }
    if (!help.open) {
      help.showModal();
    }
    return true;
  }

  // The hint to press ? shows only where the keys work.
  function hint() {
    var el = document.getElementById("keys-hint");
    if (el) {
      el.hidden = false;
    }
  }
  hint();
  document.addEventListener("htmx:afterSettle", hint);

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || e.isComposing || typing(e.target)) {
      return;
    }
    if (help && help.open) {
      return; // the dialog has the keyboard (Escape closes it)
    }
    var done = false;
    switch (e.key) {
    case "/":
      done = focus("header input[name=q]");
      break;
    case "j":
      done = move(1);
      break;
    case "k":
      done = move(-1);
      break;
    case "Enter":
      done = open();
      break;
    case "t":
      done = take();
      break;
    case "r":
      done = focus('main form[action$="/reply"] textarea');
      break;
    case "c":
      done = focus('main form[action$="/comment"] textarea');
      break;
    case "?":
      done = showHelp();
      break;
    }
    if (done) {
      e.preventDefault();
    }
  });
})();
