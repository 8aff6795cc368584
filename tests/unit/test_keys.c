/*  test_keys — key pairs on disk, and CURVE over real TCP sockets: an
    allowed key talks, an unknown key, a wrong server key and a plaintext
    peer get nothing; a key copied into the allow directory works at the
    next handshake. */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "keys.h"

static char s_dir[256];

static char *
s_path(const char *name)
{
    static char buf[8][512];
    static int i = 0;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", s_dir, name);
    return buf[i];
}

static void
test_generate(void)
{
    char err[512];
    CHECK(keys_generate(s_dir, "alice", false, err, sizeof err) == 0);
    struct stat st;
    CHECK(stat(s_path("alice.key"), &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(stat(s_path("alice.key_secret"), &st) == 0 && (st.st_mode & 0777) == 0600);
    //  no silent overwrite
    CHECK(keys_generate(s_dir, "alice", false, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "already exists");
    CHECK(keys_generate(s_dir, "alice", true, err, sizeof err) == 0);
    CHECK(keys_generate(s_dir, "../evil", false, err, sizeof err) == -1);
    CHECK(keys_generate(s_dir, "", false, err, sizeof err) == -1);
    //  a new directory is made
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub/dir", s_dir);
    CHECK(keys_generate(sub, "bob", false, err, sizeof err) == 0);
}

static void
test_load_errors(void)
{
    char err[512];
    keys_t *keys = NULL;
    CHECK(keys_client_new(s_path("nope.key"), s_path("alice.key_secret"), &keys, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "neither a key file nor");
    CHECK(keys == NULL);
    //  the Z85 text of a public key works as well as its file
    zcert_t *cert = zcert_load(s_path("alice.key"));
    CHECK(cert != NULL);
    CHECK(keys_z85_valid(zcert_public_txt(cert)));
    CHECK(keys_client_new(zcert_public_txt(cert), s_path("alice.key_secret"), &keys, err, sizeof err) == 0);
    CHECK(keys && !keys_is_server(keys));
    keys_destroy(&keys);
    keys_destroy(&keys);
    zcert_destroy(&cert);
    CHECK(!keys_z85_valid("short"));
    CHECK(!keys_z85_valid("\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\""));
    //  our own key needs its secret part: a lone public file is refused
    CHECK(keys_generate(s_dir, "pubonly", false, err, sizeof err) == 0);
    CHECK(rename(s_path("pubonly.key_secret"), s_path("moved_secret_elsewhere")) == 0);
    CHECK(keys_client_new(s_path("alice.key"), s_path("pubonly.key"), &keys, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "holds only a public key");
    CHECK(keys_client_new(s_path("alice.key"), s_path("missing.key_secret"), &keys, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no key file");
    CHECK(keys_client_new(s_path("alice.key"), NULL, &keys, err, sizeof err) == -1);
    CHECK(keys_server_new(s_path("alice.key_secret"), s_path("no-such-dir"), &keys, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not a directory");
    CHECK(keys_server_new(s_path("alice.key_secret"), NULL, &keys, err, sizeof err) == -1);
    CHECK(keys == NULL);
}

//  Send "ping" from a DEALER with these keys; true if the ROUTER got it
//  within wait_ms.
static bool
s_reaches(zsock_t *router, const char *endpoint, const keys_t *keys, int wait_ms)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_set_linger(dealer, 0);
    CHECK(keys_apply(keys, dealer) == 0);
    zsock_connect(dealer, "%s", endpoint);
    zstr_send(dealer, "ping");
    zpoller_t *poller = zpoller_new(router, NULL);
    bool got = zpoller_wait(poller, wait_ms) != NULL;
    if (got) {
        zmsg_t *msg = zmsg_recv(router);
        zmsg_destroy(&msg);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&dealer);
    return got;
}

static void
test_handshakes(void)
{
    char err[512];
    char allow[512];
    snprintf(allow, sizeof allow, "%s/allowed", s_dir);
    CHECK(keys_generate(s_dir, "broker", false, err, sizeof err) == 0);
    CHECK(keys_generate(s_dir, "worker", false, err, sizeof err) == 0);
    CHECK(keys_generate(s_dir, "stranger", false, err, sizeof err) == 0);
    CHECK(keys_generate(s_dir, "impostor", false, err, sizeof err) == 0);
    //  the broker trusts the worker: its public key goes in the allow directory
    CHECK(zsys_dir_create("%s", allow) == 0);
    zcert_t *w = zcert_load(s_path("worker.key"));
    char allowed_key[600];
    snprintf(allowed_key, sizeof allowed_key, "%s/worker.key", allow);
    CHECK(zcert_save_public(w, allowed_key) == 0);
    zcert_destroy(&w);

    keys_t *server = NULL, *good = NULL, *unknown = NULL, *wrong_server = NULL;
    CHECK(keys_server_new(s_path("broker.key_secret"), allow, &server, err, sizeof err) == 0);
    CHECK(keys_is_server(server));
    CHECK(keys_allowed_count(server) == 1);
    CHECK(keys_client_new(s_path("broker.key"), s_path("worker.key_secret"), &good, err, sizeof err) == 0);
    CHECK(keys_client_new(s_path("broker.key"), s_path("stranger.key_secret"), &unknown, err, sizeof err) == 0);
    CHECK(keys_client_new(s_path("impostor.key"), s_path("worker.key_secret"), &wrong_server, err, sizeof err) == 0);

    zsock_t *router = zsock_new(ZMQ_ROUTER);
    zsock_set_linger(router, 0);
    CHECK(keys_apply(server, router) == 0);
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    CHECK(port > 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);

    CHECK(s_reaches(router, endpoint, good, 5000));
    CHECK(!s_reaches(router, endpoint, unknown, 500));
    CHECK(!s_reaches(router, endpoint, wrong_server, 500));
    CHECK(!s_reaches(router, endpoint, NULL, 500));
    //  allow the stranger by copying its public key in: no restart
    zcert_t *s = zcert_load(s_path("stranger.key"));
    char path[600];
    snprintf(path, sizeof path, "%s/stranger.key", allow);
    CHECK(zcert_save_public(s, path) == 0);
    zcert_destroy(&s);
    CHECK(s_reaches(router, endpoint, unknown, 5000));
    //  and take it away again
    CHECK(remove(path) == 0);
    CHECK(!s_reaches(router, endpoint, unknown, 500));
    CHECK(s_reaches(router, endpoint, good, 5000));

    zsock_destroy(&router);
    keys_destroy(&good);
    keys_destroy(&unknown);
    keys_destroy(&wrong_server);
    keys_destroy(&server);
    CHECK(server == NULL);
}

int
main(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/shoal-test-keys.XXXXXX");
    if (!mkdtemp(s_dir))
        return 1;
    test_generate();
    test_load_errors();
    test_handshakes();
    int rc = check_result("test_keys");
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", s_dir);
    }
    return rc;
}
