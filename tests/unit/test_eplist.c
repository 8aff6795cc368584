/*  test_eplist — lists of broker endpoints (lib/eplist.c). */
#include <zmq.h>

#include "check.h"
#include "eplist.h"

int
main(void)
{
    char buf[256];
    CHECK(eplist_count("tcp://a:5556") == 1);
    CHECK(eplist_count("tcp://a:5556,tcp://b:5556") == 2);
    CHECK(eplist_count(" tcp://a:1 , tcp://b:2 ,") == 2);      //  blanks and an empty entry
    CHECK(eplist_count("") == 0);
    CHECK(eplist_count(NULL) == 0);
    CHECK_STR(eplist_get(" tcp://a:1 , tcp://b:2 ,", 1, buf, sizeof buf), "tcp://b:2");
    CHECK(eplist_get("tcp://a:1", 1, buf, sizeof buf) == NULL);
    CHECK(eplist_get("tcp://a-very-long-host:1", 0, buf, 8) == NULL);   //  does not fit: none
    //  the progress endpoints: each port + 2
    CHECK_STR(eplist_progress("tcp://a:5555,tcp://b:6000", buf, sizeof buf), "tcp://a:5557,tcp://b:6002");
    CHECK_STR(eplist_progress("tcp://127.0.0.1:5555", buf, sizeof buf), "tcp://127.0.0.1:5557");
    CHECK_STR(eplist_progress("ipc:///tmp/x", buf, sizeof buf), "tcp://localhost:5557");
    CHECK_STR(eplist_progress("", buf, sizeof buf), "tcp://localhost:5557");
    //  connecting: every endpoint, ZMQ_IMMEDIATE with more than one; a bad one named
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    char err[600];
    int imm = -1;
    size_t len = sizeof imm;
    CHECK(eplist_connect(s, "tcp://127.0.0.1:1", err, sizeof err) == 0);
    zmq_getsockopt(s, ZMQ_IMMEDIATE, &imm, &len);
    CHECK(imm == 0);
    CHECK(eplist_connect(s, "tcp://127.0.0.1:2,tcp://127.0.0.1:3", err, sizeof err) == 0);
    zmq_getsockopt(s, ZMQ_IMMEDIATE, &imm, &len);
    CHECK(imm == 1);
    CHECK(eplist_connect(s, "tcp://127.0.0.1:4,nonsense", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "nonsense (endpoint 2 of");
    CHECK(eplist_connect(s, " , ", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no broker endpoint");
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return check_result("test_eplist");
}
