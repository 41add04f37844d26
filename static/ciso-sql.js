// Datasette 0.65.5 _codemirror_foot.html, as a file (the CSP allows no inline script), plus a
// French label on the editor's input: the SQL editor, its formatter and Shift-Enter to run.
window.addEventListener("load", function () {
  "use strict";
  var sqlFormat = document.querySelector("button#sql-format");
  var readOnly = document.querySelector("pre#sql-query");
  var sqlInput = document.querySelector("textarea#sql-editor");
  if (sqlFormat && !readOnly) {
    sqlFormat.hidden = false;
  }
  if (sqlInput) {
    var editor = CodeMirror.fromTextArea(sqlInput, {
      lineNumbers: true,
      mode: "text/x-sql",
      lineWrapping: true
    });
    editor.setOption("extraKeys", {
      "Shift-Enter": function () {
        document.getElementsByClassName("sql")[0].submit();
      },
      Tab: false
    });
    if (sqlFormat) {
      sqlFormat.addEventListener("click", function () {
        editor.setValue(sqlFormatter.format(editor.getValue()));
      });
    }
    editor.getInputField().setAttribute("aria-label", "Requête SQL");
    cmResize(editor, { resizableWidth: false });
  }
  if (sqlFormat && readOnly) {
    var formatted = sqlFormatter.format(readOnly.innerHTML);
    if (formatted !== readOnly.innerHTML) {
      sqlFormat.hidden = false;
      sqlFormat.addEventListener("click", function () {
        readOnly.innerHTML = formatted;
      });
    }
  }
});
