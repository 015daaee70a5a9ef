/* The post editor: Trix over every textarea marked data-editor.
 *
 * Trix is configured to write only what the site's HTML allowlist keeps
 * (markup.py): paragraphs, h2-h4, bold, italic, links, lists, quotes, code,
 * and images from the site's own store with an optional caption.
 * Without JavaScript the textarea simply stays and takes HTML.
 *
 * An image dropped, pasted or chosen with the paperclip is sent to the
 * address in <meta name="image-upload-url"> (admin/uploads.py) and shows
 * from there once stored; a line under the editor says how it is going and
 * why an image was refused. The text around it is never touched.
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

  // A caption is what the writer types under an image, never its file name or size.
  Trix.config.attachments.preview.caption = {name: false, size: false};

  var uploadMeta = document.querySelector("meta[name=image-upload-url]");
  var uploadUrl = uploadMeta && uploadMeta.content;
  var maxBytes = uploadMeta ? Number(uploadMeta.dataset.maxBytes) : 0;

  function note(editor, text, isProblem) {
    var line = editor.nextElementSibling;
    line.textContent = text;
    line.classList.toggle("problem", Boolean(isProblem));
  }

  function refuse(editor, attachment, reason) {
    if (attachment) {
      attachment.remove();
    }
    note(editor, reason + " Your text is unchanged.", true);
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(bytes % 1048576 ? 1 : 0) + " MiB";
  }

  // The size is checked here only to spare a long wait; the site checks every image itself.
  document.addEventListener("trix-file-accept", function (event) {
    var name = event.file.name || "The image";
    var range = event.target.editor.getSelectedRange();
    if (!uploadUrl) {
      event.preventDefault();
      refuse(event.target, null, "Images cannot be added here.");
    } else if (maxBytes && event.file.size > maxBytes) {
      event.preventDefault();
      refuse(event.target, null, name + " was not added: it is larger than " + megabytes(maxBytes) +
             "; make it smaller first.");
    } else if (range[0] !== range[1]) {
      // An image goes in after what is selected, never in its place: adding one removes nothing.
      event.target.editor.setSelectedRange(range[1]);
    }
  });

  function answerOf(request) {
    try {
      return JSON.parse(request.responseText) || {};
    } catch (error) {
      return {};
    }
  }

  function why(request, answer) {
    if (request.status === 400) {
      // The page's form token expired (the page sat open for hours): only a reload gets a new one.
      return "this page has been open too long. Save your text with the buttons, reload the page, " +
             "then add the image again.";
    }
    return answer.error || "the site answered " + request.status + ".";
  }

  // XMLHttpRequest rather than fetch: only it reports how much of a large image has been sent.
  function upload(editor, attachment) {
    var file = attachment.file;
    var name = file.name || "The image";
    var form = editor.inputElement.form;
    var request = new XMLHttpRequest();
    editor.imagesInFlight = (editor.imagesInFlight || 0) + 1;
    note(editor, "Adding " + name + "…");
    request.open("POST", uploadUrl);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.setRequestHeader("X-CSRFToken", form.querySelector("input[name=csrf_token]").value);
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        attachment.setUploadProgress(event.loaded / event.total * 100);
      }
    });
    request.addEventListener("load", function () {
      var answer = answerOf(request);
      if (request.status === 201 && answer.url) {
        attachment.setAttributes({url: answer.url, width: answer.width, height: answer.height});
        note(editor, name + " is added. Click it to write a caption under it.");
      } else {
        refuse(editor, attachment, name + " was not added: " + why(request, answer));
      }
    });
    request.addEventListener("error", function () {
      refuse(editor, attachment, name + " was not added: the site could not be reached.");
    });
    request.addEventListener("loadend", function () {
      editor.imagesInFlight -= 1;
    });
    request.send(file);
  }

  // Only images in the site's own store are kept when a post is saved (markup.py).
  var OWN_IMAGE = /^(?:\/[\w.~-]+)*\/uploads\/[0-9a-f]{32}\.(?:png|jpg|webp)$/;

  function isOwnImage(url) {
    try {
      var address = new URL(url, window.location.href);
      return address.origin === window.location.origin && !address.search && !address.hash &&
             OWN_IMAGE.test(address.pathname);
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("trix-attachment-add", function (event) {
    var attachment = event.attachment;
    if (attachment.file) {
      upload(event.target, attachment);
    } else if (!isOwnImage(attachment.getURL())) {
      // Dragged or pasted from a web page or a document: it would vanish at the next save.
      refuse(event.target, attachment, "An image from another place was left out: only image files " +
             "added here are kept. Save the image to your computer, then add the file.");
    }
  });

  // An image saved earlier comes back as <figure><img><figcaption>: handed to Trix as an
  // attachment, it stays one image with its caption instead of an image and a loose line.
  function withAttachments(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    template.content.querySelectorAll("figure").forEach(function (figure) {
      var image = figure.querySelector("img");
      var caption = figure.querySelector("figcaption");
      if (!image || figure.children.length !== (caption ? 2 : 1)) {
        return;
      }
      figure.setAttribute("data-trix-attachment", JSON.stringify({
        contentType: "image",
        url: image.getAttribute("src"),
        width: Number(image.getAttribute("width")) || undefined,
        height: Number(image.getAttribute("height")) || undefined
      }));
      figure.setAttribute("data-trix-attributes", JSON.stringify(caption ? {caption: caption.textContent} : {}));
    });
    return template.innerHTML;
  }

  // Return starts a new paragraph (Shift+Return still breaks the line), as in a word processor.
  // Only keys typed into the text itself: Return in an image's caption box saves the caption.
  function onKeydown(event) {
    var editor = event.currentTarget.editor;
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || !editor ||
        event.target !== event.currentTarget) {
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
    textarea.value = withAttachments(textarea.value);
    textarea.hidden = true;
    textarea.closest(".field").classList.add("has-editor");
    textarea.insertAdjacentElement("afterend", editor);
    // Trix also says "change" when an image it shows has loaded, the text unchanged: only a real
    // change goes on to autosave and the warning on leaving the page.
    var lastValue = null;
    editor.addEventListener("trix-initialize", function () {
      lastValue = textarea.value;
    });
    editor.addEventListener("trix-change", function (event) {
      if (textarea.value === lastValue) {
        event.stopPropagation();
      }
      lastValue = textarea.value;
    });
    var line = document.createElement("p");
    line.className = "hint editor-note";
    line.setAttribute("role", "status");
    line.setAttribute("aria-live", "polite");
    editor.insertAdjacentElement("afterend", line);
    // Saving while an image is still being sent would save the text without it.
    textarea.form.addEventListener("submit", function (event) {
      if (editor.imagesInFlight) {
        event.preventDefault();
        event.stopImmediatePropagation();
        note(editor, "Wait a moment: an image is still being added. Then save again.", true);
      }
    }, true);
  });
})();
