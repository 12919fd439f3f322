/* Deliberately broken plugins for the loader's tests, one per BROKEN_* define. */
#include <forwarder/plugin.h>

#include <stdio.h>
#include <string.h>

#define UNUSED __attribute__((unused))

UNUSED static void* create_ok(fwd_host* host, const fwd_host_api_v1* api,
                              const fwd_create_info_v1* info, const char* yaml, char* err,
                              size_t err_len)
{
    (void)host;
    (void)api;
    (void)info;
    (void)yaml;
    (void)err;
    (void)err_len;
    static int instance;
    return &instance;
}

UNUSED static void* create_fail(fwd_host* host, const fwd_host_api_v1* api,
                                const fwd_create_info_v1* info, const char* yaml, char* err,
                                size_t err_len)
{
    (void)host;
    (void)api;
    (void)info;
    (void)yaml;
    snprintf(err, err_len, "level: must be between 1 and 3");
    return NULL;
}

static int start_ok(void* self, char* err, size_t err_len)
{
    (void)self;
    (void)err;
    (void)err_len;
    return FWD_OK;
}
static void stop_ok(void* self)
{
    (void)self;
}
static void destroy_ok(void* self)
{
    (void)self;
}

static const fwd_option options[] = {{"level", FWD_OPT_INT, 0, "1", "a number between 1 and 3"},
                                     {NULL, 0, 0, NULL, NULL}};

UNUSED static const fwd_plugin_v1 descriptor = {FWD_ABI_VERSION_1,
                                                PLUGIN_NAME,
                                                FWD_KIND_TRANSPORT,
                                                "0.0.1",
                                                "broken on purpose",
                                                options,
                                                0,
                                                NULL,
#ifdef BROKEN_CREATE
                                                create_fail,
#else
                                                 create_ok,
#endif
                                                start_ok,
                                                stop_ok,
                                                destroy_ok,
                                                NULL,
                                                NULL,
                                                NULL,
                                                NULL};

#ifndef BROKEN_NO_ENTRY
FWD_PLUGIN_EXPORT const void* forwarder_plugin_entry(const uint32_t* offered, size_t n,
                                                     uint32_t* chosen)
{
#ifdef BROKEN_ABI
    /* Speaks only a future ABI version the host does not offer. */
    for (size_t i = 0; i < n; ++i) {
        if (offered[i] == 99) {
            *chosen = 99;
            return &descriptor;
        }
    }
    return NULL;
#else
    for (size_t i = 0; i < n; ++i) {
        if (offered[i] == FWD_ABI_VERSION_1) {
            *chosen = FWD_ABI_VERSION_1;
            return &descriptor;
        }
    }
    return NULL;
#endif
}
#else
/* Exports something, but not the entry symbol. */
FWD_PLUGIN_EXPORT int forwarder_plugin_v0(void)
{
    return 0;
}
#endif
