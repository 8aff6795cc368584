/*  zmonitor_event — see zmonitor_event.h. */
#include "zmonitor_event.h"

#include <string.h>
#include <zmq.h>

bool
zmonitor_event_recv(void *pair, uint16_t *event, uint32_t *value)
{
    for (int i = 0; pair && i < 100; i++) {
        zmq_msg_t head, addr;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, pair, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return false;
        }
        zmq_msg_init(&addr);
        bool two = zmq_msg_more(&head) && zmq_msg_recv(&addr, pair, ZMQ_DONTWAIT) >= 0;
        //  anything else than two frames is skipped, with what follows it
        while (two && zmq_msg_more(&addr)) {
            zmq_msg_close(&addr);
            zmq_msg_init(&addr);
            two = false;
            if (zmq_msg_recv(&addr, pair, ZMQ_DONTWAIT) < 0)
                break;
        }
        bool ok = two && zmq_msg_size(&head) == 6;
        if (ok) {
            const uint8_t *d = zmq_msg_data(&head);
            memcpy(event, d, 2);
            memcpy(value, d + 2, 4);
        }
        zmq_msg_close(&addr);
        zmq_msg_close(&head);
        if (ok)
            return true;
    }
    return false;
}

zmonitor_reason_t
zmonitor_reason(uint16_t event, uint32_t value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return ZMONITOR_KEY_REFUSED;        //  ZAP status, 400
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return ZMONITOR_CLOSED;             //  errno
    if (event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        return ZMONITOR_REASONS;
    switch (value) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return ZMONITOR_MECHANISM;
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return ZMONITOR_CRYPTO;
        case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED:
        case ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY:
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID:
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION:
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE:
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA:
            return ZMONITOR_ZAP;
        default:
            return ZMONITOR_MALFORMED;
    }
}

const char *
zmonitor_reason_name(zmonitor_reason_t reason)
{
    static const char *names[ZMONITOR_REASONS] = {
        "key_refused", "mechanism_mismatch", "cryptographic", "zap_error", "malformed_handshake",
        "closed_or_timed_out",
    };
    return (unsigned) reason < ZMONITOR_REASONS ? names[reason] : "?";
}
