// Hover details and folds for an mlsurgery graph page. Everything the page needs is in the page itself.
(function () {
  "use strict";
  var tooltip = document.getElementById("tooltip");
  var panel = document.getElementById("fold-panel");
  var graph = document.getElementById("graph");
  var mainSvg = graph.querySelector("svg");

  // Graphviz writes each box's hover text as an SVG <title>; show it in our own tooltip instead of the
  // browser's, which appears late and cannot be styled.
  var nodes = document.querySelectorAll("g.node");
  nodes.forEach(function (node) {
    var title = node.querySelector(":scope > title");
    if (title) {
      node.setAttribute("data-tip", title.textContent);
      title.remove();
    }
    node.querySelectorAll("a > title, g > a").forEach(function (link) { link.removeAttribute("xlink:title"); });
  });

  function showTip(event, text) {
    var lines = text.split("\n");
    tooltip.textContent = "";
    var first = document.createElement("b");
    first.textContent = lines.shift();
    tooltip.appendChild(first);
    tooltip.appendChild(document.createTextNode(lines.length ? "\n" + lines.join("\n") : ""));
    tooltip.hidden = false;
    moveTip(event);
  }

  function moveTip(event) {
    var x = event.clientX + 14, y = event.clientY + 14;
    var box = tooltip.getBoundingClientRect();
    if (x + box.width > window.innerWidth - 8) { x = event.clientX - box.width - 14; }
    if (y + box.height > window.innerHeight - 8) { y = Math.max(8, event.clientY - box.height - 14); }
    tooltip.style.left = x + "px";
    tooltip.style.top = y + "px";
  }

  document.addEventListener("mouseover", function (event) {
    var node = event.target.closest && event.target.closest("g.node[data-tip]");
    if (node) { showTip(event, node.getAttribute("data-tip")); } else { tooltip.hidden = true; }
  });
  document.addEventListener("mousemove", function (event) { if (!tooltip.hidden) { moveTip(event); } });

  function openFold(id) {
    panel.querySelectorAll(".fold-interior").forEach(function (section) {
      section.hidden = section.getAttribute("data-fold-interior") !== id;
    });
    document.querySelectorAll("g.node.fold.selected").forEach(function (n) { n.classList.remove("selected"); });
    var box = document.querySelector('g.node.fold[data-fold="' + id + '"]');
    if (box) { box.classList.add("selected"); }
    panel.hidden = false;
    panel.scrollTop = 0;
  }

  function closeFold() {
    panel.hidden = true;
    document.querySelectorAll("g.node.fold.selected").forEach(function (n) { n.classList.remove("selected"); });
  }

  graph.addEventListener("click", function (event) {
    var fold = event.target.closest("g.node.fold");
    if (fold) { openFold(fold.getAttribute("data-fold")); }
  });
  document.getElementById("fold-close").addEventListener("click", closeFold);
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") { closeFold(); } });

  // Zoom: Graphviz sizes the SVG in points; scale it from there, or fit it to the window's width.
  if (mainSvg) {
    var naturalWidth = mainSvg.width.baseVal.value;
    var scale = 1;
    var setScale = function (value) {
      scale = Math.max(0.1, Math.min(4, value));
      mainSvg.style.width = naturalWidth * scale + "px";
    };
    var fit = function () { setScale(Math.min(1.4, (graph.clientWidth - 36) / naturalWidth)); };
    document.getElementById("zoom-in").addEventListener("click", function () { setScale(scale * 1.25); });
    document.getElementById("zoom-out").addEventListener("click", function () { setScale(scale / 1.25); });
    document.getElementById("zoom-fit").addEventListener("click", fit);
    if (naturalWidth > graph.clientWidth) { fit(); }
  }

  // A summary of the roles, read from the page's own data so it always matches the boxes.
  var counts = JSON.parse(document.getElementById("counts").getAttribute("data-counts"));
  document.getElementById("counts").textContent = Object.keys(counts).map(function (role) {
    return counts[role] + " " + role;
  }).join(", ");

  // #open=<fold id> opens a fold on load (links, screenshots); #open=all opens the first one.
  var match = /open=([^&]+)/.exec(window.location.hash);
  if (match) {
    var first = panel.querySelector(".fold-interior");
    openFold(match[1] === "all" && first ? first.getAttribute("data-fold-interior") : decodeURIComponent(match[1]));
  }
  // Milliseconds from navigation start until the page is parsed, laid out and interactive (benchmarks read it).
  document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  document.body.setAttribute("data-ready", "true");
})();
