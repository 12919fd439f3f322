#pragma once
// The protocol between the daemon and a radio worker process (`forwarder --radio-worker FD`),
// over a SOCK_SEQPACKET socketpair: one message per packet, so no framing. Each message is
// a header {uint32 type; uint32 request_id} and a payload of little-endian fields
// (u32, u64, i64, and strings as u32 length + bytes). Requests are answered by a REPLY with
// the same request_id; PUBLISH, LOG, STAT_* and DELIVER are never answered.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace forwarder::core::worker {

enum Type : uint32_t {
    // daemon -> worker
    INIT = 1,          // str plugin_dir, str plugin, str instance, u32 radio_index, u64 eui,
                       // str config_path, str options_yaml -> REPLY{v1 abi, v2 caps, v3 lead}
    START = 2,         // -> REPLY{v3 lead_time_us}
    STOP = 3,          // -> REPLY
    DELIVER = 4,       // u32 topic, str bytes
    COUNTER_NOW = 5,   // -> REPLY{v1 count_us}
    TRANSMIT = 6,      // u32 count_us, str tx_request -> REPLY{rc, text}
    CHANNEL_CLEAR = 7, // u64 frequency_hz, u32 bandwidth_hz, u32 count_us, u32 airtime_us
    LAST_PPS = 8,      // -> REPLY{v1 count_us, v3 edge_mono_us}
    // worker -> daemon
    REPLY = 16,    // i32 rc, u32 v1, u32 v2, u64 v3, str text
    PUBLISH = 17,  // u32 topic, str bytes
    LOG = 18,      // u32 level, str text
    STAT_ADD = 19, // str name, i64 value
    STAT_SET = 20, // str name, i64 value
};

constexpr size_t kMaxMessage = 256 * 1024;

class Writer {
public:
    Writer(uint32_t type, uint32_t request_id)
    {
        u32(type);
        u32(request_id);
    }
    Writer& u32(uint32_t v) { return raw(&v, sizeof v); }
    Writer& u64(uint64_t v) { return raw(&v, sizeof v); }
    Writer& i64(int64_t v) { return raw(&v, sizeof v); }
    Writer& str(std::string_view s)
    {
        u32(static_cast<uint32_t>(s.size()));
        return raw(s.data(), s.size());
    }
    const std::string& bytes() const { return out_; }

private:
    Writer& raw(const void* p, size_t n)
    {
        out_.append(static_cast<const char*>(p), n);
        return *this;
    }
    std::string out_;
};

// Reads fields in order; a short message yields zeros/empty strings and ok() == false.
class Reader {
public:
    Reader(const char* data, size_t len) : p_(data), end_(data + len) {}
    uint32_t u32() { return get<uint32_t>(); }
    uint64_t u64() { return get<uint64_t>(); }
    int64_t i64() { return get<int64_t>(); }
    std::string str()
    {
        const uint32_t n = u32();
        if (static_cast<size_t>(end_ - p_) < n) {
            ok_ = false;
            p_ = end_;
            return {};
        }
        std::string s(p_, n);
        p_ += n;
        return s;
    }
    bool ok() const { return ok_; }

private:
    template <class T> T get()
    {
        T v{};
        if (static_cast<size_t>(end_ - p_) < sizeof v) {
            ok_ = false;
            p_ = end_;
            return v;
        }
        std::memcpy(&v, p_, sizeof v);
        p_ += sizeof v;
        return v;
    }
    const char* p_;
    const char* end_;
    bool ok_ = true;
};

struct Reply {
    int32_t rc = -1;
    uint32_t v1 = 0, v2 = 0;
    uint64_t v3 = 0;
    std::string text;
};

inline std::string reply_message(uint32_t request_id, const Reply& r)
{
    return Writer(REPLY, request_id)
        .u32(static_cast<uint32_t>(r.rc))
        .u32(r.v1)
        .u32(r.v2)
        .u64(r.v3)
        .str(r.text)
        .bytes();
}

inline Reply parse_reply(Reader& in)
{
    Reply r;
    r.rc = static_cast<int32_t>(in.u32());
    r.v1 = in.u32();
    r.v2 = in.u32();
    r.v3 = in.u64();
    r.text = in.str();
    return r;
}

} // namespace forwarder::core::worker
