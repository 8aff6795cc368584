/*  keygen — shoal keygen NAME: a CURVE key pair for a broker, a worker, a
    client or a monitor. Needs no broker. */
#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "keys.h"

int
cmd_keygen(cli_globals_t *g, int argc, char **argv)
{
    const char *dir = ".";
    bool force = false;
    opt_t opts[] = {
        { "dir", 'd', NULL, OPT_STRING, &dir, "DIR", "where to write the files (default: here; made if missing)" },
        { "force", 0, NULL, OPT_BOOL, &force, NULL, "replace an existing key pair of that name" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal keygen", .usage = "NAME [--dir DIR] [--force]", .opts = opts,
        .description =
            "Write a CURVE key pair: DIR/NAME.key (public: give it to the other side) and\n"
            "DIR/NAME.key_secret (secret, mode 0600: it never leaves this machine).\n"
            "The broker's NAME.key goes to every worker, client and monitor (--curve-server-key);\n"
            "their NAME.key files go into the broker's --curve-allow directory.",
        .epilog =
            "Examples:\n"
            "  shoal keygen broker --dir /etc/shoal          # on the broker machine\n"
            "  shoal keygen worker-vps1 --dir /etc/shoal     # on each worker machine\n"
            "  scp /etc/shoal/worker-vps1.key broker:/etc/shoal/allowed/" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (cfg.positional_count != 1) {
        fprintf(stderr, "shoal keygen: expected one NAME (see shoal keygen --help)\n");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    const char *name = cfg.positional[0];
    char err[1024];
    if (keys_generate(dir, name, force, err, sizeof err) != 0) {
        fprintf(stderr, "shoal keygen: %s\n", err);
        config_free(&cfg);
        return EXIT_USAGE;
    }
    char pub[4096], sec[4200];
    snprintf(pub, sizeof pub, "%s/%s.key", dir, name);
    snprintf(sec, sizeof sec, "%s_secret", pub);
    zcert_t *cert = zcert_load(pub);
    const char *text = cert ? zcert_public_txt(cert) : "";
    if (g->json) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "public_file", json_string(pub));
        json_object_set_new(o, "secret_file", json_string(sec));
        json_object_set_new(o, "public_key", json_string(text));
        char *out = json_dumps(o, JSON_COMPACT);
        printf("%s\n", out ? out : "{}");
        free(out);
        json_decref(o);
    }
    else {
        printf("public key  %s   (copy it to the other side)\n", pub);
        printf("secret key  %s   (keep it here, mode 0600)\n", sec);
        printf("public key text: %s\n", text);
    }
    zcert_destroy(&cert);
    config_free(&cfg);
    return EXIT_OK;
}
