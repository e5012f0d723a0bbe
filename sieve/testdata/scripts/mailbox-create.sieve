# RFC 5490: fileinto :create.
require ["fileinto", "mailbox"];
if header :contains "list-id" "golang" { fileinto :create "Lists/go"; }
