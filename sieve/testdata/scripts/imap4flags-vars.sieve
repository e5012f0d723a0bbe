# RFC 5232 with variables: flag lists in named variables.
require ["fileinto", "imap4flags", "variables"];
set "myflags" "";
addflag "myflags" ["$One", "$Two"];
removeflag "myflags" "$One";
if hasflag "myflags" "$two" { addflag "$Second"; }
if header :contains "subject" "photos" { keep :flags "${myflags}"; }
