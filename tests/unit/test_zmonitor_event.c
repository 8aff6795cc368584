/*  test_zmonitor_event — lib/zmonitor_event.c: why a handshake failed, from
    a monitor event, and an empty monitor socket. */
#include <string.h>
#include <zmq.h>

#include "check.h"
#include "zmonitor_event.h"

int
main(void)
{
    CHECK(zmonitor_reason(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400) == ZMONITOR_KEY_REFUSED);
    CHECK(zmonitor_reason(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 104) == ZMONITOR_CLOSED);
    CHECK(zmonitor_reason(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
          == ZMONITOR_MECHANISM);
    CHECK(zmonitor_reason(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
          == ZMONITOR_CRYPTO);
    CHECK(zmonitor_reason(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION) == ZMONITOR_ZAP);
    CHECK(zmonitor_reason(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED)
          == ZMONITOR_MALFORMED);
    CHECK(zmonitor_reason(ZMQ_EVENT_CONNECTED, 7) == ZMONITOR_REASONS);
    CHECK(zmonitor_reason(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0) == ZMONITOR_REASONS);
    CHECK(strcmp(zmonitor_reason_name(ZMONITOR_KEY_REFUSED), "key_refused") == 0);
    CHECK(strcmp(zmonitor_reason_name(ZMONITOR_CLOSED), "closed_or_timed_out") == 0);
    CHECK(strcmp(zmonitor_reason_name(ZMONITOR_REASONS), "?") == 0);

    //  a monitor socket with nothing queued reads as false, and so does none
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    CHECK(zmq_socket_monitor(dealer, "inproc://test-zmonitor-events", ZMQ_EVENT_ALL) == 0);
    void *pair = zmq_socket(ctx, ZMQ_PAIR);
    CHECK(zmq_connect(pair, "inproc://test-zmonitor-events") == 0);
    uint16_t event = 0;
    uint32_t value = 0;
    CHECK(!zmonitor_event_recv(pair, &event, &value));
    CHECK(!zmonitor_event_recv(NULL, &event, &value));
    zmq_close(pair);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
    return check_result("test_zmonitor_event");
}
