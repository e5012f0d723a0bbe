// Package sieve parses, checks and interprets Sieve mail filtering scripts
// (RFC 5228), so that a script written for delivery-time filtering can
// decide what mailrules does with messages in an IMAP mailbox.
//
// [Parse] reads a script into commands; [Compile] and [CompileFile] check
// it (every problem at once, as diag.Problems with FILE:LINE:COL) and
// resolve includes; [Script.Run] executes it over one message without I/O
// and returns its [Outcome] in Sieve's terms (keep, fileinto, discard, with
// IMAP flags), following Pigeonhole's semantics; [Script.Decide] maps that
// onto a message that already sits in a mailbox ([InPlace]) and makes a
// *Script a rules.Script, which the rules layer evaluates like any rule.
//
// Supported, with the capability string require takes:
//
//   - RFC 5228: the base language; comparators i;octet and
//     i;ascii-casemap; "fileinto"; "envelope" (answered from Return-Path,
//     Delivered-To and X-Original-To); "encoded-character" (section 2.4.2.4)
//   - RFC 3894: "copy" (fileinto :copy)
//   - RFC 5490: "mailbox" (fileinto :create; mailboxexists, answered by
//     rules.Message.MailboxExists)
//   - RFC 5232: "imap4flags"
//   - RFC 5229: "variables"
//   - draft-ietf-sieve-regex: "regex"
//   - RFC 5231: "relational"; RFC 4790 section 9.1: "comparator-i;ascii-numeric"
//   - RFC 5235: "spamtest", "spamtestplus"
//   - RFC 5260: "date", "index"
//   - RFC 5173: "body"
//   - RFC 6609: "include"
//
// Actions that send mail (redirect; "reject", "ereject" of RFC 5429;
// "vacation" of RFC 5230; "enotify" of RFC 5435) compile with a warning
// and are not carried out: the implicit keep stays.
package sieve
