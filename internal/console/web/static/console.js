// scimd console: copy buttons and confirmations. The pages work without it.
document.addEventListener("click", function (e) {
  var b = e.target.closest("button.copy");
  if (b) {
    var text = document.getElementById(b.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () {
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = "Copy"; }, 1500);
    });
    return;
  }
  var c = e.target.closest("button[data-confirm]");
  if (c && !window.confirm(c.dataset.confirm)) {
    e.preventDefault();
  }
});
