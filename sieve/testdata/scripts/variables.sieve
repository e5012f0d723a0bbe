# RFC 5229: set with modifiers, match variables, the string test.
require ["fileinto", "variables"];
set "folder" "Misc";
if header :matches "Subject" "[*] *" {
  set :lower :upperfirst "folder" "${1}";
  set "rest" "${2}";
}
if header :matches "From" "*<*@*>" { set "sender_domain" "${3}"; }
set :length "len" "${folder}";
if string :is "${len}" "3" { fileinto "Short/${folder}"; }
elsif string :contains "${sender_domain}" "example" { fileinto "Dom/${sender_domain}"; }
else { fileinto "V/${folder}"; }
set :upper "u" "abc";
set :quotewildcard "q" "a*b?c";
if string :is "${u}-${q}" "ABC-a\\*b\\?c" { fileinto "Modifiers"; }
if string :matches "${unknown}" "" { fileinto "EmptyUnknown"; }
