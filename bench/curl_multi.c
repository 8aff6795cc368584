/*  bench_curl_multi — the ceiling of libcurl on this machine: one multi
    handle keeping CONCURRENCY transfers of URL in flight until N are done,
    bodies hashed with SHA-256 like the worker does, nothing stored.

    bench_curl_multi URL N CONCURRENCY */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

static size_t
s_sink(char *data, size_t size, size_t nmemb, void *userp)
{
    EVP_DigestUpdate((EVP_MD_CTX *) userp, data, size * nmemb);
    return size * nmemb;
}

static void
s_add(CURLM *multi, const char *url)
{
    CURL *e = curl_easy_init();
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, sha);
    curl_easy_setopt(e, CURLOPT_PRIVATE, sha);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(multi, e);
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_curl_multi URL N CONCURRENCY\n");
        return 2;
    }
    const char *url = argv[1];
    long n = atol(argv[2]);
    int conc = atoi(argv[3]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) conc * 2);
    long started = 0, done = 0, failed = 0;
    int64_t t0 = clock_mono_us();
    for (; started < conc && started < n; started++)
        s_add(multi, url);
    while (done < n) {
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            EVP_MD_CTX *sha = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &sha);
            unsigned char digest[EVP_MAX_MD_SIZE];
            unsigned len;
            EVP_DigestFinal_ex(sha, digest, &len);
            EVP_MD_CTX_free(sha);
            if (msg->data.result != CURLE_OK)
                failed++;
            curl_multi_remove_handle(multi, msg->easy_handle);
            curl_easy_cleanup(msg->easy_handle);
            done++;
            if (started < n) {
                s_add(multi, url);
                started++;
            }
        }
        if (done < n)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double secs = (double) (clock_mono_us() - t0) / 1e6;
    printf("curl_multi_requests=%ld concurrency=%d failed=%ld seconds=%.3f requests_per_s=%.0f\n", n, conc,
           failed, secs, (double) n / secs);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
