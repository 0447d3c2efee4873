// The unit picker: a field that takes a unit's code also offers, as one types a name, a code
// or pinyin, the units of one's own subtree with the units above them (a datalist filled from
// /units/choices). Without this script the field still takes a code, and a link beside it
// opens the unit search.
(function () {
  "use strict";
  // Each field's markup brings this script along; the first run serves them all.
  var fields = document.querySelectorAll("input[data-unit-picker]:not([list])");
  Array.prototype.forEach.call(fields, function (field, n) {
    var list = document.createElement("datalist");
    list.id = "unit-choices-" + n;
    field.setAttribute("list", list.id);
    field.setAttribute("autocomplete", "off");
    field.parentNode.insertBefore(list, field.nextSibling);
    var timer = null;
    var asked = "";
    field.addEventListener("input", function () {
      var typed = field.value.trim();
      if (typed === asked || typed.length === 0) {
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(function () {
        asked = typed;
        fetch("/units/choices?q=" + encodeURIComponent(typed), { credentials: "same-origin" })
          .then(function (reply) { return reply.ok ? reply.json() : []; })
          .then(function (units) {
            list.textContent = "";
            units.forEach(function (unit) {
              var option = document.createElement("option");
              option.value = unit.code;
              option.label = unit.name + (unit.above ? " · " + unit.above : "");
              list.appendChild(option);
            });
          })
          .catch(function () { list.textContent = ""; });
      }, 200);
    });
  });
})();
