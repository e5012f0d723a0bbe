# RFC 5232: setflag, addflag, removeflag, hasflag and :flags; the implicit
# keep uses the flags at the end, fileinto those of that moment.
require ["fileinto", "imap4flags", "relational", "comparator-i;ascii-numeric"];
addflag "\\Seen";
if header :contains "from" "mum" {
  addflag ["\\Flagged", "$Family"];
  fileinto "Family";
}
if hasflag :is "\\flagged" { addflag "$WasFlagged"; }
if header :contains "subject" "ALERT" {
  setflag "\\Flagged urgent";
  fileinto :flags ["$Alert", "\\Seen"] "Alerts";
  removeflag "urgent";
  keep;
}
if header :contains "subject" "invoice" {
  fileinto :flags "" "Invoices";
  removeflag "\\Seen";
}
if hasflag :count "ge" :comparator "i;ascii-numeric" "2" { addflag "$Many"; }
