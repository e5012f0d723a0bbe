# Most extensions at once, in the style of a real user's filter.
require ["fileinto", "copy", "mailbox", "imap4flags", "variables", "regex",
         "relational", "comparator-i;ascii-numeric", "spamtest", "body",
         "envelope", "date"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "7" {
  fileinto :create :flags "\\Seen" "Junk";
  stop;
}
if header :matches "List-Id" "*<*.*>*" {
  set :lower "list" "${2}";
  fileinto :create "Lists/${list}";
  stop;
}
if anyof (header :contains "Subject" ["invoice", "receipt"],
          address :domain :is "from" "billing.example.net") {
  fileinto :copy :flags "\\Seen" "Archive/Invoices";
}
if address :is :all "from" ["mum@example.org", "dad@example.org"] {
  addflag "\\Flagged";
}
if body :contains "unsubscribe" { fileinto "Newsletters"; }
if header :is "Auto-Submitted" "auto-replied" { addflag "$AutoReply"; discard; }
