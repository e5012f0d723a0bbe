require ["fileinto", "copy", "imap4flags", "variables"];
if header :matches "List-Id" "*<*.*>*" {
  fileinto "Lists/${2}";
  stop;
}
if header :contains "Subject" "invoice" {
  fileinto :copy :flags "\\Seen" "Invoices";
}
if header :is "X-Spam-Flag" "YES" {
  discard;
}
redirect "archive@example.org";
