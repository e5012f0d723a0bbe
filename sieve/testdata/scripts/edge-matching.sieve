# Edge cases of matching: escaped wildcards, ?, empty keys, several values
# of one field, i;octet, i;ascii-numeric :is, :count on missing fields.
require ["fileinto", "variables", "relational", "comparator-i;ascii-numeric", "imap4flags"];
if header :matches "subject" "*\\?" { fileinto "Question"; }
if header :matches "subject" "\\[*\\]*" { fileinto "Bracketed"; }
if header :matches "subject" "????" { fileinto "Four"; }
# Not here: "?" before literal text ("R?union*"), which Pigeonhole 0.5
# matches against subjects without "union" (TestRun checks ours).
if header :contains "subject" "" { addflag "$HasSubject"; }
if header :is "subject" "" { fileinto "EmptySubject"; }
if header :is "x-label" "ops" { fileinto "Label-ops"; }
if header :matches "x-label" "d*" { set "lab" "${1}"; fileinto "Label-${lab}"; }
if header :contains :comparator "i;octet" "subject" "alert" { fileinto "Octet-alert"; }
if header :is :comparator "i;ascii-numeric" "x-spam-score" "8" { fileinto "Numeric-8"; }
if header :count "eq" :comparator "i;ascii-numeric" "x-missing" "0" { addflag "$NoMissing"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "abc" { fileinto "Infinity"; }
if address :count "ge" :comparator "i;ascii-numeric" "to" "2" { fileinto "ManyTo"; }
if address :is "to" "undisclosed-recipients:;" { fileinto "Group"; }
if exists "x-label" { addflag "$Labelled"; }
if header :matches "from" "*@*" { fileinto "At/${2}"; }
