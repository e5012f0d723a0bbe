# RFC 3894: fileinto :copy keeps the implicit keep.
require ["fileinto", "copy"];
if header :contains "from" "example" { fileinto :copy "Backup"; }
if header :contains "subject" "invoice" { fileinto "Invoices"; }
if header :contains "subject" "invoice" { fileinto "Invoices"; }
if header :contains "subject" "ALERT" { fileinto "INBOX"; fileinto :copy "Alerts"; }
