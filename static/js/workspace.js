/* Consultant workspace: keyboard navigation in the weekly status grid and the job search combobox.
   No inline scripts: this file is loaded with `defer`, and listens on the document so it also serves
   content that htmx swaps in later. */
(function () {
  "use strict";

  // --- weekly status grid ------------------------------------------------------------------------------

  function gridOf(el) {
    return el && el.closest ? el.closest("table.status-grid") : null;
  }

  function cellControl(td) {
    return td ? td.querySelector("select, input:not([type=hidden]), button, a[href]") : null;
  }

  function moveTo(td) {
    var control = cellControl(td);
    if (control) {
      control.focus();
      return true;
    }
    return false;
  }

  function moveHorizontal(td, step) {
    var cell = step < 0 ? td.previousElementSibling : td.nextElementSibling;
    while (cell) {
      if (cell.tagName === "TD" && moveTo(cell)) return;
      cell = step < 0 ? cell.previousElementSibling : cell.nextElementSibling;
    }
  }

  function moveVertical(td, step) {
    var row = td.parentElement;
    var column = Array.prototype.indexOf.call(row.children, td);
    var other = step < 0 ? row.previousElementSibling : row.nextElementSibling;
    while (other) {
      if (moveTo(other.children[column])) return;
      other = step < 0 ? other.previousElementSibling : other.nextElementSibling;
    }
  }

  function choose(select, value) {
    if (!value || select.value === value) return;
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function optionByKey(select, key) {
    var options = Array.prototype.filter.call(select.options, function (o) {
      return o.value !== "";
    });
    if (/^[1-9]$/.test(key)) {
      var picked = options[parseInt(key, 10) - 1];
      return picked ? picked.value : "";
    }
    var letter = key.toLocaleLowerCase();
    for (var i = 0; i < options.length; i++) {
      if (options[i].text.trim().toLocaleLowerCase().charAt(0) === letter) return options[i].value;
    }
    return "";
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!gridOf(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    var td = target.closest("td, th");
    if (!td) return;
    var isSelect = target.tagName === "SELECT";
    var isText = target.tagName === "INPUT" && target.type === "text";
    if (isText) {
      if (event.key === "Escape") {
        var cancel = document.getElementById(target.dataset.cancel || "");
        if (cancel) {
          event.preventDefault();
          cancel.click();
        }
      }
      return; // arrows edit the reason text
    }
    switch (event.key) {
      case "ArrowLeft":
        event.preventDefault();
        moveHorizontal(td, -1);
        return;
      case "ArrowRight":
        event.preventDefault();
        moveHorizontal(td, 1);
        return;
      case "ArrowUp":
        event.preventDefault(); // also stops the select from changing its value
        moveVertical(td, -1);
        return;
      case "ArrowDown":
        event.preventDefault();
        moveVertical(td, 1);
        return;
      case "Enter":
        if (isSelect && target.value === "" && target.dataset.suggestion) {
          event.preventDefault();
          choose(target, target.dataset.suggestion);
        }
        return;
      default:
        if (isSelect && event.key.length === 1 && event.key !== " ") {
          var value = optionByKey(target, event.key);
          event.preventDefault();
          choose(target, value);
        }
    }
  });

  // Keep the keyboard where it was when htmx replaces a cell (the old element, and its focus, are gone).
  var focusedId = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var active = document.activeElement;
    focusedId = active && active.id && event.detail.target && event.detail.target.contains(active) ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    // htmx itself focuses an [autofocus] field of the new content (the reason of a correction).
    var lost = !document.activeElement || document.activeElement === document.body;
    if (lost && focusedId) {
      var again = document.getElementById(focusedId);
      if (again) again.focus();
    }
    focusedId = null;
  });

  // --- job search combobox (log a placement) -----------------------------------------------------------

  function combo(el) {
    return el && el.closest ? el.closest("[data-job-search]") : null;
  }

  function parts(box) {
    return {
      input: box.querySelector("[role=combobox]"),
      list: box.querySelector("[role=listbox]"),
      hidden: box.querySelector("input[type=hidden][name=job]"),
    };
  }

  function options(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
  }

  function setActive(box, index) {
    var p = parts(box);
    var all = options(p.list);
    all.forEach(function (o, i) {
      o.setAttribute("aria-selected", i === index ? "true" : "false");
      o.classList.toggle("active", i === index);
    });
    if (all[index]) {
      p.input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      p.input.removeAttribute("aria-activedescendant");
    }
    box.dataset.active = String(index);
  }

  function close(box) {
    var p = parts(box);
    if (p.list) p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
    box.dataset.active = "-1";
  }

  function pick(box, option) {
    var p = parts(box);
    p.hidden.value = option.dataset.jobId;
    p.input.value = option.dataset.label;
    var form = box.closest("form");
    var hours = form ? form.querySelector("input[name=hours_per_week]") : null;
    if (hours && option.dataset.hours) hours.placeholder = option.dataset.hours.replace(".", ",");
    close(box);
    p.input.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list || list.id !== "job_results") list = document.getElementById("job_results");
    var box = combo(list);
    if (!box) return;
    var p = parts(box);
    var found = options(p.list).length > 0 || (p.list && p.list.children.length > 0);
    p.list.hidden = !found || p.input.value.trim() === "";
    p.input.setAttribute("aria-expanded", p.list.hidden ? "false" : "true");
    setActive(box, options(p.list).length === 1 ? 0 : -1);
  });

  document.addEventListener("input", function (event) {
    var box = combo(event.target);
    if (box && event.target.getAttribute("role") === "combobox") {
      parts(box).hidden.value = ""; // typing again means the earlier choice no longer holds
    }
  });

  document.addEventListener("keydown", function (event) {
    var box = combo(event.target);
    if (!box || event.target.getAttribute("role") !== "combobox") return;
    var p = parts(box);
    var all = options(p.list);
    var open = p.list && !p.list.hidden;
    var active = parseInt(box.dataset.active || "-1", 10);
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      p.list.hidden = false;
      p.input.setAttribute("aria-expanded", "true");
      setActive(box, Math.min(active + 1, all.length - 1));
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      setActive(box, Math.max(active - 1, 0));
    } else if (event.key === "Enter" && open && all[active]) {
      event.preventDefault(); // pick, do not submit yet
      pick(box, all[active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(box);
    }
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest ? event.target.closest("[role=option][data-job-id]") : null;
    var box = combo(option);
    if (option && box) pick(box, option);
  });
})();
