# RFC 5260 section 6: :index and :last on header, address and date.
require ["fileinto", "index", "date", "variables"];
if header :index 2 "x-label" "ops" { fileinto "Second-ops"; }
if header :index 1 :last "x-label" "database" { fileinto "Last-database"; }
if header :index 5 "x-label" "urgent" { fileinto "Never"; }
if address :index 2 :domain "to" "example.com" { fileinto "Second-to-com"; }
if header :index 1 :matches "received" "from *" { fileinto "Recv/${1}"; }
if date :index 1 :originalzone "date" "year" "2025" { fileinto "Year"; }
