require ["imap4flags"];
addflag "$Once";
