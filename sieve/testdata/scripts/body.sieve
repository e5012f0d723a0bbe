# RFC 5173: body :text and :raw.
require ["fileinto", "body"];
if body :contains "unsubscribe" { fileinto "Newsletters"; }
if body :text :contains "réunion" { fileinto "French"; }
if body :raw :contains "base64" { fileinto "Raw-b64"; }
if body :contains ["prize", "cake"] { fileinto "Keywords"; }
