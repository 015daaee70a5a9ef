/* The post editor: Trix over every textarea marked data-editor.
 *
 * Trix is configured to write only what the site's HTML allowlist keeps
 * (markup.py): paragraphs, h2-h4, bold, italic, links, lists, quotes and code.
 * Without JavaScript the textarea simply stays and takes HTML.
 */
(function () {
  "use strict";
  if (!window.Trix) {
    return;
  }
  var blocks = Trix.config.blockAttributes;
  // Paragraphs, not Trix's <div>s (the allowlist would melt divs into one run of text).
  blocks.default.tagName = "p";
  // Post titles are h2 on the site, so a heading inside the text is an h3.
  blocks.heading1.tagName = "h3";
  // Headings of other levels (typed as HTML, or older posts) keep their level when edited.
  blocks.heading2 = {tagName: "h2", terminal: true, breakOnReturn: true, group: false};
  blocks.heading4 = {tagName: "h4", terminal: true, breakOnReturn: true, group: false};
  var blockNames = Object.keys(blocks);

  // No attachments: the site keeps no uploaded files and its allowlist has no images.
  document.addEventListener("trix-file-accept", function (event) {
    event.preventDefault();
  });

  // Return starts a new paragraph (Shift+Return still breaks the line), as in a word processor.
  function onKeydown(event) {
    var editor = event.currentTarget.editor;
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || !editor) {
      return;
    }
    var inBlock = blockNames.some(function (name) { return editor.attributeIsActive(name); });
    if (!inBlock) {
      event.preventDefault();
      editor.recordUndoEntry("New paragraph");
      editor.composition.insertBlockBreak();
    }
  }

  document.querySelectorAll("textarea[data-editor]").forEach(function (textarea) {
    var editor = document.createElement("trix-editor");
    var label = document.querySelector("label[for='" + textarea.id + "']");
    editor.setAttribute("input", textarea.id);
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    if (label) {
      editor.setAttribute("aria-label", label.textContent.trim());
      // Clicking the label should reach the editor, not the hidden textarea.
      label.addEventListener("click", function () { editor.focus(); });
    }
    editor.className = "editor";
    editor.addEventListener("keydown", onKeydown, true);
    textarea.hidden = true;
    textarea.closest(".field").classList.add("has-editor");
    textarea.insertAdjacentElement("afterend", editor);
  });
})();
