# RFC 5228 section 5.1: address parts and comparators.
require ["fileinto"];
if address :domain :is "from" "example.org" { fileinto "Domain-org"; }
if address :localpart :is ["to", "cc"] "bob" { fileinto "To-bob"; }
if address :all :comparator "i;octet" :is "from" "billing@billing.example.net" { fileinto "Octet-lower"; }
if address :all :comparator "i;octet" :contains "from" "Billing.Example" { fileinto "Octet-mixed"; }
if address :matches :domain "to" "*.example" { fileinto "Example-TLD"; }
if not address :contains "from" "example" { fileinto "Foreign"; }
