# RFC 5260: date with :originalzone and :zone, currentdate.
require ["fileinto", "date", "relational", "variables"];
if date :originalzone "date" "year" "2025" { fileinto "Y2025"; }
if date :zone "+0000" "date" "hour" ["00", "01", "02", "03", "04", "05", "06"] { fileinto "Night-UTC"; }
if date :originalzone :value "ge" "date" "date" "2025-06-07" { fileinto "Later"; }
if date :zone "-0700" "date" "weekday" "0" { fileinto "Sunday-PDT"; }
if date :originalzone :matches "date" "zone" "+*" { fileinto "East"; }
if currentdate :value "ge" "year" "2024" { fileinto "Now"; }
if date :zone "+0000" :matches "date" "iso8601" "2025-06-0*" { fileinto "ISO-early"; }
if date :originalzone "date" "julian" "60834" { fileinto "Julian"; }
