# Addresses: display names with commas, groups, comments, angle-only
# addresses, encoded display names, a local part without a domain, the
# envelope with a quoted local part; folded and repeated fields.
require ["fileinto", "variables", "relational", "comparator-i;ascii-numeric", "envelope", "date"];
if address :count "eq" :comparator "i;ascii-numeric" "to" "5" { fileinto "To5"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "4" { fileinto "To4"; }
if address :is :localpart "from" "john.doe" { fileinto "John"; }
if address :is :domain :comparator "i;octet" "from" "Example.COM" { fileinto "OctetDomain"; }
if address :is "to" ["ann@example.org", "dave@example.net"] { fileinto "GroupMember"; }
if address :localpart :is "reply-to" "noreply" { fileinto "NoDomainLocal"; }
if address :domain :is "reply-to" "" { fileinto "NoDomainEmpty"; }
if address :all :is "reply-to" "noreply" { fileinto "NoDomainAll"; }
if address :domain :is "cc" "example.ch" { fileinto "Swiss"; }
if header :contains "cc" "Zürich" { fileinto "Decoded"; }
if header :is "subject" "A folded subject line with  two   spaces" { fileinto "Unfolded"; }
if header :count "eq" :comparator "i;ascii-numeric" "x-mixed" "2" { fileinto "Mixed2"; }
if envelope :localpart :is "from" "odd local" { fileinto "QuotedEnv"; }
if envelope :domain :is "from" "example.com" { fileinto "EnvDomain"; }
if date :zone "+0000" "date" "date" "2025-06-14" { fileinto "Zone0"; }
if not exists "date" { fileinto "NoDate"; }
if date :originalzone "date" "zone" "-0000" { fileinto "MinusZero"; }
if date :originalzone :matches "date" "year" "*" { fileinto "HasYear"; }
