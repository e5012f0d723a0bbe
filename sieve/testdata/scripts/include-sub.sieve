require ["include", "variables", "fileinto"];
global "dest";
if header :contains "subject" "ALERT" {
  set "dest" "Changed";
  return;
}
if header :contains "from" "example.org" { fileinto "${dest}"; }
