# An example Sieve script (RFC 5228) for mailrules: see examples/sieve.toml.
require ["fileinto", "copy", "mailbox", "imap4flags", "variables",
         "regex", "relational", "comparator-i;ascii-numeric",
         "spamtest", "body", "include", "envelope"];

# Spam: the score the spam filter wrote (X-Spam-Score, X-Spam-Status or
# X-Rspamd-Score) on a 1..10 scale; 0 means untested.
if spamtest :value "ge" :comparator "i;ascii-numeric" "6" {
  fileinto :create "Junk";
  stop;
}

# Mailing lists get a folder each, named after the list id.
if header :matches "List-Id" "*<*.*>*" {
  set :lower "list" "${2}";
  fileinto :create "Lists/${list}";
  stop;
}

# Keep invoices in the inbox, and a copy, read, in the archive.
if anyof (header :contains "Subject" ["invoice", "receipt"],
          address :domain :is "from" "billing.example.net") {
  fileinto :copy :flags "\\Seen" "Archive/Invoices";
}

# Mark mail from the family as important.
if address :is :all "from" ["mum@example.org", "dad@example.org"] {
  addflag "\\Flagged";
}

# Newsletters that are not read within the inbox: straight to their folder.
if body :contains "unsubscribe" {
  fileinto "Newsletters";
}

include :global :optional "common";
