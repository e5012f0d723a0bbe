# draft-ietf-sieve-regex: :regex, case-insensitive by default, with match
# variables.
require ["fileinto", "regex", "variables"];
if header :regex "subject" "^\\[([a-z-]+)\\]" {
  fileinto "Regex/${1}";
}
if header :regex :comparator "i;octet" "subject" "INVOICE|ALERT" { fileinto "Caps"; }
if address :regex :domain "from" "^(billing|shop)\\." { fileinto "Commerce"; }
if header :regex "from" "[0-9]{3,}" { fileinto "Digits"; }
