/*
 * peer.h - a scripted SMTP server for driving the engine (smtp.c)
 * without sockets and without sleeping.
 *
 * peer_new() installs io.c's test seams: the engine's "connect" gets
 * one end of a bufferevent_pair, the peer holds the other; deadlines
 * go to a virtual clock that only moves when peer_advance() is called
 * (util_now_us() follows it too). The test then plays the server by
 * hand: peer_say() writes bytes to the client, peer_settle() runs the
 * event loop until nothing is pending, peer_heard() shows what the
 * client wrote. peer_starttls() switches the server side to TLS with
 * a throw-away self-signed certificate made in memory (once per
 * process, like the client context of peer_client_ctx()).
 *
 * One peer per process at a time (the seams are process-wide).
 */
#ifndef SMTPROBE_TESTS_PEER_H
#define SMTPROBE_TESTS_PEER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct peer;
typedef struct ssl_ctx_st SSL_CTX;

struct peer	*peer_new(struct event_base *);
void		 peer_free(struct peer *);

/* peer_say - write len bytes to the client (len -1: strlen) */
void		 peer_say(struct peer *, const char *, ssize_t len);
/* peer_close - close the server side (the client sees EOF) */
void		 peer_close(struct peer *);
/* peer_settle - run the loop until no event is active */
void		 peer_settle(struct peer *);
/* peer_advance - ms of virtual time pass; due deadlines fire */
void		 peer_advance(struct peer *, long ms);
/* peer_now_ms - virtual time since peer_new() */
long		 peer_now_ms(const struct peer *);
/* peer_deadline - ms until the armed deadline, -1 none */
long		 peer_deadline(const struct peer *);
/* peer_heard - everything the client wrote (plaintext side), NUL-ended */
const char	*peer_heard(const struct peer *);
size_t		 peer_heard_len(const struct peer *);
/* peer_lines - how many LF-ended lines the client wrote */
size_t		 peer_lines(const struct peer *);
/* peer_connected - the client has connected */
int		 peer_connected(const struct peer *);
/*
 * peer_starttls - from now on the server side speaks TLS; call it right
 * after peer_say() of the 220, before the loop runs, so that the
 * client's handshake meets the TLS layer
 */
void		 peer_starttls(struct peer *);
/* peer_client_ctx - a client SSL_CTX that verifies nothing (kept) */
SSL_CTX		*peer_client_ctx(struct peer *);

/* peer_said_lines - how many LF the peer wrote that can reach the
   client (under TLS: once the handshake is done) */
size_t		 peer_said_lines(const struct peer *);

#endif
