/*  dashboard — GET /: the live web dashboard, one page (gateway/
    dashboard.html) embedded in the binary at build time: no build step of
    its own, nothing fetched from the internet. It holds no data: it asks
    for an API token (kept in the tab's sessionStorage), then reads
    GET /v1/events and calls the control routes with it. */
#include "gateway.h"

#include <stddef.h>

extern const unsigned char dashboard_html[];
extern const size_t dashboard_html_len;

enum MHD_Result
dashboard_get(req_t *req)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(dashboard_html_len, (void *) dashboard_html,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    //  the page runs only its own inline script and talks only to this origin
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
                            " connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    return gw_respond(req, 200, r);
}
