package classify

// gtube is the Generic Test for Unsolicited Bulk Email: every SpamAssassin
// and rspamd calls a message with this line spam.
var gtube = []byte("From: Sender <sender@example.net>\r\n" +
	"To: Recipient <recipient@example.net>\r\n" +
	"Subject: Test spam mail (GTUBE)\r\n" +
	"Date: Wed, 23 Jul 2003 23:30:00 +0200\r\n" +
	"Message-ID: <gtube.mailrules.test@example.net>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=us-ascii\r\n" +
	"\r\n" +
	"This is the GTUBE test message.\r\n" +
	"\r\n" +
	"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")
