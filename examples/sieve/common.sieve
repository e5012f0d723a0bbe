# Included by filter.sieve with include :global "common" (RFC 6609).
require ["fileinto", "imap4flags"];

if header :is "Auto-Submitted" "auto-replied" {
  addflag "$AutoReply";
}
