/*  extract — the variables a pipeline step takes from its response.

    A step's "extract" object maps variable names to rules:
      json:POINTER    RFC 6901 pointer into the JSON body; strings as they
                      are, numbers and booleans as text, null as "null",
                      objects and arrays as compact JSON
      regex:PATTERN   PCRE2 (UTF) over the body: the first capture group,
                      else the whole match
      header:NAME     a response header (case-insensitive, the first)
      status          the HTTP status, as text
      url             the final URL (after redirects)
      body            the body itself (at most EXTRACT_MAX_VALUE bytes of
                      UTF-8 text)
    A prefix `all:` makes a list of every match: every regex match, every
    header of that name, the elements of the array a pointer names, and
    in pointers a segment `*` stands for every element or member. A list
    may be empty; a single value that is missing is an error.

    Rules are compiled once per step (extract_new: a bad rule is an error
    at submit time) and run per response. Bounds: extraction looks at the
    first EXTRACT_MAX_BODY bytes of a body, a value is at most
    EXTRACT_MAX_VALUE bytes, a list at most EXTRACT_MAX_LIST elements, all
    variables of a step together at most EXTRACT_MAX_TOTAL bytes, and PCRE2
    runs under a match and depth limit, so a worker's memory and time stay
    bounded whatever a server sends.
*/
#ifndef SHOAL_EXTRACT_H
#define SHOAL_EXTRACT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define EXTRACT_MAX_BODY   (4u << 20)   //  body bytes extraction reads
#define EXTRACT_MAX_VALUE  (1u << 20)   //  bytes of one value
#define EXTRACT_MAX_LIST   100000       //  elements of one all: list
#define EXTRACT_MAX_TOTAL  (8u << 20)   //  bytes of every variable of a step
#define EXTRACT_MAX_RULES  64           //  rules of one step
#define EXTRACT_REGEX_MATCH_LIMIT 10000000u
#define EXTRACT_REGEX_DEPTH_LIMIT 10000u

typedef struct _extract_t extract_t;

//  What a rule may look at: the response of one attempt (all borrowed).
typedef struct {
    uint32_t    status;
    const char *url;                //  final URL, may be NULL
    const char *const *header_names;    //  n_headers names and values
    const char *const *header_values;
    size_t      n_headers;
    const char *body;               //  the first body_len bytes (<= EXTRACT_MAX_BODY)
    size_t      body_len;
    uint64_t    body_total;         //  the body's full size (may be more than body_len)
} extract_response_t;

//  Compile the rules of one step: `rules` is a JSON object of
//  name -> "rule". Returns NULL with "extract NAME: why" in err.
extract_t *extract_new(json_t *rules, char *err, size_t errlen);
//  Destroy; idempotent, NULLs the caller's pointer.
void extract_destroy(extract_t **self_p);
//  Number of rules; the name of the i-th and whether it makes a list.
size_t extract_count(const extract_t *self);
const char *extract_name(const extract_t *self, size_t i);
int extract_is_list(const extract_t *self, size_t i);
//  Run every rule on a response. Returns a new JSON object of variables
//  (strings, or arrays of strings for all:), or NULL with e.g. "extract
//  file_id: json:/file_id not found (status 200, body: {...})" in err.
json_t *extract_run(const extract_t *self, const extract_response_t *resp, char *err, size_t errlen);
//  Validate one rule text without keeping it; 0 or -1 with the reason.
int extract_check_rule(const char *rule, char *err, size_t errlen);

#endif
