/*  keys — CURVE key pairs and the settings that put them on sockets.

    A shoal key pair is a CZMQ certificate written by `shoal keygen NAME`:
    NAME.key holds the public key (safe to copy anywhere), NAME.key_secret
    the public and the secret key (mode 0600, stays on its machine).

    The broker is a CURVE server on every socket: it holds its own secret
    key and a directory of public keys it accepts, checked during the
    handshake by a zauth actor (ZAP). Workers, clients and monitors are
    CURVE clients: they hold their own key pair and the broker's public
    key. A keys_t is either kind; NULL means plaintext, so callers write

        keys_t *keys = NULL;                        //  CURVE off
        if (server_key && keys_client_new(server_key, own_cert, &keys, err, sizeof err))
            ...print err, exit 2...
        zsock_t *dealer = zsock_new(ZMQ_DEALER);
        keys_apply(keys, dealer);                   //  before connect/bind; NULL: no-op
        ...
        keys_destroy(&keys);
*/
#ifndef SHOAL_KEYS_H
#define SHOAL_KEYS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct _keys_t keys_t;

//  ZAP domain of the broker's sockets (zauth checks every handshake on it).
#define KEYS_ZAP_DOMAIN  "shoal"

//  Server side: load the broker's certificate (the NAME.key_secret file;
//  NAME.key is accepted when NAME.key_secret sits beside it) and start a
//  zauth actor that accepts only the public keys found in `allow_dir`. The
//  directory is read again whenever it changes, so adding or removing a
//  key file takes effect at the next handshake. Returns 0 and a new keys_t
//  in *out, or -1 with a message a person can act on in err.
int keys_server_new(const char *secret_file, const char *allow_dir, keys_t **out,
                    char *err, size_t errlen);
//  Client side: `server_key` is the broker's public key, either a file
//  written by keygen or its 40-character Z85 text; `own_cert` is this
//  program's NAME.key_secret. Returns 0 and a new keys_t in *out, or -1
//  with a message in err.
int keys_client_new(const char *server_key, const char *own_cert, keys_t **out,
                    char *err, size_t errlen);
//  Stop the zauth actor (server) and free the keys; accepts NULL, NULLs
//  the caller's pointer.
void keys_destroy(keys_t **self_p);
//  Make a socket (zsock_t * or a raw libzmq socket) speak CURVE as this
//  side: server (curve_server, our keys, ZAP domain) or client (our keys,
//  the server's public key). Call before bind/connect. NULL self: nothing
//  to do (plaintext). Returns 0, or -1 when libzmq refused an option.
int keys_apply(const keys_t *self, void *socket);
//  Our own public key in Z85 (40 characters), for logs.
const char *keys_public_txt(const keys_t *self);
//  Server: how many public keys the allow directory holds right now.
size_t keys_allowed_count(const keys_t *self);
//  True for the broker's side.
bool keys_is_server(const keys_t *self);

//  Write a new key pair as DIR/NAME.key and DIR/NAME.key_secret (0600).
//  Refuses to overwrite existing files unless `force`. NAME may hold
//  letters, digits, '.', '-' and '_'. Returns 0, or -1 with a message.
int keys_generate(const char *dir, const char *name, bool force, char *err, size_t errlen);
//  Parse a Z85 public key text: 40 characters that decode to 32 bytes.
bool keys_z85_valid(const char *text);

#endif
