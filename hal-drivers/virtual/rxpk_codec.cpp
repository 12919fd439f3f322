#include "rxpk_codec.hpp"

#include "base64.hpp"
#include "lora_text.hpp"

#include <forwarder/plugin.hpp>

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <typeinfo>

namespace forwarder::virtual_radio {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::string_view kDatrLoRaExpected = "\"SF<5..12>BW<125|250|500>\"";

// --- Text helpers -------------------------------------------------------------------

void append_uint(std::string& out, uint64_t value)
{
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)ec;
    out.append(buffer, end);
}

// Shortest text that reads back as the same float; whole values print as integers.
void append_float(std::string& out, float value)
{
    char buffer[48];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)ec;
    out.append(buffer, end);
}

// Hz as MHz with exactly six decimals, computed on integers (no rounding surprises).
void append_mhz(std::string& out, uint64_t hz)
{
    append_uint(out, hz / 1000000);
    out.push_back('.');
    char digits[6];
    uint64_t fraction = hz % 1000000;
    for (int i = 5; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + fraction % 10);
        fraction /= 10;
    }
    out.append(digits, sizeof digits);
}

// A value from the network, quoted for an error message: printable ASCII only, short.
std::string quote(std::string_view text)
{
    constexpr size_t kMax = 40;
    std::string out = "\"";
    size_t n = 0;
    for (unsigned char c : text) {
        if (n++ == kMax) {
            out += "...";
            break;
        }
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        }
    }
    out.push_back('"');
    return out;
}

// Replaces line breaks so an error always stays on one line.
std::string one_line(std::string text)
{
    for (char& c : text) {
        if (c == '\n' || c == '\r' || c == '\t') {
            c = ' ';
        }
    }
    return text;
}

// What a JSON value is, for "got ..." in error messages.
std::string describe(const Var& value)
{
    try {
        if (value.isEmpty()) {
            return "null";
        }
        if (value.isBoolean()) {
            return value.extract<bool>() ? "true" : "false";
        }
        if (value.isString()) {
            return quote(value.extract<std::string>());
        }
        if (value.isNumeric()) {
            return value.convert<std::string>();
        }
        if (value.type() == typeid(Object::Ptr)) {
            return "an object";
        }
        if (value.type() == typeid(Array::Ptr)) {
            return "an array";
        }
    } catch (const std::exception&) {
    }
    return "a value of another type";
}

// --- Typed access to JSON values ----------------------------------------------------

bool is_number(const Var& value)
{
    return !value.isBoolean() && value.isNumeric();
}

bool get_double(const Var& value, double& out)
{
    if (!is_number(value)) {
        return false;
    }
    try {
        out = value.convert<double>();
    } catch (const Poco::Exception&) {
        return false;
    }
    return std::isfinite(out);
}

bool get_int(const Var& value, int64_t min, int64_t max, int64_t& out)
{
    if (!is_number(value) || !value.isInteger()) {
        return false;
    }
    try {
        if (value.type() == typeid(Poco::UInt64)) {
            const auto u = value.extract<Poco::UInt64>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                return false;
            }
            out = static_cast<int64_t>(u);
        } else {
            out = value.convert<Poco::Int64>();
        }
    } catch (const Poco::Exception&) {
        return false;
    }
    return out >= min && out <= max;
}

const std::string* get_string(const Var& value)
{
    if (!value.isString()) {
        return nullptr;
    }
    return &value.extract<std::string>();
}

// --- One rxpk item ------------------------------------------------------------------

class ItemDecoder {
public:
    ItemDecoder(size_t index, std::string& error) : index_(index), error_(error) {}

    bool decode(const Object& item, const RxContext& context, v1::Uplink& up)
    {
        const Var* freq = nullptr;
        const Var* modu = nullptr;
        const Var* datr = nullptr;
        const Var* codr = nullptr;
        const Var* data = nullptr;
        const Var* size = nullptr;
        const Var* rssi = nullptr;
        const Var* rssis = nullptr;
        const Var* lsnr = nullptr;
        const Var* chan = nullptr;
        const Var* rfch = nullptr;
        const Var* foff = nullptr;
        const Var* tmst = nullptr;
        const Var* stat = nullptr;
        struct Field {
            std::string_view name;
            const Var** slot;
        };
        const Field fields[] = {
            {"freq", &freq}, {"modu", &modu}, {"datr", &datr},   {"codr", &codr}, {"data", &data},
            {"size", &size}, {"rssi", &rssi}, {"rssis", &rssis}, {"lsnr", &lsnr}, {"chan", &chan},
            {"rfch", &rfch}, {"foff", &foff}, {"tmst", &tmst},   {"stat", &stat}};
        // One pass over the item; other Semtech fields (time, tmms, brd, ...) are ignored,
        // and a JSON null counts as absent.
        for (const auto& [key, value] : item) {
            if (value.isEmpty()) {
                continue;
            }
            for (const Field& field : fields) {
                if (field.name == key) {
                    *field.slot = &value;
                    break;
                }
            }
        }

        up.set_radio(context.radio);
        up.set_received_mono_us(context.received_mono_us);

        // freq (MHz) -> frequency_hz
        double mhz = 0;
        if (freq == nullptr) {
            return fail("freq", "missing, expected the frequency in MHz (e.g. 868.1)");
        }
        if (!get_double(*freq, mhz) || mhz <= 0 || mhz > 10000) {
            return fail("freq", "expected a frequency in MHz (a number > 0 and <= 10000), got " +
                                    describe(*freq));
        }
        up.set_frequency_hz(static_cast<uint64_t>(std::llround(mhz * 1e6)));

        // modu + datr (+ codr for LoRa) -> modulation
        bool fsk = false;
        if (modu != nullptr) {
            const std::string* text = get_string(*modu);
            if (text != nullptr && *text == "FSK") {
                fsk = true;
            } else if (text == nullptr || *text != "LORA") {
                return fail("modu", "expected \"LORA\" or \"FSK\", got " + describe(*modu));
            }
        } else if (datr != nullptr && is_number(*datr)) {
            fsk = true; // a numeric data rate can only be an FSK bitrate
        }
        if (datr == nullptr) {
            return fail("datr", fsk ? "missing, expected the FSK bitrate in bit/s"
                                    : "missing, expected " + std::string(kDatrLoRaExpected));
        }
        if (fsk) {
            int64_t bitrate = 0;
            if (!get_int(*datr, 1, 1000000, bitrate)) {
                return fail("datr",
                            "expected an FSK bitrate in bit/s (an integer 1..1000000), got " +
                                describe(*datr));
            }
            up.mutable_modulation()->mutable_fsk()->set_bitrate(static_cast<uint32_t>(bitrate));
        } else {
            const std::string* text = get_string(*datr);
            uint32_t sf = 0;
            uint32_t bw = 0;
            if (text == nullptr || !support::parse_lora_datr(*text, sf, bw)) {
                return fail("datr", "expected " + std::string(kDatrLoRaExpected) + ", got " +
                                        describe(*datr));
            }
            v1::CodingRate rate = v1::CODING_RATE_UNSPECIFIED;
            if (codr == nullptr) {
                return fail("codr",
                            "missing, expected \"4/5\", \"4/6\", \"4/7\", \"4/8\" or \"OFF\"");
            }
            const std::string* codr_text = get_string(*codr);
            if (codr_text == nullptr || !support::parse_coding_rate(*codr_text, rate)) {
                return fail("codr", "expected \"4/5\", \"4/6\", \"4/7\", \"4/8\" or \"OFF\", got " +
                                        describe(*codr));
            }
            v1::LoRa* lora = up.mutable_modulation()->mutable_lora();
            lora->set_spreading_factor(sf);
            lora->set_bandwidth_hz(bw);
            lora->set_coding_rate(rate);
        }

        // data (base64) -> payload; size must agree when present
        if (data == nullptr) {
            return fail("data", "missing, expected the payload in base64");
        }
        const std::string* data_text = get_string(*data);
        if (data_text == nullptr) {
            return fail("data", "expected a base64 string, got " + describe(*data));
        }
        if (!support::base64_decode(*data_text, *up.mutable_payload())) {
            return fail("data", "not valid base64: " + quote(*data_text));
        }
        if (size != nullptr) {
            int64_t n = 0;
            if (!get_int(*size, 0, 65535, n)) {
                return fail("size", "expected the payload length in bytes, got " + describe(*size));
            }
            if (static_cast<uint64_t>(n) != up.payload().size()) {
                std::string what = std::to_string(n) + " does not match the " +
                                   std::to_string(up.payload().size()) + " bytes of data";
                return fail("size", what);
            }
        }

        // Signal quality (optional, default 0).
        double number = 0;
        if (rssi != nullptr) {
            if (!get_double(*rssi, number)) {
                return fail("rssi", "expected a number of dBm, got " + describe(*rssi));
            }
            up.set_rssi_channel_dbm(static_cast<float>(number));
        }
        if (rssis != nullptr) {
            if (!get_double(*rssis, number)) {
                return fail("rssis", "expected a number of dBm, got " + describe(*rssis));
            }
            up.set_rssi_signal_dbm(static_cast<float>(number));
        }
        if (lsnr != nullptr) {
            if (!get_double(*lsnr, number)) {
                return fail("lsnr", "expected a number of dB, got " + describe(*lsnr));
            }
            up.set_snr_db(static_cast<float>(number));
        }

        // Chains, frequency offset, timestamp, CRC status.
        int64_t integer = 0;
        if (chan != nullptr) {
            if (!get_int(*chan, 0, std::numeric_limits<uint32_t>::max(), integer)) {
                return fail("chan", "expected an IF chain number >= 0, got " + describe(*chan));
            }
            up.set_if_chain(static_cast<uint32_t>(integer));
        }
        if (rfch != nullptr) {
            if (!get_int(*rfch, 0, std::numeric_limits<uint32_t>::max(), integer)) {
                return fail("rfch", "expected an RF chain number >= 0, got " + describe(*rfch));
            }
            up.set_rf_chain(static_cast<uint32_t>(integer));
        }
        if (foff != nullptr) {
            if (!get_int(*foff, std::numeric_limits<int32_t>::min(),
                         std::numeric_limits<int32_t>::max(), integer)) {
                return fail("foff", "expected a frequency offset in Hz (an integer), got " +
                                        describe(*foff));
            }
            up.set_frequency_offset_hz(static_cast<int32_t>(integer));
        }
        if (tmst != nullptr) {
            if (!get_int(*tmst, 0, std::numeric_limits<uint32_t>::max(), integer)) {
                return fail("tmst", "expected a counter value (an integer 0..4294967295), got " +
                                        describe(*tmst));
            }
            up.set_count_us(static_cast<uint32_t>(integer));
        } else {
            up.set_count_us(context.counter_now);
        }
        up.set_crc(v1::CRC_OK);
        if (stat != nullptr) {
            if (!get_int(*stat, -1, 1, integer)) {
                return fail("stat", "expected 1 (CRC OK), -1 (CRC bad) or 0 (no CRC), got " +
                                        describe(*stat));
            }
            up.set_crc(integer == 1 ? v1::CRC_OK : integer == -1 ? v1::CRC_BAD : v1::CRC_NONE);
        }
        return true;
    }

private:
    bool fail(std::string_view field, const std::string& what)
    {
        error_ = "rxpk[" + std::to_string(index_) + "]." + std::string(field) + ": " + what;
        return false;
    }

    size_t index_;
    std::string& error_;
};

// --- One busy window ----------------------------------------------------------------

// Decodes busy[index] into `window`; on failure sets `error` and returns false.
bool decode_busy_window(size_t index, const Var& item, BusyWindow& window, std::string& error)
{
    const std::string prefix = "busy[" + std::to_string(index) + "]";
    if (item.type() != typeid(Object::Ptr)) {
        error = prefix + ": expected an object {\"freq\":MHz,\"from_us\":N,\"to_us\":M}, got " +
                describe(item);
        return false;
    }
    const Object& object = *item.extract<Object::Ptr>();
    const Var* freq = nullptr;
    const Var* from = nullptr;
    const Var* to = nullptr;
    // Other members are ignored; a JSON null counts as absent.
    for (const auto& [key, value] : object) {
        if (value.isEmpty()) {
            continue;
        }
        if (key == "freq") {
            freq = &value;
        } else if (key == "from_us") {
            from = &value;
        } else if (key == "to_us") {
            to = &value;
        }
    }

    double mhz = 0;
    if (freq == nullptr) {
        error = prefix + ".freq: missing, expected the frequency in MHz (e.g. 868.1)";
        return false;
    }
    if (!get_double(*freq, mhz) || mhz <= 0 || mhz > 10000) {
        error = prefix + ".freq: expected a frequency in MHz (a number > 0 and <= 10000), got " +
                describe(*freq);
        return false;
    }
    window.frequency_hz = static_cast<uint64_t>(std::llround(mhz * 1e6));

    const auto counter = [&](const char* name, const Var* var, uint32_t& out) {
        constexpr std::string_view kCounter = "a counter value (an integer 0..4294967295)";
        int64_t value = 0;
        if (var == nullptr) {
            error = prefix + "." + name + ": missing, expected " + std::string(kCounter);
            return false;
        }
        if (!get_int(*var, 0, std::numeric_limits<uint32_t>::max(), value)) {
            error = prefix + "." + name + ": expected " + std::string(kCounter) + ", got " +
                    describe(*var);
            return false;
        }
        out = static_cast<uint32_t>(value);
        return true;
    };
    if (!counter("from_us", from, window.from_us) || !counter("to_us", to, window.to_us)) {
        return false;
    }
    // Counter values wrap at 2^32: to_us must lie within 2^31 - 1 us after from_us.
    if (static_cast<int32_t>(window.to_us - window.from_us) <= 0) {
        error = prefix + ".to_us: expected a counter value after from_us " +
                std::to_string(window.from_us) +
                " (exclusive end, at most 2147483647 us later), got " +
                std::to_string(window.to_us);
        return false;
    }
    return true;
}

} // namespace

// --- Public functions -----------------------------------------------------------------

bool RxpkDecoder::decode(std::string_view datagram, const RxContext& context,
                         std::vector<v1::Uplink>& out, std::string& error)
{
    return decode_any(datagram, context, out, nullptr, error);
}

bool RxpkDecoder::decode(std::string_view datagram, const RxContext& context,
                         std::vector<v1::Uplink>& out, BusyUpdate& busy, std::string& error)
{
    return decode_any(datagram, context, out, &busy, error);
}

bool RxpkDecoder::decode_any(std::string_view datagram, const RxContext& context,
                             std::vector<v1::Uplink>& out, BusyUpdate* busy, std::string& error)
{
    // Without `busy` (the rxpk-only form) the messages stay exactly as they always were.
    const std::string_view kExpected =
        busy == nullptr ? "expected a JSON object {\"rxpk\":[...]}"
                        : "expected a JSON object {\"rxpk\":[...]} or {\"busy\":[...]}";
    error.clear();
    const auto clear_busy = [busy] {
        if (busy != nullptr) {
            busy->present = false;
            busy->windows.clear();
        }
    };
    clear_busy();

    const size_t first = datagram.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        out.clear();
        error = "empty datagram, " + std::string(kExpected);
        return false;
    }
    if (datagram[first] != '{' && datagram[first] != '[') {
        out.clear();
        error = std::string(kExpected) + ", got " + quote(datagram.substr(first, 20));
        return false;
    }

    Var root;
    text_.assign(datagram);
    try {
        parser_.reset();
        root = parser_.parse(text_);
    } catch (const Poco::Exception& e) {
        out.clear();
        error = "not JSON: " + one_line(e.message().empty() ? e.displayText() : e.message());
        return false;
    } catch (const std::exception& e) {
        out.clear();
        error = "not JSON: " + one_line(e.what());
        return false;
    }

    if (root.type() != typeid(Object::Ptr)) {
        out.clear();
        error = std::string(kExpected) + ", got " + describe(root);
        return false;
    }
    const Object& object = *root.extract<Object::Ptr>();
    const Var* rxpk = nullptr;
    const Var* busy_list = nullptr;
    for (const auto& [key, value] : object) {
        if (value.isEmpty()) {
            continue; // a JSON null counts as absent
        }
        if (key == "rxpk") {
            rxpk = &value;
        } else if (key == "busy" && busy != nullptr) {
            busy_list = &value;
        }
    }
    if (busy_list != nullptr) {
        if (busy_list->type() != typeid(Array::Ptr)) {
            out.clear();
            error = "busy: expected an array of busy windows, got " + describe(*busy_list);
            return false;
        }
        const Array::Ptr& windows = busy_list->extract<Array::Ptr>();
        busy->windows.resize(windows->size());
        size_t index = 0;
        for (const Var& item : *windows) {
            if (!decode_busy_window(index, item, busy->windows[index], error)) {
                busy->windows.clear();
                out.clear();
                return false;
            }
            ++index;
        }
        busy->present = true;
        if (rxpk == nullptr) {
            out.clear();
            return true;
        }
    }
    if (rxpk == nullptr) {
        out.clear();
        error = "rxpk: missing, " + std::string(kExpected);
        return false;
    }
    if (rxpk->type() != typeid(Array::Ptr)) {
        out.clear();
        clear_busy();
        error = "rxpk: expected an array of frames, got " + describe(*rxpk);
        return false;
    }
    const Array::Ptr& items = rxpk->extract<Array::Ptr>();

    // Reuse the messages already in `out` (their buffers) where possible.
    out.resize(items->size());
    size_t index = 0;
    for (const Var& item : *items) {
        v1::Uplink& up = out[index];
        up.Clear();
        if (item.type() != typeid(Object::Ptr)) {
            error =
                "rxpk[" + std::to_string(index) + "]: expected an object, got " + describe(item);
            out.clear();
            clear_busy();
            return false;
        }
        ItemDecoder decoder(index, error);
        if (!decoder.decode(*item.extract<Object::Ptr>(), context, up)) {
            out.clear();
            clear_busy();
            return false;
        }
        ++index;
    }
    return true;
}

DecodeResult decode_rxpk(std::string_view datagram, const RxContext& context)
{
    DecodeResult result;
    RxpkDecoder decoder;
    decoder.decode(datagram, context, result.uplinks, result.error);
    return result;
}

DecodeResult decode_datagram(std::string_view datagram, const RxContext& context)
{
    DecodeResult result;
    RxpkDecoder decoder;
    decoder.decode(datagram, context, result.uplinks, result.busy, result.error);
    return result;
}

std::string format_tx_log_line(const v1::TxRequest& request, uint32_t count_us,
                               uint32_t handed_at_us)
{
    if (!std::isfinite(request.power_dbm())) {
        throw sdk::Error("tx_request: power_dbm is not a finite number");
    }
    const v1::Modulation& modulation = request.modulation();
    if (modulation.kind_case() == v1::Modulation::KIND_NOT_SET) {
        throw sdk::Error("tx_request: no modulation (expected lora or fsk)");
    }

    const std::string data = support::base64_encode(request.payload());
    std::string line;
    line.reserve(200 + data.size());
    line += "{\"count_us\":";
    append_uint(line, count_us);
    line += ",\"handed_at_us\":";
    append_uint(line, handed_at_us);
    line += ",\"freq\":";
    append_mhz(line, request.frequency_hz());
    line += ",\"datr\":";
    if (modulation.has_lora()) {
        const v1::LoRa& lora = modulation.lora();
        line += "\"SF";
        append_uint(line, lora.spreading_factor());
        line += "BW";
        if (lora.bandwidth_hz() % 1000 == 0) {
            append_uint(line, lora.bandwidth_hz() / 1000);
        } else {
            char buffer[32];
            auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer,
                                           static_cast<double>(lora.bandwidth_hz()) / 1000.0);
            (void)ec;
            line.append(buffer, end);
        }
        line += "\",\"codr\":";
        if (const char* name = support::coding_rate_name(lora.coding_rate())) {
            line += '"';
            line += name;
            line += '"';
        } else {
            line += "null"; // not specified by the requester
        }
    } else {
        append_uint(line, modulation.fsk().bitrate());
        line += ",\"codr\":null"; // FSK has no coding rate
    }
    line += ",\"powe\":";
    append_float(line, request.power_dbm());
    line += request.invert_iq() ? ",\"ipol\":true" : ",\"ipol\":false";
    line += ",\"size\":";
    append_uint(line, request.payload().size());
    line += ",\"data\":\"";
    line += data;
    line += "\",\"imme\":";
    const bool immediate =
        request.timing().when_case() == v1::TxTiming::kImmediate && request.timing().immediate();
    line += immediate ? "true" : "false";
    line += '}';
    return line;
}

} // namespace forwarder::virtual_radio
