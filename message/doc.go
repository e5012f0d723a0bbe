// Package message decodes Internet mail messages for rules, logs and the
// test command. It reads:
//
//   - the header block: split from the body ([SplitHeader]), indexed in one
//     pass and unfolded on read ([Header]; RFC 5322 sections 2.2 and 2.2.3),
//     with the blank-line rule of IMAP's BODY[HEADER] (RFC 3501 section 6.4.5);
//   - unstructured header text: RFC 2047 encoded words in any supported
//     charset, raw UTF-8 (RFC 6532) and raw 8-bit text ([Decoder.Text]);
//   - charsets: UTF-8, US-ASCII, ISO-8859-1 to -16 (except -12),
//     Windows-1250 to -1258, KOI8-R, KOI8-U, IBM866 and Macintosh under their
//     common aliases (WHATWG Encoding labels), with the RFC 2231 section 5
//     language suffix ("utf-8*en");
//   - address lists, groups included (RFC 5322 section 3.4), with UTF-8
//     display names (RFC 6532) ([Decoder.AddressList]);
//   - the body: the MIME tree (RFC 2045, RFC 2046), transfer encodings
//     (quoted-printable, base64; RFC 2045 section 6), the first text part and
//     the attachments, with file names in RFC 2047 words or RFC 2231
//     parameters (continuations, and values encoded in UTF-8 or US-ASCII)
//     ([Decoder.Body]);
//   - single fields: Message-ID (RFC 5322 section 3.6.4, [ParseMsgID]), Date
//     (RFC 5322 section 3.3, leniently, [ParseDate]), List-Id (RFC 2919,
//     [ParseListID]) and spam scores ([SpamScore]).
//
// Decoding never fails: malformed or truncated mail yields what could be
// read, and text in an unknown charset is kept when it is valid UTF-8 and
// otherwise read as Windows-1252.
package message
