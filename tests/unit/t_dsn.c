/*
 * t_dsn.c - bounce (DSN) parser tests: the sample bounces in
 * $top_srcdir/tests/dsn/, text-only variants of each dialect built
 * here, hostile inputs (empty, no newline, NUL bytes, a 200 KB line,
 * too many recipients, broken MIME), a small mutation fuzz run, and
 * dsn_stage_from_text() on the phrases MTAs use.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "log.h"
#include "record.h"
#include "tap.h"

/* What item idx of a parse must hold; NULL strings must be NULL. */
struct want {
	size_t		 nitems;
	size_t		 idx;
	const char	*reporting;
	const char	*rcpt;
	const char	*action;
	const char	*status;
	const char	*mta;
	const char	*reply;		/* prefix of the reply */
	int		 code;
	int		 stage;
};

struct fcase {
	const char	*file;
	struct want	 w;
};

struct tcase {
	const char	*name;
	const char	*text;
	struct want	 w;
};

static const struct fcase files[] = {
	{ "postfix-rcpt-unknown", { 1, 0, "mail.example.com",
	    "nosuchuser@example.net", "failed", "5.1.1", "mx.example.net",
	    "550 5.1.1 <nosuchuser@example.net>: Recipient address rejected: "
	    "User unknown in virtual mailbox table", 550, STAGE_RCPT } },
	{ "postfix-eod-spam", { 1, 0, "mail.example.com",
	    "carol@example.org", "failed", "5.7.1", "mx1.example.org",
	    "554 5.7.1 Message rejected as spam (score 12.4) - see "
	    "https://www.example.org/spam-policy", 554, STAGE_EOD } },
	{ "postfix-greeting", { 1, 0, "mail.example.com",
	    "frank@example.org", "failed", "5.7.1", "mx.example.org",
	    "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked "
	    "using zen.spamhaus.org;", 554, STAGE_BANNER } },
	{ "exim-rcpt", { 1, 0, NULL, "heidi@example.net", NULL, "5.1.1",
	    "mx.example.net", "550 5.1.1 <heidi@example.net>... User unknown",
	    550, STAGE_RCPT } },
	{ "exim-mail-from", { 1, 0, NULL, "mallory@example.org", NULL,
	    "5.7.1", "mx2.example.org", "550 5.7.1 <judy@example.com>: Sender "
	    "address rejected: Access denied", 550, STAGE_MAIL } },
	{ "gmail", { 1, 0, "googlemail.com", "nosuchuser@example.net",
	    "failed", "5.1.1", "mx.example.net", "550 5.1.1 "
	    "<nosuchuser@example.net>: Recipient address rejected: User "
	    "unknown in virtual mailbox table", 550, -1 } },
	{ "exchange", { 1, 0, "AM9PR01MB7788.eurprd01.prod.exchangelabs.com",
	    "liam@example.org", "failed", "5.7.606", NULL,
	    "550 5.7.606 Access denied, banned sending IP [198.51.100.7]",
	    550, -1 } },
	{ "sendmail", { 1, 0, "relay.example.com", "olivia@example.net",
	    "failed", "5.1.1", "mx.example.net",
	    "550 5.1.1 <olivia@example.net>... User unknown", 550,
	    STAGE_RCPT } },
	{ "multi-recipient", { 2, 0, "mail.example.com", "quinn@example.net",
	    "failed", "5.1.1", "mx.example.net", "550 5.1.1 "
	    "<quinn@example.net>: Recipient address rejected: User unknown in "
	    "local recipient table", 550, STAGE_RCPT } },
	{ "multi-recipient", { 2, 1, "mail.example.com", "trent@example.org",
	    "delayed", "4.2.2", "mx.example.org",
	    "452 4.2.2 <trent@example.org>: Mailbox full", 452, STAGE_EOD } },
};

/* bounces without an SMTP reply: what they say must still be read */
static const char prose_bounce[] =
    "Subject: Undeliverable\nContent-Type: text/plain\n\n"
    "This Message was undeliverable due to the following reason:\n\n"
    "Your message was not delivered because the destination computer was\n"
    "not reachable within the allowed queue period.\n\n"
    "The following recipients did not receive your message:\n\n"
    "     <x@example.org>\n\n"
    "---- Original message follows ----\nReceived: from a by b\n";
static const char junk_bounce[] =
    "Subject: failure notice\nContent-Type: text/plain\n\n"
    "Failed to deliver to '<y@example.org>'\n"
    "Messages without To: fields are not accepted here\n";
static const char html_bounce[] =
    "Subject: failure notice\nContent-Type: multipart/mixed; boundary=B\n\n"
    "--B\nContent-Type: text/html\n\n"
    "<p>z@example.org</p><p><b>No such user</b></p>\n"
    "--B\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Final-Recipient: rfc822; z@example.org\nAction: failed\n"
    "Status: 5.0.0\n--B--\n";
static const char lost_bounce[] =
    "Content-Type: text/plain\n\nI'm sorry to have to inform you that your "
    "message could not\nbe delivered to one or more recipients.\n\n"
    "<a@example.net>: lost connection with mx.example.net[192.0.2.1]\n"
    "    while receiving the initial server greeting\n";
static const char exim_local[] =
    "Content-Type: text/plain\n\nA message that you sent could not be "
    "delivered to one or more of its\nrecipients. This is a permanent "
    "error. The following address(es) failed:\n\n  u1@example.org\n"
    "    host mx.example.org [192.0.2.7]\n    SMTP error from remote mail "
    "server after RCPT TO:<u1@example.org>:\n    550 5.1.1 no such user\n"
    "\n  u2@example.net\n    Unrouteable address\n";
static const char mislabelled[] =
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"B\"\n\n--B\nContent-Type: message/delivery-status;\n\n"
    "This Message was undeliverable due to the following reason:\n\n"
    "<m@example.net> has restricted SMS e-mail\n\n--B\n"
    "Content-Type: message/delivery-status\n\nReporting-MTA: dns; "
    "mta.example.net\n\nFinal-Recipient: RFC822; <m@example.net>\n"
    "Action: failed\nStatus: 5.3.0\n\n--B--\n";
static const char forwarded[] =
    "Content-Type: multipart/mixed; boundary=\"O\"\n\n--O\n"
    "Content-Type: message/rfc822\n\nFrom: postmaster@example.net\n"
    "Subject: Delivery Status Notification (Failure)\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"I\"\n\n--I\nContent-Type: text/plain\n\n"
    "Delivery to the following recipients failed.\n\n"
    "       f@example.org\n\n--I\nContent-Type: message/delivery-status\n"
    "\nReporting-MTA: dns;mx.example.net\n\n"
    "Final-Recipient: rfc822;f@example.org\nAction: failed\n"
    "Status: 5.1.1\n\n--I--\n\n--O\nContent-Type: text/plain\n\n"
    "This e-mail is confidential and may contain attachments.\n--O--\n";
static const char notreach_bounce[] =
    "Subject: Undeliverable\nContent-Type: text/plain\n\n"
    "Your message\n  To:      user9@example.com\n"
    "  Subject: a virus warning\n\n"
    "did not reach the following recipient(s):\n\n"
    "user9@example.com on Fri, 20 Jul 2001 11:08:59 -0700\n"
    "    The recipient name is not recognized\n"
    "\tThe MTS-ID of the original message is: c=us;a= ;p=x\n";

static const struct tcase texts[] = {
	{ "postfix text only, folded (in reply to ...)",
	    "<a@example.net>: host mx.example.net[192.0.2.1] said: 550-5.1.1\n"
	    "    first line 550-5.1.1 second line 550 5.1.1 last line (in\n"
	    "    reply to RCPT TO command)\n",
	    { 1, 0, NULL, "a@example.net", NULL, "5.1.1", "mx.example.net",
	    "550 5.1.1 first line second line last line", 550,
	    STAGE_RCPT } },
	{ "postfix MAIL FROM",
	    "<a@example.net>: host mx.example.net[192.0.2.1] said: 553 5.1.8\n"
	    "    <s@example.com>: Sender address rejected: Domain not found "
	    "(in reply to\n    MAIL FROM command)\n",
	    { 1, 0, NULL, "a@example.net", NULL, "5.1.8", "mx.example.net",
	    "553 5.1.8 <s@example.com>: Sender address rejected", 553,
	    STAGE_MAIL } },
	{ "postfix EHLO",
	    "<a@example.net>: host mx.example.net[192.0.2.1] said: 504 5.5.2\n"
	    "    <localhost>: Helo command rejected: need fully-qualified "
	    "hostname (in\n    reply to EHLO command)\n",
	    { 1, 0, NULL, "a@example.net", NULL, "5.5.2", "mx.example.net",
	    "504 5.5.2 <localhost>: Helo command rejected", 504,
	    STAGE_EHLO } },
	{ "postfix lost connection, no reply",
	    "<a@example.net>: lost connection with mx.example.net[192.0.2.1]\n"
	    "    while sending RCPT TO\n",
	    { 1, 0, NULL, "a@example.net", NULL, NULL, "mx.example.net",
	    NULL, 0, STAGE_RCPT } },
	{ "exim reply on the SMTP error line",
	    "The following address(es) failed:\n\n  b@example.org\n"
	    "    SMTP error from remote mail server after RCPT TO:"
	    "<b@example.org>: host mx.example.org [198.51.100.2]: 550 5.1.1 "
	    "<b@example.org>: User unknown\n",
	    { 1, 0, NULL, "b@example.org", NULL, "5.1.1", "mx.example.org",
	    "550 5.1.1 <b@example.org>: User unknown", 550, STAGE_RCPT } },
	{ "exim after initial connection, multi-line reply",
	    "  b@example.org\n    host mx.example.org [198.51.100.2]\n"
	    "    SMTP error from remote mail server after initial connection:\n"
	    "    554-5.7.1 Access denied\n    554 5.7.1 see "
	    "https://www.example.org/bl\n",
	    { 1, 0, NULL, "b@example.org", NULL, "5.7.1", "mx.example.org",
	    "554 5.7.1 Access denied see https://www.example.org/bl", 554,
	    STAGE_BANNER } },
	{ "exim after pipelined end of data",
	    "  b@example.org\n    SMTP error from remote mail server after "
	    "pipelined end of data:\n    451 4.7.1 Try again later\n",
	    { 1, 0, NULL, "b@example.org", NULL, "4.7.1", NULL,
	    "451 4.7.1 Try again later", 451, STAGE_EOD } },
	{ "old gmail, multi-line reply with prefixes",
	    "Delivery to the following recipient failed permanently:\n\n"
	    "     c@example.net\n\nTechnical details of permanent failure:\n"
	    "Google tried to deliver your message, but it was rejected by the "
	    "server for the recipient domain example.net by mx.example.net. "
	    "[192.0.2.25].\n\nThe error that the other server returned was:\n"
	    "550-5.1.1 The email account that you tried to reach does not "
	    "exist. Please try\n550-5.1.1 double-checking the recipient's "
	    "email address for typos or\n550-5.1.1 unnecessary spaces. Learn "
	    "more at\n550 5.1.1  https://support.example.com/x a1si1 - gsmtp\n",
	    { 1, 0, NULL, "c@example.net", NULL, "5.1.1", "mx.example.net",
	    "550 5.1.1 The email account that you tried to reach does not "
	    "exist. Please try double-checking the recipient's email address "
	    "for typos or unnecessary spaces. Learn more at "
	    "https://support.example.com/x a1si1 - gsmtp", 550, -1 } },
	{ "exchange text only",
	    "Diagnostic information for administrators:\n\n"
	    "Generating server: mail.example.com\n\nd@example.org\n"
	    "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; "
	    "not found'\n\nOriginal message headers:\n\n"
	    "Subject: Remote Server returned '421 not me'\n",
	    { 1, 0, NULL, "d@example.org", NULL, "5.1.1", NULL,
	    "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", 550, -1 } },
	{ "exchange 2010 #code ##",
	    "Generating server: mail.example.com\r\n\r\nd@example.org\r\n"
	    "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\r\n",
	    { 1, 0, NULL, "d@example.org", NULL, "5.1.1", NULL,
	    "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", 550, -1 } },
	{ "sendmail greeting",
	    "   ----- Transcript of session follows -----\n"
	    "... while talking to mx.example.net.:\n"
	    "<<< 554 5.7.1 mx.example.net ESMTP not accepting messages\n"
	    "554 5.0.0 Service unavailable\n",
	    { 1, 0, NULL, NULL, NULL, "5.7.1", "mx.example.net",
	    "554 5.7.1 mx.example.net ESMTP not accepting messages", 554,
	    STAGE_BANNER } },
	{ "sendmail end of data",
	    "... while talking to mx.example.net.:\n>>> DATA\n"
	    "<<< 354 Enter mail, end with \".\" on a line by itself\n>>> .\n"
	    "<<< 554-5.7.1 Message rejected\n<<< 554 5.7.1 policy\n",
	    { 1, 0, NULL, NULL, NULL, "5.7.1", "mx.example.net",
	    "554 5.7.1 Message rejected policy", 554, STAGE_EOD } },
	{ "sendmail pipelined: RCPT refused",
	    "... while talking to mx.example.net.:\n"
	    ">>> MAIL From:<s@example.com> SIZE=100\n"
	    ">>> RCPT To:<e@example.net>\n>>> RCPT To:<f@example.net>\n"
	    ">>> DATA\n<<< 250 2.1.0 Sender ok\n"
	    "<<< 550 5.1.1 <e@example.net>... User unknown\n"
	    "<<< 250 2.1.5 Recipient ok\n<<< 354 go ahead\n>>> .\n"
	    "<<< 554 5.7.1 rejected as spam\n",
	    { 2, 0, NULL, "e@example.net", NULL, "5.1.1", "mx.example.net",
	    "550 5.1.1 <e@example.net>... User unknown", 550, STAGE_RCPT } },
	{ "sendmail pipelined: end of data kept apart",
	    "... while talking to mx.example.net.:\n"
	    ">>> MAIL From:<s@example.com> SIZE=100\n"
	    ">>> RCPT To:<e@example.net>\n>>> RCPT To:<f@example.net>\n"
	    ">>> DATA\n<<< 250 2.1.0 Sender ok\n"
	    "<<< 550 5.1.1 <e@example.net>... User unknown\n"
	    "<<< 250 2.1.5 Recipient ok\n<<< 354 go ahead\n>>> .\n"
	    "<<< 554 5.7.1 rejected as spam\n",
	    { 2, 1, NULL, NULL, NULL, "5.7.1", "mx.example.net",
	    "554 5.7.1 rejected as spam", 554, STAGE_EOD } },
	{ "qmail",
	    "Hi. This is the qmail-send program at mail.example.com.\n"
	    "I'm afraid I wasn't able to deliver your message to the "
	    "following addresses.\n\n<g@example.net>:\n"
	    "192.0.2.25 does not like recipient.\n"
	    "Remote host said: 550 5.1.1 <g@example.net>: User unknown\n"
	    "Giving up on 192.0.2.25.\n\n"
	    "--- Below this line is a copy of the message.\n\n"
	    "<h@example.net>: host x.example.net[192.0.2.9] said: 550 no\n",
	    { 1, 0, NULL, "g@example.net", NULL, "5.1.1", NULL,
	    "550 5.1.1 <g@example.net>: User unknown", 550, STAGE_RCPT } },
	{ "bare delivery-status fields, no MIME, no text",
	    "Reporting-MTA: dns; mta.example.com\n\n"
	    "Final-Recipient: rfc822; <i@example.org>\nAction: Failed\n"
	    "Status: 5.2.2 (mailbox full)\nRemote-MTA: dns; [192.0.2.3]\n"
	    "Diagnostic-Code: X-Unix; mailbox is full\n",
	    { 1, 0, "mta.example.com", "i@example.org", "failed", "5.2.2",
	    "[192.0.2.3]", NULL, 0, -1 } },
	{ "folded Diagnostic-Code over 3 lines",
	    "Content-Type: multipart/report; boundary=XX\n\n--XX\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822;j@example.net\nAction: failed\n"
	    "Status: 5.1.1\n"
	    "Diagnostic-Code: smtp; 550-5.1.1 The email account that you\n"
	    "    tried to reach does not exist.\n"
	    "\t550 5.1.1 Please check the address.\n--XX--\n",
	    { 1, 0, NULL, "j@example.net", "failed", "5.1.1", NULL,
	    "550 5.1.1 The email account that you tried to reach does not "
	    "exist. Please check the address.", 550, -1 } },
	{ "unterminated boundary",
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    " boundary=\"B1\"\n\n--B1\nContent-Type: text/plain\n\n"
	    "<k@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1 "
	    "no (in reply to RCPT TO command)\n--B1\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822; k@example.net\nStatus: 5.1.1\n",
	    { 1, 0, NULL, "k@example.net", NULL, "5.1.1", "mx.example.net",
	    "550 5.1.1 no", 550, STAGE_RCPT } },
	{ "wrong boundary: fields found by scanning",
	    "Content-Type: multipart/report; boundary=\"nope\"\n\n--B1\n"
	    "Content-Type: text/plain\n\n"
	    "<k@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1 "
	    "no (in reply to RCPT TO command)\n\n--B1\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mta.example.com\n\n"
	    "Final-Recipient: rfc822; k@example.net\nStatus: 5.1.1\n--B1--\n",
	    { 1, 0, "mta.example.com", "k@example.net", NULL, "5.1.1",
	    "mx.example.net", "550 5.1.1 no", 550, STAGE_RCPT } },
	{ "quoted-printable soft breaks and =XX",
	    "Content-Type: text/plain\nContent-Transfer-Encoding: "
	    "quoted-printable\n\n<l@example.net>: host mx.example.net[192.0.=\n"
	    "2.1] said: 550 5.1.1 user=3Dl unknown (in reply to RC=\r\n"
	    "PT TO command)\n",
	    { 1, 0, NULL, "l@example.net", NULL, "5.1.1", "mx.example.net",
	    "550 5.1.1 user=l unknown", 550, STAGE_RCPT } },
	{ "no newline at all",
	    "Final-Recipient: rfc822; m@example.net",
	    { 1, 0, NULL, "m@example.net", NULL, NULL, NULL, NULL, 0, -1 } },
	{ "qmail local delivery: the reason under <addr>:",
	    "Hi. This is the qmail-send program at mx.example.org.\n"
	    "I'm afraid I wasn't able to deliver your message to the "
	    "following addresses.\n\n<n@example.org>:\n"
	    "The e-mail message could not be delivered because the user's "
	    "mailfolder is full.\n\n--- Below this line is a copy of the "
	    "message.\n",
	    { 1, 0, NULL, "n@example.org", NULL, NULL, NULL,
	    "The e-mail message could not be delivered because the user's "
	    "mailfolder is full.", 0, -1 } },
	{ "loose text: address and reason on one line",
	    "The message that you sent was undeliverable to the following:\n"
	    "\to@example.net (user not found)\n\nPossible reasons include:\n",
	    { 1, 0, NULL, "o@example.net", NULL, NULL, NULL,
	    "(user not found)", 0, -1 } },
	{ "loose text: reason on the lines under the address",
	    "Your message\n  To:      p@example.com\n  Subject: hi\n"
	    "did not reach the following recipient(s):\n\n"
	    "q@example.org on Fri, 4 Oct 2002 17:12:28 -0400\n"
	    "    The recipient name is not recognized\n",
	    { 1, 0, NULL, "q@example.org", NULL, NULL, NULL,
	    "The recipient name is not recognized", 0, -1 } },
	{ "transcript without >>> and <<< (MDaemon)",
	    "The following addresses did NOT receive a copy of your message:\n"
	    "> r@example.net\n\n--- Session Transcript ---\n"
	    " MAIL From:<s@example.com> SIZE=1861\n 250 <s@example.com>, "
	    "Sender ok\n RCPT To:<r@example.net>\n"
	    " 552-Message for <r@example.net>\n 552 would exceed mailbox "
	    "quota\n QUIT\n--- End Transcript ---\n",
	    { 1, 0, NULL, "r@example.net", NULL, NULL, NULL,
	    "552 Message for <r@example.net> would exceed mailbox quota", 552,
	    STAGE_RCPT } },
	{ "loose text: the sentence runs on to the next line",
	    "A message that you sent could not be delivered.\n\n"
	    "The following message, addressed to s@example.org',\n"
	    "failed because it has not been collected after 30 days\n\n"
	    "---- START OF RETURNED MESSAGE ----\n"
	    "To: t@example.org\nSubject: list digest\n",
	    { 1, 0, NULL, "s@example.org", NULL, NULL, NULL,
	    "The following message, addressed to failed because it has not "
	    "been collected", 0, -1 } },
	{ "Smail: returned message after \"|--- Message text follows\"",
	    "|------------------------- Message log follows: ----|\n"
	    " no valid recipients were found for this message\n"
	    "|------------------------- Failed addresses follow: ----|\n"
	    " u@starbase.example.org ... unknown host\n"
	    "|------------------------- Message text follows: ----|\n"
	    "Received: from mx by a.example.com\n"
	    "To: v@example.net (Someone)\n\n"
	    "Please write to z@example.com about the meeting dates\n",
	    { 1, 0, NULL, "u@starbase.example.org", NULL, NULL, NULL,
	    "... unknown host", 0, -1 } },
	{ "Office 365: the reply after \"Error:\"",
	    "Your message to z@example.com couldn't be delivered.\n\n"
	    "Original Message Details\nRecipient Address:      z@example.com\n"
	    "Error Details\nError:  550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
	    "Recipient not found by SMTP address lookup\n",
	    { 1, 0, NULL, "z@example.com", NULL, "5.1.10", NULL,
	    "550 5.1.10 RESOLVER.ADR.RecipientNotFound", 550, -1 } },
	{ "a quoted reply on the line after its label",
	    "The following message to <y@example.org> was undeliverable.\n"
	    "The reason for the problem:\n5.1.0 - Unknown address error "
	    "550-'5.4.1 Recipient address rejected: Access denied.'\n",
	    { 1, 0, NULL, "y@example.org", NULL, "5.4.1", NULL,
	    "550 5.4.1 Recipient address rejected: Access denied.", 550,
	    -1 } },
	{ "Sendmail transcript without <<<: the mailer's own reply line",
	    "   ----- The following addresses had permanent fatal errors "
	    "-----\n<x@example.com>\n\n   ----- Transcript of session "
	    "follows -----\n554 5.4.6 Too many hops 26 (25 max): from "
	    "w@example.net\n\n   ----- Message header follows -----\n"
	    "From: w@example.net\n",
	    { 1, 0, NULL, "x@example.com", NULL, "5.4.6", NULL,
	    "554 5.4.6 Too many hops", 554, -1 } },
	{ "\"Original message follows.\" ends the text",
	    "Delivery failed 20 attempts: w@example.org\n"
	    "Original message follows.\n"
	    "Received: from m3.example.net (m2.example.net [192.0.2.12])\n"
	    "\tby ibis.example.net for <x@example.com>\n"
	    "Cc: y@example.net\n",
	    { 1, 0, NULL, "w@example.org", NULL, NULL, NULL, NULL, 0, -1 } },
};

static const char logs[] =
    "Dec  3 10:15:01 mail postfix/smtp[1]: 4Q7x1: to=<a@example.net>, "
    "relay=mx.example.net[192.0.2.25]:25, delay=1, dsn=5.1.1, "
    "status=bounced (host mx.example.net[192.0.2.25] said: 550 5.1.1 "
    "<a@example.net>: User unknown (in reply to RCPT TO command))\n"
    "Dec  3 10:15:03 mail postfix/smtp[2]: 4Q7x2: to=<b@example.org>, "
    "relay=none, delay=30, dsn=4.4.1, status=deferred (connect to "
    "mx.example.org[198.51.100.7]:25: Connection timed out)\n"
    "Dec  3 10:15:04 mail postfix/smtp[3]: 4Q7x3: to=<c@example.com>, "
    "relay=mx.example.com[203.0.113.9]:25, dsn=2.0.0, status=sent (250 "
    "2.0.0 Ok)\n"
    "2026-12-03 10:20:01 1tQxYz-000ABC-12 ** d@example.org R=dnslookup "
    "T=remote_smtp H=mx.example.org [198.51.100.7]: SMTP error from "
    "remote mail server after RCPT TO:<d@example.org>: 550 5.1.1 no\n";

static const struct {
	const char	*name;
	const char	*text;
	int		 kind;
} kinds[] = {
	{ "DSN", "Content-Type: multipart/report; report-type=delivery-status;"
	    " boundary=x\n\n--x\n", DSN_KIND_BOUNCE },
	{ "bounce by its Subject only", "From: someone@example.com\n"
	    "Subject: Undeliverable: hello\n\nsorry\n", DSN_KIND_BOUNCE },
	{ "bounce from MAILER-DAEMON", "From: MAILER-DAEMON@example.com\n"
	    "Subject: hello\n\nsorry\n", DSN_KIND_BOUNCE },
	{ "Postfix body alone, marker folded over two lines",
	    "This is the mail system at host mx.example.org.\n\n"
	    "I'm sorry to have to inform you that your message could not\n"
	    "be delivered to one or more recipients.\n", DSN_KIND_BOUNCE },
	{ "no marker split by a paragraph", "From: a@example.com\n"
	    "Subject: hi\n\nWe could not\n\n\nagree; it will be delivered "
	    "later.\n", DSN_KIND_NONE },
	{ "Microsoft JMRP complaint", "From: staff@hotmail.com\n"
	    "Subject: complaint about message from 192.0.2.7\n"
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n",
	    DSN_KIND_ARF },
	{ "RFC 3834 auto-reply", "From: a@example.com\nSubject: Re: hi\n"
	    "Auto-Submitted: auto-replied\n\nI am away until Monday.\n",
	    DSN_KIND_AUTOREPLY },
	{ "out-of-office by Subject", "From: a@example.com\n"
	    "Subject: Out of Office: hi\n\nI am away.\n", DSN_KIND_AUTOREPLY },
	{ "bounce that is Auto-Submitted too", "Subject: Undelivered Mail "
	    "Returned to Sender\nAuto-Submitted: auto-replied\n\n"
	    "<a@example.net>: host x[192.0.2.1] said: 550 no (in reply to "
	    "RCPT TO command)\n", DSN_KIND_BOUNCE },
	{ "RFC 5965 feedback report", "Content-Type: multipart/report; "
	    "report-type=feedback-report; boundary=y\n\n--y\n"
	    "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\n",
	    DSN_KIND_ARF },
	{ "Auto-Submitted: no is not an auto-reply",
	    "Subject: hello\nAuto-Submitted: no\n\nhi\n", DSN_KIND_NONE },
	{ "ordinary mail", "From: a@example.com\nSubject: lunch\n\n"
	    "see you at noon\n", DSN_KIND_NONE },
	{ "an empty X-Autoreply: says nothing",
	    "From: a@example.com\nX-Autoreply:\nSubject: your letter\n\n"
	    "we answered on time\n", DSN_KIND_NONE },
	{ "X-Autoreply: yes is an auto-reply",
	    "From: a@example.com\nX-Autoreply: yes\nSubject: hello\n\n"
	    "I am away\n", DSN_KIND_AUTOREPLY },
	{ "a German Exchange bounce by its Subject", "From: a@example.com\n"
	    "Subject: Unzustellbar: Angebot\n\nbitte\n", DSN_KIND_BOUNCE },
	{ "a French bounce body", "From: a@example.com\nSubject: Re: x\n\n"
	    "Votre message n'a pas pu etre remis a b@example.net.\n",
	    DSN_KIND_BOUNCE },
	{ "a challenge-response notice", "From: a@example.com\n"
	    "Subject: RE: hello\n\nPlease click on the following link to "
	    "have your address added to the recipient's allowed list.\n",
	    DSN_KIND_BOUNCE },
	{ "JMRP report sent as the reported message itself",
	    "Received: from x by y\nX-HmXmrOriginalRecipient: r@hotmail.com\n"
	    "From: list@example.com\nSubject: offers\n\nbuy\n",
	    DSN_KIND_ARF },
};

/* dsn_is_message: a header block, at the top or forwarded, or not */
static const struct {
	const char	*name;
	const char	*text;
	int		 is;
} msgs[] = {
	{ "headers at the top", "From: a@example.com\nTo: b@example.net\n"
	    "Subject: hi\n\nhello\n", 1 },
	{ "a forwarded message after a log", "----\nunsubscribed? 1\n\n"
	    "Received: from x\nFrom: a@example.com\nDate: Mon, 1 Jan 2024"
	    "\n\nnews\n", 1 },
	{ "a multi-line reply", "550-5.7.1 From: is forged\n550 5.7.1 "
	    "Subject: and To: too\n", 0 },
	{ "two fields without From:", "Subject: x\nTo: b@example.net\n"
	    "Date: now\n\nhi\n", 0 },
	{ "one line", "mailbox is full", 0 },
};

static const struct {
	const char	*text;
	int		 stage;
} phrases[] = {
	{ "(in reply to MAIL FROM command)", STAGE_MAIL },
	{ "(in reply to RCPT TO command)", STAGE_RCPT },
	{ "(in reply to DATA command)", STAGE_DATA },
	{ "(in reply to end of DATA command)", STAGE_EOD },
	{ "(in reply to HELO command)", STAGE_EHLO },
	{ "(in reply to EHLO command)", STAGE_EHLO },
	{ "(in reply to STARTTLS command)", STAGE_STARTTLS },
	{ "(in reply to AUTH command)", STAGE_AUTH },
	{ "(in reply to initial protocol greeting)", STAGE_BANNER },
	{ "host mx[192.0.2.1] refused to talk to me: 554 go away",
	    STAGE_BANNER },
	{ "SMTP error from remote mail server after MAIL FROM:<a@b> SIZE=1:",
	    STAGE_MAIL },
	{ "SMTP error from remote mail server after RCPT TO:<a@b>:",
	    STAGE_RCPT },
	{ "SMTP error from remote mail server after end of data:", STAGE_EOD },
	{ "SMTP error from remote mail server after DATA:", STAGE_DATA },
	{ "SMTP error from remote mail server after initial connection:",
	    STAGE_BANNER },
	{ "SMTP error from remote mail server after EHLO mail.example.com:",
	    STAGE_EHLO },
	{ "SMTP error from remote mail server after HELO mail.example.com:",
	    STAGE_EHLO },
	{ "SMTP error from remote mail server after pipelined RCPT TO:<a@b>:",
	    STAGE_RCPT },
	{ "SMTP error from remote mail server after pipelined MAIL FROM:<>:",
	    STAGE_MAIL },
	{ "SMTP error from remote mail server after pipelined end of data:",
	    STAGE_EOD },
	{ "SMTP error from remote mail server after STARTTLS:",
	    STAGE_STARTTLS },
	{ "SMTP error from remote mail server after AUTH PLAIN:", STAGE_AUTH },
	{ ">>> RCPT To:<a@b>", STAGE_RCPT },
	{ ">>> MAIL From:<a@b> SIZE=10", STAGE_MAIL },
	{ ">>> DATA", STAGE_DATA },
	{ ">>> .", STAGE_EOD },
	{ "lost connection with mx[192.0.2.1] while sending end of data -- "
	    "message may be sent more than once", STAGE_EOD },
	{ "conversation with mx timed out while receiving the initial "
	    "server greeting", STAGE_BANNER },
	{ "IN REPLY TO rcpt to COMMAND", STAGE_RCPT },
	{ "Mail delivery failed after 5 days", -1 },
	{ "550 5.7.1 Authentication required", -1 },
	{ "The response from the remote server was:", -1 },
	{ "Remote Server returned '550 5.1.1 not found'", -1 },
	{ "after DATABASE maintenance", -1 },
	{ "", -1 },
};

static int	 seq(const char *, const char *);
static int	 check_want(const struct dsn *, const struct want *,
		    const char *);
static int	 printable(const char *);
static int	 sane(const struct dsn *);
static char	*slurp(const char *, size_t *);
static unsigned int rnd(void);
static void	 fuzz(const char *, size_t);

static unsigned int	 rnd_state = 2463534242u;

/* seq - equal strings, or both NULL */
static int
seq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* check_want - one ok() per field of w; returns 1 if all held */
static int
check_want(const struct dsn *d, const struct want *w, const char *name)
{
	const struct dsn_item	*it;
	int			 good = 1;

	good &= ok(d->nitems == w->nitems, "%s: %zu items (got %zu)", name,
	    w->nitems, d->nitems);
	good &= ok(seq(d->reporting_mta, w->reporting),
	    "%s: reporting-mta %s (got %s)", name,
	    w->reporting ? w->reporting : "NULL",
	    d->reporting_mta ? d->reporting_mta : "NULL");
	if (w->idx >= d->nitems)
		return ok(0, "%s: item %zu missing", name, w->idx);
	it = &d->items[w->idx];
	good &= ok(seq(it->recipient, w->rcpt), "%s[%zu]: recipient %s "
	    "(got %s)", name, w->idx, w->rcpt ? w->rcpt : "NULL",
	    it->recipient ? it->recipient : "NULL");
	good &= ok(seq(it->action, w->action), "%s[%zu]: action %s (got %s)",
	    name, w->idx, w->action ? w->action : "NULL",
	    it->action ? it->action : "NULL");
	good &= ok(seq(it->status, w->status), "%s[%zu]: status %s (got %s)",
	    name, w->idx, w->status ? w->status : "NULL",
	    it->status ? it->status : "NULL");
	good &= ok(seq(it->remote_mta, w->mta), "%s[%zu]: remote-mta %s "
	    "(got %s)", name, w->idx, w->mta ? w->mta : "NULL",
	    it->remote_mta ? it->remote_mta : "NULL");
	good &= ok(w->reply == NULL ? it->reply == NULL : it->reply != NULL &&
	    strncmp(it->reply, w->reply, strlen(w->reply)) == 0,
	    "%s[%zu]: reply \"%s\" (got \"%s\")", name, w->idx,
	    w->reply ? w->reply : "NULL", it->reply ? it->reply : "NULL");
	good &= ok(it->code == w->code, "%s[%zu]: code %d (got %d)", name,
	    w->idx, w->code, it->code);
	good &= ok(it->stage == w->stage, "%s[%zu]: stage %d (got %d)", name,
	    w->idx, w->stage, it->stage);
	return good;
}

/* printable - NULL or no C0 control or DEL (util_escape() output) */
static int
printable(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* sane - every invariant dsn.h promises about a result */
static int
sane(const struct dsn *d)
{
	const struct dsn_item	*it;
	size_t			 i;

	if (d == NULL || d->nitems > DSN_MAX_ITEMS ||
	    (d->nitems > 0 && d->items == NULL) ||
	    !printable(d->reporting_mta))
		return 0;
	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!printable(it->recipient) || !printable(it->action) ||
		    !printable(it->status) || !printable(it->remote_mta) ||
		    !printable(it->reply))
			return 0;
		if (it->stage < -1 || it->stage >= STAGE__COUNT)
			return 0;
		if (it->code != 0 && (it->code < 200 || it->code > 559))
			return 0;
		if ((it->reply == NULL && it->code != 0) ||
		    (it->status != NULL && strlen(it->status) > 15))
			return 0;
	}
	return 1;
}

/* slurp - whole file, or NULL */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 cap = 0, n;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		if ((n = fread(buf + *len, 1, cap - *len, f)) == 0)
			break;
		*len += n;
	}
	fclose(f);
	return buf;
}

/* rnd - xorshift32, deterministic */
static unsigned int
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* fuzz - parse many mutations of buf; one ok() for the lot */
static void
fuzz(const char *buf, size_t len)
{
	static const char	 pool[] = "\0\r\n\t =<>:;-.@[]'\"\\\x80\xff"
	    "550 5.1.1 (in reply to RCPT TO command) said: --";
	struct dsn		*d;
	char			*m;
	size_t			 i, k, n, at;
	int			 bad = 0;

	m = xmalloc(len + 64);
	for (i = 0; i < 300; i++) {
		memcpy(m, buf, len);
		n = len;
		for (k = rnd() % 8 + 1; k > 0 && n > 0; k--) {
			at = rnd() % n;
			switch (rnd() % 4) {
			case 0:
				m[at] = pool[rnd() % (sizeof(pool) - 1)];
				break;
			case 1:
				m[at] = (char)rnd();
				break;
			case 2:
				n = at;		/* truncate */
				break;
			default:
				memmove(m + at, m + at + 1, n - at - 1);
				n--;
				break;
			}
		}
		d = dsn_parse(m, n);
		bad += !sane(d);
		dsn_free(d);
		k = (size_t)dsn_kind(m, n);
		bad += k > DSN_KIND_ARF;
		bad += dsn_is_message(m, n) > 1;
		if ((d = dsn_log_parse(m, n)) != NULL)
			bad += !sane(d);
		dsn_free(d);
	}
	free(m);
	ok(bad == 0, "fuzz: 300 mutations parsed, results sane (%d bad)", bad);
}

int
main(void)
{
	struct dsn	*d;
	const char	*top;
	char		 path[1024], *buf, *big;
	size_t		 i, len, n;
	int		 good;

	if ((top = getenv("top_srcdir")) == NULL || *top == '\0')
		top = ".";

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/tests/dsn/%s.eml", top,
		    files[i].file);
		if ((buf = slurp(path, &len)) == NULL) {
			ok(0, "read %s", path);
			continue;
		}
		d = dsn_parse(buf, len);
		check_want(d, &files[i].w, files[i].file);
		ok(sane(d), "%s: all strings printable", files[i].file);
		dsn_free(d);
		if (i == 0 || strcmp(files[i].file, files[i - 1].file) != 0)
			fuzz(buf, len);
		free(buf);
	}

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		d = dsn_parse(texts[i].text, strlen(texts[i].text));
		check_want(d, &texts[i].w, texts[i].name);
		ok(sane(d), "%s: all strings printable", texts[i].name);
		dsn_free(d);
	}

	/* no reply in the bounce: its own words are kept as the item's text */
	d = dsn_parse(prose_bounce, strlen(prose_bounce));
	ok(d->nitems == 1 && d->items[0].reply == NULL &&
	    d->items[0].text != NULL && strstr(d->items[0].text,
	    "not reachable within the allowed queue period") != NULL &&
	    strstr(d->items[0].text, "Received:") == NULL,
	    "no reply: the bounce's words up to the returned message");
	dsn_free(d);
	d = dsn_parse(junk_bounce, strlen(junk_bounce));
	ok(d->nitems == 1 && d->items[0].reply == NULL &&
	    d->items[0].text != NULL && strstr(d->items[0].text,
	    "Messages without To: fields") != NULL,
	    "a fragment (\"Failed to deliver to\") is no reply");
	dsn_free(d);
	d = dsn_parse(html_bounce, strlen(html_bounce));
	ok(d->nitems == 1 && d->items[0].reply == NULL &&
	    d->items[0].text != NULL &&
	    strstr(d->items[0].text, "No such user") != NULL &&
	    strchr(d->items[0].text, '<') == NULL,
	    "an HTML-only bounce: its words without the tags");
	dsn_free(d);
	/* the mailer's own error beats the bounce's preamble as the text */
	d = dsn_parse(lost_bounce, strlen(lost_bounce));
	ok(d->nitems == 1 && d->items[0].reply == NULL &&
	    d->items[0].text != NULL &&
	    strstr(d->items[0].text, "lost connection with") != NULL &&
	    strstr(d->items[0].text, "sorry") == NULL,
	    "no reply: the mailer's own error is the text");
	dsn_free(d);
	d = dsn_parse(exim_local, strlen(exim_local));
	ok(d->nitems == 2 && d->items[1].reply == NULL &&
	    seq(d->items[1].recipient, "u2@example.net") &&
	    seq(d->items[1].text, "Unrouteable address"),
	    "Exim's own error under the address is the item's text");
	dsn_free(d);
	d = dsn_parse(mislabelled, strlen(mislabelled));
	ok(d->nitems == 1 && seq(d->items[0].recipient, "m@example.net") &&
	    seq(d->items[0].status, "5.3.0") &&
	    seq(d->items[0].reply, "has restricted SMS e-mail"),
	    "prose in a part labelled message/delivery-status is read as text");
	dsn_free(d);
	d = dsn_parse(forwarded, strlen(forwarded));
	ok(d->nitems == 1 && seq(d->items[0].recipient, "f@example.org") &&
	    seq(d->items[0].status, "5.1.1") && d->items[0].text != NULL &&
	    strstr(d->items[0].text, "Delivery to the following") != NULL,
	    "a bounce forwarded whole: its report, not the disclaimer");
	dsn_free(d);
	d = dsn_parse(notreach_bounce, strlen(notreach_bounce));
	ok(d->nitems == 1 && seq(d->items[0].recipient, "user9@example.com") &&
	    seq(d->items[0].reply, "The recipient name is not recognized"),
	    "Exchange's \"did not reach the following recipient(s)\"");
	dsn_free(d);

	/* a non-SMTP Diagnostic-Code with words is the item's text, and
	   the text carries no mail address */
	{
		static const char cr[] = "Content-Type: multipart/report; "
		    "report-type=delivery-status; boundary=B\n\n--B\n"
		    "Content-Type: text/plain\n\nHello, I received your "
		    "message; you are on my Guest List at user7@example.com.\n"
		    "--B\nContent-Type: message/delivery-status\n\n"
		    "Reporting-MTA: dns; cr.example.com\n\n"
		    "Final-Recipient: rfc822; r@example.net\nAction: failed\n"
		    "Diagnostic-Code: X-Boxbe-Notice; Sender not pre-approved."
		    "  Follow instructions in <user8@example.org> notice\n"
		    "Status: 4.7.0\n--B--\n";
		static const char pr[] = "Subject: Delivery failure\n\n"
		    "Delivery failed 20 attempts: user9@example.org\n";

		d = dsn_parse(cr, sizeof(cr) - 1);
		ok(d->nitems == 1 && d->items[0].reply == NULL &&
		    seq(d->items[0].text, "Sender not pre-approved. Follow "
		    "instructions in notice"),
		    "a non-SMTP Diagnostic-Code's words are the text (got %s)",
		    d->nitems ? d->items[0].text : "-");
		dsn_free(d);
		static const char sm[] = "Subject: Returned mail: could not "
		    "connect\n\nThe original message was received at "
		    "today\n\n   ----- The following addresses had permanent "
		    "fatal errors -----\n<s@example.net>\n\n   ----- "
		    "Transcript of session follows -----\n554 could not "
		    "connect and send the mail to 192.0.2.12\n\n";

		d = dsn_parse(sm, sizeof(sm) - 1);
		ok(d->nitems == 1 && d->items[0].reply == NULL &&
		    seq(d->items[0].recipient, "s@example.net") &&
		    seq(d->items[0].text, "could not connect and send the "
		    "mail to 192.0.2.12"), "a transcript line that is the "
		    "mailer's own error is text, not a reply (got %s)",
		    d->nitems ? d->items[0].text : "-");
		dsn_free(d);
		static const char kh[] = "Final-Recipient: rfc822; k@example.net"
		    "\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp;host "
		    "example-net.mail.protection.outlook.com:25 says:\n 550 5.4.1 "
		    "Recipient address rejected: Access denied.\n";

		d = dsn_parse(kh, sizeof(kh) - 1);
		ok(d->nitems == 1 && d->items[0].code == 550 &&
		    seq(d->items[0].reply, "550 5.4.1 Recipient address "
		    "rejected: Access denied."), "Diagnostic-Code \"smtp;host H "
		    "says: 550 ...\": the reply after the host (got %s)",
		    d->nitems ? d->items[0].reply : "-");
		dsn_free(d);
		static const char lead[] = "  \t \n\nFrom: Mail Delivery "
		    "Subsystem <mailer-daemon@example.net>\nSubject: Delivery "
		    "Status Notification (Failure)\nContent-Type: text/plain\n"
		    "Content-Transfer-Encoding: quoted-printable\n\n"
		    "Delivery to the following recipient failed permanently:"
		    "\n\n     q@example.com\n\nThe error that the other "
		    "server return=\ned was: 550 No Such User Here=20\n";

		d = dsn_parse(lead, sizeof(lead) - 1);
		ok(d->nitems == 1 && seq(d->items[0].recipient,
		    "q@example.com") && seq(d->items[0].reply,
		    "550 No Such User Here"), "blank lines above the headers: "
		    "the header block is read, the body decoded (got %s)",
		    d->nitems ? d->items[0].reply : "-");
		dsn_free(d);
		d = dsn_parse(pr, sizeof(pr) - 1);
		ok(d->nitems == 1 && d->items[0].text != NULL &&
		    strchr(d->items[0].text, '@') == NULL &&
		    strstr(d->items[0].text, "Delivery failed 20 attempts") !=
		    NULL, "the bounce's own words without addresses (got %s)",
		    d->nitems ? d->items[0].text : "-");
		dsn_free(d);
	}

	/* MTA log lines: parsed, and their mutations are harmless */
	d = dsn_log_parse(logs, strlen(logs));
	ok(d != NULL && d->nitems == 3 && d->items[0].stage == STAGE_RCPT &&
	    seq(d->items[0].recipient, "a@example.net") &&
	    seq(d->items[1].action, "delayed") &&
	    d->items[1].stage == STAGE_CONNECT &&
	    seq(d->items[2].remote_mta, "mx.example.org") &&
	    d->items[2].code == 550, "dsn_log_parse: Postfix and Exim lines");
	dsn_free(d);
	{
		static const char exim_param[] = "2026-12-03 10:20:02 "
		    "1tQxYz-000ABD-34 == g@example.org R=dnslookup "
		    "T=remote_smtp defer (-44) H=mx.example.org "
		    "[198.51.100.7]: SMTP error from remote mail server "
		    "after MAIL FROM:<me@example.com> SIZE=1234: 451 4.7.1 "
		    "Please try again later\n";

		d = dsn_log_parse(exim_param, strlen(exim_param));
		ok(d != NULL && d->nitems == 1 && d->items[0].code == 451 &&
		    seq(d->items[0].reply, "451 4.7.1 Please try again later"),
		    "dsn_log_parse: Exim's reply after a command with "
		    "parameters (MAIL FROM:<a> SIZE=n: 451 ...)");
		dsn_free(d);
	}
	ok(dsn_log_parse("hello\nworld\n", 12) == NULL,
	    "dsn_log_parse: NULL for text that has no log line");
	fuzz(logs, strlen(logs));

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		ok(dsn_kind(kinds[i].text, strlen(kinds[i].text)) ==
		    kinds[i].kind, "dsn_kind: %s -> %d", kinds[i].name,
		    kinds[i].kind);
	ok(dsn_kind(NULL, 0) == DSN_KIND_NONE, "dsn_kind: NULL -> none");
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		ok(dsn_is_message(msgs[i].text, strlen(msgs[i].text)) ==
		    msgs[i].is, "dsn_is_message: %s -> %d", msgs[i].name,
		    msgs[i].is);
	ok(dsn_is_message(NULL, 0) == 0, "dsn_is_message: NULL -> 0");

	/* a message's own header block is no bounce text */
	{
		const char *hb = "Received: by mx.example.com; "
		    "Thu, 20 Aug 2009 05:15:43 -0700\n"
		    "Authentication-Results: mx.example.com; spf=pass "
		    "(example.com: domain of a@example.net designates "
		    "192.0.2.10 as permitted sender)\n"
		    "From: a@example.net\nSubject: RE: hello\n\n"
		    "This account is protected. Please click on the link "
		    "to have your address added to the allowed list.\n";

		d = dsn_parse(hb, strlen(hb));
		ok(d != NULL && d->nitems == 0,
		    "a header field (Authentication-Results:) is no reply "
		    "(%zu items)", d != NULL ? d->nitems : 0);
		dsn_free(d);
	}

	/* empty and NULL input */
	d = dsn_parse("", 0);
	ok(d != NULL && d->nitems == 0 && d->reporting_mta == NULL,
	    "empty input: no items");
	dsn_free(d);
	d = dsn_parse(NULL, 0);
	ok(d != NULL && d->nitems == 0, "NULL input: no items");
	dsn_free(d);
	dsn_free(NULL);
	ok(1, "dsn_free(NULL)");

	/* NUL bytes inside: kept, escaped, and parsing goes on after them */
	{
		static const char nul[] = "<n@example.net>: host "
		    "mx.example.net[192.0.2.1] said: 550 5.1.1 bad\0byte (in "
		    "reply to RCPT TO command)\n\0\n<o@exa\0mple.net>: host "
		    "mx.example.net[192.0.2.1] said: 550 5.1.1 again (in reply "
		    "to end of DATA command)\n";

		d = dsn_parse(nul, sizeof(nul) - 1);
		ok(sane(d), "NUL bytes: results printable");
		ok(d->nitems == 2 && d->items[0].reply != NULL &&
		    strcmp(d->items[0].reply, "550 5.1.1 bad\\x00byte") == 0 &&
		    d->items[0].stage == STAGE_RCPT,
		    "NUL bytes: reply escaped as \\x00 (got %s)",
		    d->nitems > 0 && d->items[0].reply ? d->items[0].reply :
		    "NULL");
		ok(d->nitems == 2 && d->items[1].recipient != NULL &&
		    strcmp(d->items[1].recipient, "o@exa\\x00mple.net") == 0 &&
		    d->items[1].stage == STAGE_EOD,
		    "NUL bytes: the record after them is read");
		dsn_free(d);
	}

	/* a 200 KB line, in a field and in the text */
	n = 200 * 1024;
	big = xmalloc(n + 512);
	len = (size_t)snprintf(big, 512, "Final-Recipient: rfc822; "
	    "p@example.net\nDiagnostic-Code: smtp; 550 5.7.1 ");
	memset(big + len, 'A', n);
	len += n;
	memcpy(big + len, "\n\n<q@example.net>: ", 19);
	len += 19;
	d = dsn_parse(big, len);
	ok(sane(d) && d->nitems == 1 && d->items[0].reply != NULL &&
	    strlen(d->items[0].reply) <= DSN_MAX_STR &&
	    d->items[0].code == 550,
	    "200 KB Diagnostic-Code: kept, capped at %d bytes", DSN_MAX_STR);
	dsn_free(d);
	memset(big, '<', n);
	for (i = 0; i < n; i += 97)
		big[i] = i % 2 ? '>' : ':';
	big[n] = '\n';
	d = dsn_parse(big, n + 1);
	ok(sane(d), "200 KB line of < > and : survives");
	dsn_free(d);
	memset(big, ' ', n);
	memcpy(big, "<r@example.net>: host mx.example.net[192.0.2.1] said: 550",
	    57);
	memcpy(big + n - 30, "(in reply to RCPT TO command)", 29);
	d = dsn_parse(big, n);
	ok(sane(d) && d->nitems == 1 && d->items[0].stage == STAGE_RCPT &&
	    d->items[0].code == 550, "200 KB Postfix line with blanks");
	dsn_free(d);
	free(big);

	/* too many recipients: capped */
	n = 1500;
	big = xmalloc(n * 64 + 64);
	for (i = 0, len = 0; i < n; i++)
		len += (size_t)snprintf(big + len, 64, "\nFinal-Recipient: "
		    "rfc822; u%zu@example.net\nAction: failed\n", i);
	d = dsn_parse(big, len);
	ok(sane(d) && d->nitems == DSN_MAX_ITEMS,
	    "1500 recipients capped at %d (got %zu)", DSN_MAX_ITEMS,
	    d->nitems);
	dsn_free(d);
	for (i = 0, len = 0; i < n; i++)
		len += (size_t)snprintf(big + len, 64, "<v%zu@example.net>: "
		    "host mx.example.net[192.0.2.1] said: 550 x\n", i);
	d = dsn_parse(big, len);
	ok(sane(d) && d->nitems == DSN_MAX_ITEMS,
	    "1500 text recipients capped (got %zu)", d->nitems);
	dsn_free(d);
	free(big);

	/* deep nesting and a flood of parts */
	big = xmalloc(64 * 1024);
	for (i = 0, len = 0; i < 40; i++)
		len += (size_t)snprintf(big + len, 128, "Content-Type: "
		    "multipart/mixed; boundary=b%zu\n\n--b%zu\n", i, i);
	len += (size_t)snprintf(big + len, 128, "Content-Type: message/"
	    "delivery-status\n\nFinal-Recipient: rfc822; w@example.net\n");
	d = dsn_parse(big, len);
	ok(sane(d), "40 nested multiparts survive (%zu items)", d->nitems);
	dsn_free(d);
	len = (size_t)snprintf(big, 128, "Content-Type: multipart/mixed; "
	    "boundary=z\n\n");
	for (i = 0; i < 2000; i++)
		len += (size_t)snprintf(big + len, 32, "--z\n\n");
	d = dsn_parse(big, len);
	ok(sane(d) && d->nitems == 0, "2000 empty parts survive");
	dsn_free(d);
	free(big);

	/* random bytes */
	big = xmalloc(4096);
	for (good = 1, n = 0; n < 200; n++) {
		len = rnd() % 4096;
		for (i = 0; i < len; i++)
			big[i] = (char)(rnd() % 4 == 0 ? "\n<>:"[rnd() % 4] :
			    (int)rnd());
		d = dsn_parse(big, len);
		good &= sane(d);
		dsn_free(d);
	}
	ok(good, "200 random inputs: results sane");
	free(big);

	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		ok(dsn_stage_from_text(phrases[i].text) == phrases[i].stage,
		    "stage of \"%s\" is %d (got %d)", phrases[i].text,
		    phrases[i].stage, dsn_stage_from_text(phrases[i].text));
	ok(dsn_stage_from_text(NULL) == -1, "stage of NULL is -1");

	return tap_done();
}
