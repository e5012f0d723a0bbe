# RFC 5173: body :text and :raw.
require ["fileinto", "body"];
if body :contains "unsubscribe" { fileinto "Newsletters"; }
if body :text :contains "réunion" { fileinto "French"; }
if body :raw :contains "base64" { fileinto "Raw-b64"; }
if body :contains ["prize", "cake"] { fileinto "Keywords"; }
if body :content "text" :contains "amount due" { fileinto "Content-text"; }
if body :content "application/pdf" :contains "%PDF" { fileinto "Content-pdf"; }
if body :content ["image", "application/zip"] :contains "JFIF" { fileinto "Content-image"; }
if body :content "text/html" :contains "<b>prize</b>" { fileinto "Content-html"; }
if body :content "text/plain" :contains "Grüße" { fileinto "Content-latin1"; }
