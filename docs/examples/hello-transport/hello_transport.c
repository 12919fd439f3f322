/*
 * hello_transport.c — a minimal forwarder transport plugin written in plain C11.
 *
 * It builds against the installed SDK header <forwarder/plugin.h> only: no C++, no
 * protobuf library. It subscribes to uplinks and transmit results, counts both with
 * the host's stat_add, and logs every Nth uplink through the host's log:
 *
 *     hello: uplink #3 (23 bytes) at 868100000 Hz, count_us 412003117
 *
 * Options (under `options:` of its `transports:` entry):
 *     greeting: word that starts each log line   (string, default "hello")
 *     every:    log every Nth uplink, N >= 1     (int, default 1)
 *
 * The events are serialized forwarder.v1 protobuf messages. To show that a plugin can
 * read them without a protobuf library, the few fields logged are decoded with the
 * small wire-format walker below. A real plugin would normally use generated code.
 */
#include <forwarder/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_GREETING_MAX 64

/* ------------------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------------------ */

typedef struct hello_options {
    char greeting[HELLO_GREETING_MAX];
    long every;
} hello_options;

/* The option table the host checks the user's options against (unknown key, wrong
 * type) before it calls check()/create(); `forwarder --describe hello` prints it. */
static const fwd_option hello_option_table[] = {
    {"greeting", FWD_OPT_STRING, 0, "hello", "word that starts each log line"},
    {"every", FWD_OPT_INT, 0, "1", "log every Nth uplink (N >= 1)"},
    {NULL, 0, 0, NULL, NULL},
};

static void set_error(char* err, size_t err_len, const char* message)
{
    if (err != NULL && err_len > 0) {
        snprintf(err, err_len, "%s", message);
    }
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks at both ends of [*begin, *end). */
static void trim(const char** begin, const char** end)
{
    while (*begin < *end && is_blank(**begin)) {
        ++*begin;
    }
    while (*end > *begin && is_blank((*end)[-1])) {
        --*end;
    }
}

/*
 * Applies one "key: value" entry to `opts`. Returns FWD_OK, or FWD_ERROR with `err`
 * filled as "<option>: <reason>" so the host can point at the option in the file.
 */
static int apply_entry(const char* begin, const char* end, hello_options* opts, char* err,
                       size_t err_len)
{
    trim(&begin, &end);
    if (begin == end || *begin == '#') {
        return FWD_OK; /* blank line or comment */
    }
    const char* colon = memchr(begin, ':', (size_t)(end - begin));
    if (colon == NULL) {
        return FWD_OK; /* not a "key: value" line; the host has validated the structure */
    }
    const char* key = begin;
    const char* key_end = colon;
    const char* value = colon + 1;
    const char* value_end = end;
    trim(&key, &key_end);
    trim(&value, &value_end);

    /* Quoted scalars: strip the quotes (escape sequences are not interpreted).
     * Plain scalars: drop a trailing " # comment". */
    if (value_end - value >= 2 && (*value == '"' || *value == '\'') && value_end[-1] == *value) {
        ++value;
        --value_end;
    } else {
        for (const char* p = value; p < value_end; ++p) {
            if (*p == '#' && (p == value || is_blank(p[-1]))) {
                value_end = p;
                trim(&value, &value_end);
                break;
            }
        }
    }
    size_t key_len = (size_t)(key_end - key);
    size_t value_len = (size_t)(value_end - value);

    if (key_len == 8 && memcmp(key, "greeting", 8) == 0) {
        if (value_len == 0) {
            set_error(err, err_len, "greeting: must not be empty");
            return FWD_ERROR;
        }
        if (value_len >= sizeof opts->greeting) {
            set_error(err, err_len, "greeting: must be at most 63 characters");
            return FWD_ERROR;
        }
        memcpy(opts->greeting, value, value_len);
        opts->greeting[value_len] = '\0';
    } else if (key_len == 5 && memcmp(key, "every", 5) == 0) {
        char number[32];
        char* number_end = NULL;
        if (value_len == 0 || value_len >= sizeof number) {
            set_error(err, err_len, "every: must be an integer >= 1");
            return FWD_ERROR;
        }
        memcpy(number, value, value_len);
        number[value_len] = '\0';
        errno = 0;
        long n = strtol(number, &number_end, 10);
        if (errno != 0 || *number_end != '\0' || n < 1) {
            char message[96];
            snprintf(message, sizeof message, "every: must be an integer >= 1, got '%s'", number);
            set_error(err, err_len, message);
            return FWD_ERROR;
        }
        opts->every = n;
    }
    /* Other keys cannot occur: the host rejects keys missing from the option table. */
    return FWD_OK;
}

/*
 * Parses the YAML text of `options:` into `opts` (defaults first).
 *
 * Deliberately minimal — this is an example, not a YAML parser. It understands a flat
 * mapping written either one "key: value" per line (block style) or as "{k: v, k: v}"
 * (flow style), with plain or quoted scalars. That is enough here because both options
 * are scalars and the host has already checked keys and types against the option
 * table. A plugin with nested options should use a real YAML library.
 */
static int parse_options(const char* yaml, hello_options* opts, char* err, size_t err_len)
{
    snprintf(opts->greeting, sizeof opts->greeting, "%s", "hello");
    opts->every = 1;
    if (yaml == NULL) {
        return FWD_OK;
    }

    const char* p = yaml;
    const char* end = yaml + strlen(yaml);
    while (p < end && (is_blank(*p) || *p == '\n')) {
        ++p;
    }
    int flow = p < end && *p == '{';
    if (flow) {
        ++p;
        const char* close = end;
        while (close > p && close[-1] != '}') {
            --close;
        }
        if (close > p) {
            end = close - 1;
        }
    }

    /* Split into entries at newlines; in flow style also at commas, except inside a
     * quoted value (a quote right after "key:" opens one, the same quote closes it). */
    const char* entry = p;
    char quote = 0;
    char last = 0; /* last non-blank character seen in this entry */
    for (; p < end; ++p) {
        char c = *p;
        if (quote != 0) {
            if (c == quote) {
                quote = 0;
            }
        } else if (flow && last == ':' && (c == '"' || c == '\'')) {
            quote = c;
        } else if (c == '\n' || (flow && c == ',')) {
            if (apply_entry(entry, p, opts, err, err_len) != FWD_OK) {
                return FWD_ERROR;
            }
            entry = p + 1;
            last = 0;
            continue;
        }
        if (!is_blank(c)) {
            last = c;
        }
    }
    return apply_entry(entry, end, opts, err, err_len);
}

/* ------------------------------------------------------------------------------------
 * A tiny protobuf wire-format reader (just enough for a few scalar fields)
 * ------------------------------------------------------------------------------------ */

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

/* Reads one base-128 varint at *p. Returns 0 and advances *p, or -1 if malformed. */
static int read_varint(const unsigned char** p, const unsigned char* end, uint64_t* out)
{
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p == end) {
            return -1;
        }
        unsigned char byte = *(*p)++;
        value |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *out = value;
            return 0;
        }
    }
    return -1; /* more than 10 bytes */
}

typedef struct uplink_summary {
    uint64_t payload_len;  /* field 1, bytes: its length */
    uint64_t count_us;     /* field 3, uint32 varint */
    uint64_t frequency_hz; /* field 4, uint64 varint */
} uplink_summary;

/*
 * Walks the fields of a serialized forwarder.v1.Uplink and picks out the three we log.
 * Every field is a (tag, value) pair where tag = field_number << 3 | wire_type; fields we
 * do not know are skipped by wire type, which is also how old readers tolerate fields
 * added later. Proto3 omits fields holding their default value, so absent means 0.
 */
static int decode_uplink(const void* data, size_t len, uplink_summary* out)
{
    const unsigned char* p = data;
    const unsigned char* end = p + len;
    memset(out, 0, sizeof *out);
    while (p < end) {
        uint64_t tag = 0;
        uint64_t value = 0;
        if (read_varint(&p, end, &tag) != 0) {
            return -1;
        }
        uint64_t field = tag >> 3;
        switch ((unsigned)(tag & 7)) {
        case WIRE_VARINT:
            if (read_varint(&p, end, &value) != 0) {
                return -1;
            }
            if (field == 3) {
                out->count_us = value;
            } else if (field == 4) {
                out->frequency_hz = value;
            }
            break;
        case WIRE_LEN:
            if (read_varint(&p, end, &value) != 0 || value > (uint64_t)(end - p)) {
                return -1;
            }
            if (field == 1) {
                out->payload_len = value;
            }
            p += value;
            break;
        case WIRE_FIXED64:
            if (end - p < 8) {
                return -1;
            }
            p += 8;
            break;
        case WIRE_FIXED32: /* e.g. the float fields rssi_* and snr_db */
            if (end - p < 4) {
                return -1;
            }
            p += 4;
            break;
        default: /* groups (3, 4) are not used by proto3; 6 and 7 do not exist */
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * The plugin
 * ------------------------------------------------------------------------------------ */

typedef struct hello {
    fwd_host* host;
    const fwd_host_api_v1* api;
    hello_options opts;
    uint64_t uplinks; /* touched only by deliver(), which is never called concurrently */
} hello;

static void hello_log(hello* self, int level, const char* message)
{
    self->api->log(self->host, level, message);
}

static int hello_check(const char* config_yaml, char* err, size_t err_len)
{
    hello_options opts;
    return parse_options(config_yaml, &opts, err, err_len);
}

static void* hello_create(fwd_host* host, const fwd_host_api_v1* api,
                          const fwd_create_info_v1* info, const char* config_yaml, char* err,
                          size_t err_len)
{
    (void)info;
    /* Accept any host table at least as large as version 1's; a newer host may append
     * members we do not know about. */
    if (api == NULL || api->struct_size < sizeof(fwd_host_api_v1)) {
        set_error(err, err_len, "host service table is too small");
        return NULL;
    }
    hello* self = calloc(1, sizeof *self);
    if (self == NULL) {
        set_error(err, err_len, "out of memory");
        return NULL;
    }
    if (parse_options(config_yaml, &self->opts, err, err_len) != FWD_OK) {
        free(self);
        return NULL;
    }
    self->host = host;
    self->api = api;
    return self; /* no threads, sockets or devices here: that is start()'s job */
}

static int hello_start(void* instance, char* err, size_t err_len)
{
    (void)err;
    (void)err_len;
    hello* self = instance;
    char message[128];
    snprintf(message, sizeof message, "started; logging every %ld uplink(s)", self->opts.every);
    hello_log(self, FWD_LOG_INFO, message);
    return FWD_OK;
}

static void hello_stop(void* instance)
{
    hello* self = instance;
    char message[64];
    snprintf(message, sizeof message, "stopped after %llu uplink(s)",
             (unsigned long long)self->uplinks);
    hello_log(self, FWD_LOG_INFO, message);
}

static void hello_destroy(void* instance)
{
    free(instance);
}

static void hello_deliver(void* instance, uint32_t topic, const void* data, size_t len)
{
    hello* self = instance;
    if (topic == FWD_TOPIC_TX_RESULT) {
        self->api->stat_add(self->host, "tx_results", 1);
        return;
    }
    if (topic != FWD_TOPIC_UPLINK) {
        return;
    }

    self->api->stat_add(self->host, "uplinks", 1);
    uint64_t n = ++self->uplinks;
    if (n % (uint64_t)self->opts.every != 0) {
        return;
    }

    uplink_summary up;
    char message[256];
    if (decode_uplink(data, len, &up) != 0) {
        self->api->stat_add(self->host, "malformed", 1);
        snprintf(message, sizeof message, "%s: uplink #%llu (malformed, %zu bytes)",
                 self->opts.greeting, (unsigned long long)n, len);
        hello_log(self, FWD_LOG_WARN, message);
        return;
    }
    snprintf(message, sizeof message, "%s: uplink #%llu (%llu bytes) at %llu Hz, count_us %llu",
             self->opts.greeting, (unsigned long long)n, (unsigned long long)up.payload_len,
             (unsigned long long)up.frequency_hz, (unsigned long long)up.count_us);
    hello_log(self, FWD_LOG_INFO, message);
}

static const fwd_plugin_v1 hello_descriptor = {
    .abi_version = FWD_ABI_VERSION_1,
    .name = "hello", /* must match the file name forwarder-hello.so */
    .kind = FWD_KIND_TRANSPORT,
    .version = "1.0.0",
    .description = "example transport: logs every Nth uplink and counts TX results",
    .options = hello_option_table,
    .subscriptions = FWD_TOPIC_BIT(FWD_TOPIC_UPLINK) | FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT),
    .check = hello_check,
    .create = hello_create,
    .start = hello_start,
    .stop = hello_stop,
    .destroy = hello_destroy,
    .deliver = hello_deliver,
    /* lead_time_us, counter_now, transmit: radio plugins only, NULL here. */
};

/* The one exported symbol. The host offers the ABI versions it speaks; we speak only
 * version 1, so we pick it if offered and otherwise decline by returning NULL. */
FWD_PLUGIN_EXPORT const void* forwarder_plugin_entry(const uint32_t* offered, size_t n_offered,
                                                     uint32_t* chosen);

FWD_PLUGIN_EXPORT const void* forwarder_plugin_entry(const uint32_t* offered, size_t n_offered,
                                                     uint32_t* chosen)
{
    for (size_t i = 0; i < n_offered; ++i) {
        if (offered[i] == FWD_ABI_VERSION_1) {
            *chosen = FWD_ABI_VERSION_1;
            return &hello_descriptor;
        }
    }
    return NULL;
}
