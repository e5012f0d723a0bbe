# RFC 5235: spamtest and spamtestplus over X-Spam-Score.
require ["fileinto", "spamtestplus", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "Untested"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "8" { fileinto "Spam"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "5" { fileinto "Maybe"; }
else { fileinto "Ham"; }
if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "49" { fileinto "Percent-over-49"; }
