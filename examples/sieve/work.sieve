# The work account's own script (examples/sieve.toml).
require ["fileinto", "imap4flags", "envelope"];

# Mail that reached us through the team alias.
if envelope :localpart :is "to" "team" {
  fileinto "Team";
}

if header :contains "X-Priority" "1" {
  addflag "\\Flagged";
}
