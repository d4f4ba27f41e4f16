/* Uploads the photo straight to S3 (presigned POST) with a preview and progress, then asks the
   app to check and add it. Without this script the form posts to S3, which redirects back. */
(function () {
  "use strict";
  var form = document.getElementById("image-uploader");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = form.querySelector("input[type=file]");
  // The preview <img> is made here: an <img> without a src is invalid HTML in the served page.
  var preview = document.createElement("img");
  preview.className = "upload-preview";
  preview.alt = "Preview of the chosen image";
  preview.hidden = true;
  form.querySelector(".upload-preview-slot").appendChild(preview);
  var progress = form.querySelector(".upload-progress");
  var status = form.querySelector(".upload-status");
  var button = form.querySelector("button[type=submit]");
  var typeField = form.querySelector(".no-script-only");
  var allowed = ["image/jpeg", "image/png", "image/webp"];
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
  if (typeField) { typeField.hidden = true; }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("field-error", Boolean(isError));
  }

  function checkFile(file) {
    if (!file) { return "Choose an image first."; }
    if (allowed.indexOf(file.type) < 0) { return "That file is not a JPEG, PNG or WebP image."; }
    if (file.size < 1) { return "That file is empty."; }
    if (file.size > maxBytes) { return "That file is larger than 5 MB. Choose a smaller photo."; }
    return "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": form.getAttribute("data-csrf") },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = data && data.error ? data.error.message : "The shop could not take that upload.";
          throw new Error(message);
        }
        return data;
      });
    });
  }

  function sendToS3(grant, file) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      Object.keys(grant.fields).forEach(function (name) { data.append(name, grant.fields[name]); });
      data.append("file", file);  // S3 requires the file to be the last field
      var request = new XMLHttpRequest();
      request.open("POST", grant.url);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          progress.value = Math.round((event.loaded / event.total) * 100);
          progress.textContent = progress.value + "%";
        }
      });
      request.addEventListener("load", function () {
        if (request.status >= 200 && request.status < 300) { resolve(); }
        else { reject(new Error("The upload was refused (" + request.status + "). Try again.")); }
      });
      request.addEventListener("error", function () { reject(new Error("The upload failed. Check your connection and try again.")); });
      request.send(data);
    });
  }

  input.addEventListener("change", function () {
    var file = input.files[0];
    var problem = checkFile(file);
    preview.hidden = true;
    if (problem) { say(problem, true); return; }
    say("", false);
    var reader = new FileReader();
    reader.addEventListener("load", function () { preview.src = reader.result; preview.hidden = false; });
    reader.readAsDataURL(file);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = input.files[0];
    var problem = checkFile(file);
    if (problem) { say(problem, true); input.focus(); return; }
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    say("Uploading…", false);
    postJSON(form.getAttribute("data-grant-url"), { content_type: file.type })
      .then(function (grant) {
        return sendToS3(grant, file).then(function () { return grant; });
      })
      .then(function (grant) {
        say("Checking the image…", false);
        return postJSON(form.getAttribute("data-confirm-url"), { key: grant.key });
      })
      .then(function () {
        say("Image added.", false);
        window.location.assign(form.getAttribute("data-done-url"));
      })
      .catch(function (error) {
        say(error.message, true);
        button.disabled = false;
        progress.hidden = true;
      });
  });
})();
