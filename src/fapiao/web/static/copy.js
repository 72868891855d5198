// "Copy" buttons next to a secret shown once: hidden without script (the text can be
// selected by hand), shown here, and copying the element named by data-copy. Where the
// browser refuses the clipboard, the text is selected for copying by hand instead.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const done = document.getElementById(button.dataset.copy + "-copied");
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(source.value || source.textContent).then(
        () => { if (done) done.hidden = false; },
        () => { source.focus(); source.select(); },
      );
    });
  }
});
