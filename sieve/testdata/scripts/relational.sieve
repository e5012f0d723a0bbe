# RFC 5231: :value and :count.
require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :value "gt" :comparator "i;ascii-numeric" "X-Spam-Score" "5" { fileinto "Score-over-5"; }
if header :count "ge" :comparator "i;ascii-numeric" "X-Label" "2" { fileinto "Labelled"; }
if address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] "3" { fileinto "Three"; }
if header :value "lt" "subject" "M" { fileinto "Before-M"; }
