/*
 * forwarder plugin ABI — plain C, versioned.
 *
 * A plugin is a shared object named `forwarder-<name>.so` that exports exactly one
 * symbol, FWD_PLUGIN_ENTRY_SYMBOL ("forwarder_plugin_entry"):
 *
 *     const void *forwarder_plugin_entry(const uint32_t *offered, size_t n_offered,
 *                                        uint32_t *chosen);
 *
 * Version negotiation: the host offers every ABI version it speaks (`offered`, newest
 * first). The plugin picks one it also speaks, writes it to `*chosen`, and returns a
 * pointer to its descriptor for that version (version 1: `const fwd_plugin_v1 *`;
 * version 2: `const fwd_plugin_v2 *`, which starts with a complete version-1 table).
 * A plugin that speaks none of the offered versions returns NULL. Nothing else is
 * negotiated, so the ABI grows by adding versions; a plugin built against version 1
 * keeps loading in every host that still offers version 1.
 *
 * Everything the plugin owns is an opaque `void *` handle to the host, and everything
 * the host owns is an opaque `fwd_host *` to the plugin. Events cross the ABI as
 * serialized protobuf messages of package `forwarder.v1` (see forwarder.proto, which
 * is installed next to this header); the topic number says which message it is.
 *
 * Threading: `create`, `start`, `stop` and `destroy` are called from the host's main
 * thread, in that order, never concurrently. `deliver` is called from one host thread
 * per plugin instance (never concurrently with itself) between `start` and `stop`.
 * Radio calls (`counter_now`, `transmit`, `channel_clear`) come from the scheduler thread
 * between `start` and `stop`; `last_pps` and `counter_now` also from the clock thread. Host
 * services may be called from any thread at any time between `create` and `destroy`, and never
 * block on the network.
 *
 * Build plugins with hidden visibility (-fvisibility=hidden) and export only the entry
 * symbol with FWD_PLUGIN_EXPORT. The host loads them with RTLD_NOW | RTLD_LOCAL.
 */
#ifndef FORWARDER_PLUGIN_H
#define FORWARDER_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FWD_PLUGIN_ENTRY_SYMBOL "forwarder_plugin_entry"
#define FWD_PLUGIN_EXPORT __attribute__((visibility("default")))

/* ABI versions. The host offers all it speaks; the plugin picks one.
 * Version 2 adds radio capabilities (listen before talk, PPS) to version 1; a version-1
 * plugin keeps working and is treated as having none of them. */
#define FWD_ABI_VERSION_1 1u
#define FWD_ABI_VERSION_2 2u
#define FWD_ABI_VERSION_CURRENT FWD_ABI_VERSION_2

typedef const void* (*fwd_plugin_entry_fn)(const uint32_t* offered, size_t n_offered,
                                           uint32_t* chosen);

/* What a plugin is. */
typedef enum fwd_plugin_kind {
    FWD_KIND_RADIO = 1,     /* a concentrator driver: publishes Uplink, transmits TxRequest */
    FWD_KIND_TRANSPORT = 2, /* an uplink transport: receives Uplink, publishes TxRequest */
    FWD_KIND_BOOTSTRAP = 3  /* fetches transport settings/credentials (e.g. CUPS) */
} fwd_plugin_kind;

/* Event topics. The payload of each is the serialized forwarder.v1 message named. */
typedef enum fwd_topic {
    FWD_TOPIC_UPLINK = 1,         /* forwarder.v1.Uplink       radio -> transports */
    FWD_TOPIC_TX_REQUEST = 2,     /* forwarder.v1.TxRequest    transport -> scheduler */
    FWD_TOPIC_TX_RESULT = 3,      /* forwarder.v1.TxResult     scheduler -> transports */
    FWD_TOPIC_RADIO_CONFIG = 4,   /* forwarder.v1.RadioConfig  transport -> radios */
    FWD_TOPIC_GATEWAY_STATS = 5,  /* forwarder.v1.GatewayStats core -> transports */
    FWD_TOPIC_CREDENTIALS = 6,    /* forwarder.v1.Credentials  bootstrap -> transports */
    FWD_TOPIC_LINK_STATUS = 7,    /* forwarder.v1.LinkStatus   transports -> bootstrap */
    FWD_TOPIC_TIME_REFERENCE = 8, /* forwarder.v1.TimeReference transports -> core clock */
    FWD_TOPIC_TIME_STATUS = 9,    /* forwarder.v1.TimeStatus   core -> transports (every 10 s
                                     and on every change) */
    FWD_TOPIC_COUNT_ = 10         /* one past the last topic; not a topic (grows with the ABI) */
} fwd_topic;

/* Bit for a topic in fwd_plugin_v1.subscriptions. */
#define FWD_TOPIC_BIT(topic) (1u << (unsigned)(topic))

typedef enum fwd_log_level {
    FWD_LOG_TRACE = 0,
    FWD_LOG_DEBUG = 1,
    FWD_LOG_INFO = 2,
    FWD_LOG_WARN = 3,
    FWD_LOG_ERROR = 4
} fwd_log_level;

/* Return codes of plugin calls and host services. */
#define FWD_OK 0
#define FWD_ERROR (-1)
/* ABI 2, radio calls only: `transmit` or `channel_clear` found the channel busy (listen
 * before talk). The scheduler then tries the frame's alternatives. */
#define FWD_BUSY (-2)

/* Opaque host handle, one per plugin instance. */
typedef struct fwd_host fwd_host;

/*
 * Services the host offers to a plugin instance (ABI version 1). The table stays valid
 * until `destroy` returns. `struct_size` lets later versions append members.
 */
typedef struct fwd_host_api_v1 {
    uint32_t struct_size;
    /* Publish one event. Never blocks: each subscriber has a bounded queue that drops
     * its oldest event when full (the drop is counted). Returns FWD_OK, or FWD_ERROR for
     * an unknown topic or a topic this plugin kind may not publish. */
    int (*publish)(fwd_host* host, uint32_t topic, const void* data, size_t len);
    /* Log one line (no trailing newline needed) at a fwd_log_level. Never log secrets. */
    void (*log)(fwd_host* host, int level, const char* message);
    /* Monotonic clock in microseconds (CLOCK_MONOTONIC), the one clock of the process. */
    uint64_t (*monotonic_us)(fwd_host* host);
    /* Add to a named counter of this instance (created at 0 on first use); the name is
     * copied. Counters appear in GatewayStats as "<instance>.<name>". */
    void (*stat_add)(fwd_host* host, const char* name, int64_t delta);
    /* Set a named gauge of this instance. */
    void (*stat_set)(fwd_host* host, const char* name, int64_t value);
} fwd_host_api_v1;

/* Facts about the instance being created. `struct_size` lets later versions append. */
typedef struct fwd_create_info_v1 {
    uint32_t struct_size;
    const char* instance_name; /* e.g. "radio0", "capture"; unique in the process */
    int32_t radio_index;       /* radio plugins: index in `radios:`; others: -1 */
    uint64_t gateway_eui;      /* the gateway EUI (0 when `auto` could not be resolved) */
    const char* config_path;   /* the YAML file the options came from (for messages) */
} fwd_create_info_v1;

/* Option types for the declared option table. */
typedef enum fwd_option_type {
    FWD_OPT_STRING = 1,
    FWD_OPT_INT = 2,
    FWD_OPT_FLOAT = 3,
    FWD_OPT_BOOL = 4,
    FWD_OPT_LIST = 5, /* a YAML sequence */
    FWD_OPT_MAP = 6   /* a YAML mapping */
} fwd_option_type;

/*
 * One option a plugin accepts under its `options:` key. The host checks the user's
 * options against this table (unknown key, wrong type, missing required option) before
 * calling `check`/`create`, and prints it for `forwarder --describe <plugin>`.
 * The table ends with an entry whose `name` is NULL.
 */
typedef struct fwd_option {
    const char* name;
    uint32_t type;             /* fwd_option_type */
    int required;              /* non-zero: must be present */
    const char* default_value; /* shown by --describe; NULL if none */
    const char* description;
} fwd_option;

/*
 * Plugin descriptor, ABI version 1. Returned by the entry function; must stay valid
 * while the plugin is loaded. Function pointers marked optional may be NULL.
 *
 * Error reporting: calls that take (err, err_len) write one NUL-terminated line there
 * on failure. If the line starts with "<option>: " naming a key of the plugin's
 * options, the host reports the file, line and column of that key.
 */
typedef struct fwd_plugin_v1 {
    uint32_t abi_version; /* must be FWD_ABI_VERSION_1 */
    const char* name;     /* must equal <name> of forwarder-<name>.so */
    uint32_t kind;        /* fwd_plugin_kind */
    const char* version;  /* the plugin's own version, e.g. "1.2.0" */
    const char* description;
    const fwd_option* options; /* declared options; may be NULL for "none" */
    uint32_t subscriptions;    /* FWD_TOPIC_BIT()s of topics delivered to `deliver` */

    /* Optional: validate `config_yaml` (the YAML text of `options:`, possibly "{}")
     * without touching hardware or network. Used by --check-config. */
    int (*check)(const char* config_yaml, char* err, size_t err_len);

    /* Create an instance. Returns an opaque handle, or NULL with `err` filled. Must not
     * start threads or open devices; that is what `start` is for. */
    void* (*create)(fwd_host* host, const fwd_host_api_v1* api, const fwd_create_info_v1* info,
                    const char* config_yaml, char* err, size_t err_len);
    /* Open devices/sockets, start threads. FWD_OK or FWD_ERROR with `err` filled. */
    int (*start)(void* self, char* err, size_t err_len);
    /* Stop threads and close devices; must return within 500 ms. */
    void (*stop)(void* self);
    /* Free the instance. */
    void (*destroy)(void* self);

    /* Optional: receive one event of a subscribed topic. `data` is valid only during the
     * call. Must not block for long: it runs on this instance's delivery thread. */
    void (*deliver)(void* self, uint32_t topic, const void* data, size_t len);

    /* Radio plugins only (required for FWD_KIND_RADIO, NULL otherwise). */
    /* Hand-over lead: the scheduler calls `transmit` this many µs before TX time. */
    uint32_t (*lead_time_us)(void* self);
    /* Read the free-running 32-bit µs concentrator counter. FWD_OK or FWD_ERROR. */
    int (*counter_now)(void* self, uint32_t* count_us);
    /* Program one frame (a serialized forwarder.v1.TxRequest whose timing is resolved to
     * `count_us`, the counter value at which the preamble starts). Called once, about
     * lead_time_us before `count_us`. FWD_OK, or FWD_ERROR with `err` filled. */
    int (*transmit)(void* self, const void* tx_request, size_t len, uint32_t count_us, char* err,
                    size_t err_len);
} fwd_plugin_v1;

/* Radio capabilities (fwd_plugin_v2.radio_capabilities). */
#define FWD_RADIO_CAP_LBT (1u << 0) /* channel_clear() senses the channel (listen before talk) */
#define FWD_RADIO_CAP_PPS (1u << 1) /* last_pps() reports the counter latched at PPS edges */

/*
 * Plugin descriptor, ABI version 2: a complete version-1 table (whose abi_version is 2)
 * followed by members that version 1 lacks. `struct_size` lets later versions append.
 */
typedef struct fwd_plugin_v2 {
    fwd_plugin_v1 v1;
    uint32_t struct_size;        /* sizeof(fwd_plugin_v2) as the plugin was built */
    uint32_t radio_capabilities; /* FWD_RADIO_CAP_* bits; 0 for non-radio plugins */

    /* Optional (FWD_RADIO_CAP_LBT): listen before talk for a frame about to be handed
     * over: is `frequency_hz` (channel `bandwidth_hz` wide) clear for `airtime_us` from
     * counter value `count_us`? Called from the scheduler thread just before `transmit`.
     * FWD_OK = clear, FWD_BUSY = busy, FWD_ERROR = could not tell (treated as busy).
     * A driver whose hardware senses inside its transmit call returns FWD_BUSY from
     * `transmit` instead; the scheduler handles both. */
    int (*channel_clear)(void* self, uint64_t frequency_hz, uint32_t bandwidth_hz,
                         uint32_t count_us, uint32_t airtime_us);
    /* Optional (FWD_RADIO_CAP_PPS): the counter value latched at the most recent PPS edge
     * and the host monotonic time (µs) of that edge as well as the driver knows it.
     * FWD_OK, or FWD_ERROR when no PPS edge was seen in the last two seconds. Called
     * from the core's clock thread a few times per second. */
    int (*last_pps)(void* self, uint32_t* count_us, uint64_t* edge_mono_us);
} fwd_plugin_v2;

#ifdef __cplusplus
}
#endif

#endif /* FORWARDER_PLUGIN_H */
