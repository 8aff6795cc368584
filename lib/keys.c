/*  keys — CURVE key pairs on sockets. See keys.h. */
#include "keys.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "errbuf.h"

struct _keys_t {
    bool      server;           //  broker side (CURVE server + zauth)
    zcert_t  *cert;             //  our key pair (owned)
    char      server_txt[41];   //  client: the broker's public key, Z85
    zactor_t *auth;             //  server: the zauth actor (owned)
    char     *allow_dir;        //  server: directory of allowed public keys (owned)
};

static bool
s_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
s_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

//  Load a key pair whose secret part we need; NULL with a message.
static zcert_t *
s_load_pair(const char *what, const char *path, char *err, size_t errlen)
{
    char secret[4096];
    snprintf(secret, sizeof secret, "%s_secret", path);
    if (!s_is_file(path) && !s_is_file(secret)) {
        errbuf_set(err, errlen, "%s: no key file '%s' (make one with: shoal keygen NAME)", what, path);
        return NULL;
    }
    //  zcert_load reads PATH_secret when it exists, else PATH
    zcert_t *cert = zcert_load(path);
    if (!cert) {
        errbuf_set(err, errlen, "%s: '%s' is not a key file written by shoal keygen (or is not readable)",
               what, path);
        return NULL;
    }
    static const uint8_t zero[32];
    if (memcmp(zcert_secret_key(cert), zero, sizeof zero) == 0) {
        errbuf_set(err, errlen, "%s: '%s' holds only a public key; pass the NAME.key_secret file"
               " written by shoal keygen", what, path);
        zcert_destroy(&cert);
        return NULL;
    }
    return cert;
}

//  Count the public key files in the allow directory (for the log line).
static size_t
s_count_keys(const char *dir)
{
    zdir_t *d = zdir_new(dir, NULL);
    if (!d)
        return 0;
    size_t n = 0;
    zlist_t *files = zdir_list(d);
    for (zfile_t *f = zlist_first(files); f; f = zlist_next(files)) {
        const char *name = zfile_filename(f, NULL);
        size_t len = strlen(name);
        if (len > 7 && strcmp(name + len - 7, "_secret") == 0)
            continue;
        zcert_t *cert = zcert_load(name);
        if (cert)
            n++;
        zcert_destroy(&cert);
    }
    zlist_destroy(&files);
    zdir_destroy(&d);
    return n;
}

int
keys_server_new(const char *secret_file, const char *allow_dir, keys_t **out,
                char *err, size_t errlen)
{
    *out = NULL;
    if (!zsys_has_curve())
        return errbuf_set(err, errlen, "this libzmq was built without CURVE support");
    if (!allow_dir || !*allow_dir)
        return errbuf_set(err, errlen, "--curve-allow DIR is required with --curve-secret: the"
                      " directory of public keys (NAME.key) of the workers, clients and monitors"
                      " allowed to connect");
    if (!s_is_dir(allow_dir))
        return errbuf_set(err, errlen, "--curve-allow: '%s' is not a directory", allow_dir);
    keys_t *self = calloc(1, sizeof *self);
    if (!self)
        return errbuf_set(err, errlen, "out of memory");
    self->server = true;
    self->cert = s_load_pair("--curve-secret", secret_file, err, errlen);
    if (!self->cert) {
        keys_destroy(&self);
        return -1;
    }
    self->auth = zactor_new(zauth, NULL);
    if (!self->auth) {
        keys_destroy(&self);
        return errbuf_set(err, errlen, "cannot start the authentication thread (zauth)");
    }
    //  zauth answers every ZAP request: a CURVE client is allowed when its
    //  public key is in the directory (reloaded when the directory changes)
    zstr_sendx(self->auth, "CURVE", allow_dir, NULL);
    zsock_wait(self->auth);
    self->allow_dir = strdup(allow_dir);
    if (!self->allow_dir) {
        keys_destroy(&self);
        return errbuf_set(err, errlen, "out of memory");
    }
    *out = self;
    return 0;
}

int
keys_client_new(const char *server_key, const char *own_cert, keys_t **out,
                char *err, size_t errlen)
{
    *out = NULL;
    if (!zsys_has_curve())
        return errbuf_set(err, errlen, "this libzmq was built without CURVE support");
    if (!server_key || !*server_key)
        return errbuf_set(err, errlen, "--curve-server-key is required with --curve-key");
    if (!own_cert || !*own_cert)
        return errbuf_set(err, errlen, "--curve-key FILE is required with --curve-server-key: this"
                      " program's NAME.key_secret from shoal keygen, whose NAME.key the broker"
                      " has in its --curve-allow directory");
    keys_t *self = calloc(1, sizeof *self);
    if (!self)
        return errbuf_set(err, errlen, "out of memory");
    if (s_is_file(server_key)) {
        zcert_t *cert = zcert_load(server_key);
        if (!cert) {
            keys_destroy(&self);
            return errbuf_set(err, errlen, "--curve-server-key: '%s' is not a key file written by"
                          " shoal keygen", server_key);
        }
        snprintf(self->server_txt, sizeof self->server_txt, "%s", zcert_public_txt(cert));
        zcert_destroy(&cert);
    }
    else
    if (keys_z85_valid(server_key))
        snprintf(self->server_txt, sizeof self->server_txt, "%s", server_key);
    else {
        keys_destroy(&self);
        return errbuf_set(err, errlen, "--curve-server-key: '%s' is neither a key file nor a"
                      " 40-character Z85 public key", server_key);
    }
    self->cert = s_load_pair("--curve-key", own_cert, err, errlen);
    if (!self->cert) {
        keys_destroy(&self);
        return -1;
    }
    *out = self;
    return 0;
}

void
keys_destroy(keys_t **self_p)
{
    keys_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy(&self->auth);
    zcert_destroy(&self->cert);
    free(self->allow_dir);
    free(self);
    *self_p = NULL;
}

int
keys_apply(const keys_t *self, void *socket)
{
    if (!self)
        return 0;
    void *raw = zsock_resolve(socket);
    int rc = 0;
    rc |= zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, zcert_public_key(self->cert), 32);
    rc |= zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, zcert_secret_key(self->cert), 32);
    if (self->server) {
        int on = 1;
        rc |= zmq_setsockopt(raw, ZMQ_CURVE_SERVER, &on, sizeof on);
        rc |= zmq_setsockopt(raw, ZMQ_ZAP_DOMAIN, KEYS_ZAP_DOMAIN, strlen(KEYS_ZAP_DOMAIN));
    }
    else
        rc |= zmq_setsockopt(raw, ZMQ_CURVE_SERVERKEY, self->server_txt, 40);
    return rc ? -1 : 0;
}

const char *
keys_public_txt(const keys_t *self)
{
    return zcert_public_txt(self->cert);
}

size_t
keys_allowed_count(const keys_t *self)
{
    return self && self->allow_dir ? s_count_keys(self->allow_dir) : 0;
}

bool
keys_is_server(const keys_t *self)
{
    return self && self->server;
}

bool
keys_z85_valid(const char *text)
{
    if (!text || strlen(text) != 40)
        return false;
    uint8_t bin[32];
    return zmq_z85_decode(bin, text) != NULL;
}

static bool
s_name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > 128 || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
        ||  *p == '.' || *p == '-' || *p == '_'))
            return false;
    return true;
}

int
keys_generate(const char *dir, const char *name, bool force, char *err, size_t errlen)
{
    if (!s_name_ok(name))
        return errbuf_set(err, errlen, "key name '%s': use letters, digits, '.', '-' and '_'",
                      name ? name : "");
    if (!dir || !*dir)
        dir = ".";
    if (!s_is_dir(dir) && zsys_dir_create("%s", dir) != 0)
        return errbuf_set(err, errlen, "cannot create directory '%s': %s", dir, strerror(errno));
    char pub[4096], sec[4096 + 8];
    snprintf(pub, sizeof pub, "%s/%s.key", dir, name);
    snprintf(sec, sizeof sec, "%s_secret", pub);
    if (!force && (s_is_file(pub) || s_is_file(sec)))
        return errbuf_set(err, errlen, "'%s' already exists (use --force to replace the key pair;"
                      " every peer that trusts the old public key must get the new one)", pub);
    zcert_t *cert = zcert_new();
    if (!cert)
        return errbuf_set(err, errlen, "cannot make a key pair (no CURVE support in libzmq?)");
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "created-by", "shoal keygen");
    zcert_set_meta(cert, "created-at", "%s", stamp);
    //  the secret file first, private from the moment it exists
    mode_t old = umask(077);
    remove(sec);
    int rc = zcert_save_secret(cert, sec);
    umask(old);
    if (rc == 0)
        rc = chmod(sec, 0600);
    if (rc == 0)
        rc = zcert_save_public(cert, pub);
    if (rc == 0)
        rc = chmod(pub, 0644);
    zcert_destroy(&cert);
    if (rc != 0)
        return errbuf_set(err, errlen, "cannot write '%s': %s", rc ? pub : sec, strerror(errno));
    return 0;
}
