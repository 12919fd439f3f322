// The CUPS bootstrap: asks a CUPS server (POST /update-info) for the LNS address and
// credentials (and its own), stores them atomically, hands them to the LNS transport over
// the bus, keeps a last-known-good set and a factory (boot) set, and falls back
// regular → last-good → boot when CUPS or the LNS keeps rejecting.
#include "credential_store.hpp"
#include "cups_codec.hpp"
#include "lns_codec.hpp"
#include "text.hpp"
#include "tls_client.hpp"

#include "forwarder.pb.h"

#include <forwarder/plugin.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace forwarder::cups {
namespace {

namespace fs = std::filesystem;

const fwd_option kOptions[] = {
    {"uri", FWD_OPT_STRING, 0, nullptr,
     "CUPS server https://host:port (e.g. https://eu1.cloud.thethings.network:443)"},
    {"trust", FWD_OPT_STRING, 0, nullptr, "CA certificate(s) of the CUPS server, PEM or DER"},
    {"key", FWD_OPT_STRING, 0, nullptr,
     "token file (`Authorization: Bearer ...`) or client private key"},
    {"cert", FWD_OPT_STRING, 0, nullptr, "client certificate for mutual TLS"},
    {"tls_verify_hostname", FWD_OPT_BOOL, 0, "true", "check the server certificate's host name"},
    {"interval", FWD_OPT_INT, 0, "86400", "seconds between CUPS contacts after a success"},
    {"retry", FWD_OPT_INT, 0, "60",
     "seconds before retrying after a failure (doubles up to interval)"},
    {"state_dir", FWD_OPT_STRING, 0, "/var/lib/forwarder",
     "where credential sets and updates are kept"},
    {"sig_keys", FWD_OPT_LIST, 0, "[]", "files of raw 64-byte P-256 public keys that sign updates"},
    {"station_dir", FWD_OPT_STRING, 0, nullptr,
     "a Basic Station home directory: cups.*, tc.* and sig-N.key are adopted as the boot sets"},
    {"update_command", FWD_OPT_STRING, 0, nullptr,
     "absolute path of a program run with the path of an accepted update (default: log only)"},
    {"router_eui", FWD_OPT_STRING, 0, "gateway EUI", "router id sent to CUPS (16 hex or ID6)"},
    {"model", FWD_OPT_STRING, 0, "linux", "`model` in the request"},
    {"package", FWD_OPT_STRING, 0, nullptr, "`package` (firmware version) in the request"},
    {"timeout_s", FWD_OPT_INT, 0, "60", "connection and response timeout"},
    {nullptr, 0, 0, nullptr, nullptr}};

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using support::trim;

struct CupsOptions {
    CredentialSet cups;              // configured CUPS set (becomes the boot set)
    std::optional<CredentialSet> tc; // a station directory's tc.* (boot set of the LNS)
    bool verify_hostname = true;
    uint32_t interval_s = 86400;
    uint32_t retry_s = 60;
    uint32_t timeout_s = 60;
    std::string state_dir = "/var/lib/forwarder";
    std::vector<std::string> sig_keys; // raw key contents
    std::string update_command;
    std::optional<uint64_t> router_eui;
    std::string model = "linux";
    std::optional<std::string> package;

    static CupsOptions parse(const std::string& yaml)
    {
        YAML::Node n;
        try {
            n = YAML::Load(yaml);
        } catch (const YAML::Exception& e) {
            throw sdk::Error(std::string("options: invalid YAML: ") + e.what());
        }
        auto str = [&](const char* k) { return n[k] ? n[k].as<std::string>() : std::string(); };
        auto file = [&](const char* option, const std::string& path) {
            if (path.empty()) {
                return std::string();
            }
            if (!fs::exists(path)) {
                throw sdk::Error(std::string(option) + ": no such file " + path);
            }
            return read_file(path);
        };
        CupsOptions o;
        const std::string station = str("station_dir");
        if (!station.empty() && !fs::is_directory(station)) {
            throw sdk::Error("station_dir: " + station + " is not a directory");
        }
        auto from_station = [&](const std::string& name) {
            const fs::path p = fs::path(station) / name;
            return !station.empty() && fs::exists(p) ? read_file(p.string()) : std::string();
        };
        o.cups.uri = trim(n["uri"] ? str("uri") : from_station("cups.uri"));
        o.cups.trust = n["trust"] ? file("trust", str("trust")) : from_station("cups.trust");
        o.cups.cert = n["cert"] ? file("cert", str("cert")) : from_station("cups.crt");
        o.cups.key = n["key"] ? file("key", str("key")) : from_station("cups.key");
        if (o.cups.uri.empty()) {
            throw sdk::Error("uri: missing (set `uri`, or `station_dir` with a cups.uri file)");
        }
        if (!valid_cups_uri(o.cups.uri)) {
            throw sdk::Error("uri: expected http(s)://host:port without a path, got '" +
                             o.cups.uri + "'");
        }
        if (o.cups.uri.rfind("https://", 0) == 0 && o.cups.trust.empty()) {
            throw sdk::Error("trust: an https:// CUPS URI needs the server's CA (`trust`)");
        }
        const bool private_key =
            !o.cups.key.empty() && (o.cups.key.find("-----BEGIN") != std::string::npos ||
                                    static_cast<unsigned char>(o.cups.key[0]) == 0x30);
        if (private_key && o.cups.cert.empty()) {
            throw sdk::Error("key: a private key needs the client certificate (`cert`)");
        }
        if (!o.cups.key.empty() && !private_key) {
            std::string normalised, why;
            if (!normalise_token(o.cups.key, normalised, why)) {
                throw sdk::Error("key: " + why);
            }
        }
        if (!station.empty() && fs::exists(fs::path(station) / "tc.uri")) {
            CredentialSet tc;
            tc.uri = trim(from_station("tc.uri"));
            tc.trust = from_station("tc.trust");
            tc.cert = from_station("tc.crt");
            tc.key = from_station("tc.key");
            o.tc = tc;
        }
        if (n["tls_verify_hostname"]) {
            o.verify_hostname = n["tls_verify_hostname"].as<bool>();
        }
        auto number = [&](const char* k, uint32_t min, uint32_t max, uint32_t fallback) {
            if (!n[k]) {
                return fallback;
            }
            const auto v = n[k].as<int64_t>();
            if (v < min || v > max) {
                throw sdk::Error(std::string(k) + ": expected " + std::to_string(min) + ".." +
                                 std::to_string(max));
            }
            return static_cast<uint32_t>(v);
        };
        o.interval_s = number("interval", 1, 30 * 86400, o.interval_s);
        o.retry_s = number("retry", 1, 86400, o.retry_s);
        o.timeout_s = number("timeout_s", 1, 600, o.timeout_s);
        if (n["state_dir"]) {
            o.state_dir = str("state_dir");
        }
        std::vector<std::string> key_files;
        if (n["sig_keys"]) {
            if (!n["sig_keys"].IsSequence()) {
                throw sdk::Error("sig_keys: expected a list of files");
            }
            for (const auto& k : n["sig_keys"]) {
                key_files.push_back(k.as<std::string>());
            }
        }
        for (int i = 0; !station.empty(); ++i) { // sig-0.key, sig-1.key, ... until one is missing
            const fs::path p = fs::path(station) / ("sig-" + std::to_string(i) + ".key");
            if (!fs::exists(p)) {
                break;
            }
            if (fs::file_size(p) == 64) { // other sizes are skipped, as the reference does
                key_files.push_back(p.string());
            }
        }
        for (const auto& f : key_files) {
            const std::string key = file("sig_keys", f);
            if (key.size() != 64) {
                throw sdk::Error("sig_keys: " + f + " is not a raw 64-byte P-256 public key (" +
                                 std::to_string(key.size()) + " bytes)");
            }
            o.sig_keys.push_back(key);
        }
        o.update_command = str("update_command");
        if (!o.update_command.empty() && o.update_command[0] != '/') {
            throw sdk::Error("update_command: must be an absolute path");
        }
        if (n["router_eui"]) {
            uint64_t eui = 0;
            if (!lns::parse_eui(str("router_eui"), eui)) {
                throw sdk::Error("router_eui: expected 16 hex digits or an ID6");
            }
            o.router_eui = eui;
        }
        if (n["model"]) {
            o.model = str("model");
        }
        if (n["package"]) {
            o.package = str("package");
        }
        return o;
    }
};

class CupsBootstrap : public sdk::Plugin {
public:
    CupsBootstrap(sdk::Host host, const fwd_create_info_v1& info, const std::string& yaml)
        : host_(host), gateway_eui_(info.gateway_eui), options_(CupsOptions::parse(yaml)),
          rng_(std::random_device{}())
    {
    }
    ~CupsBootstrap() override { stop(); }

    static void check(const std::string& yaml) { CupsOptions::parse(yaml); }

    void start() override
    {
        std::error_code ec;
        fs::create_directories(options_.state_dir, ec);
        ::chmod(options_.state_dir.c_str(), 0700);
        if (!fs::is_directory(options_.state_dir)) {
            throw sdk::Error("state_dir: cannot create " + options_.state_dir);
        }
        try {
            store_.emplace(options_.state_dir + "/credentials");
            store_->recover();
            // The configured sets are the factory (boot) sets, stored when they changed. A
            // changed configuration also retires what CUPS delivered for that category (an
            // empty set is never used), so the operator's new settings take effect.
            auto configure = [&](Category cat, const CredentialSet& configured) {
                const auto stored = store_->load(Slot::boot, cat);
                if (stored == configured) {
                    return;
                }
                store_->store(Slot::boot, cat, configured);
                if (stored) {
                    host_.info(std::string("configured ") + category_name(cat) +
                               " settings changed: delivered sets retired");
                    store_->store(Slot::regular, cat, CredentialSet{});
                    store_->store(Slot::last_good, cat, CredentialSet{});
                }
            };
            configure(Category::cups, options_.cups);
            if (options_.tc) {
                configure(Category::tc, *options_.tc);
            }
        } catch (const std::exception& e) {
            throw sdk::Error(std::string("state_dir: ") + e.what());
        }
        ssl_.emplace();
        running_ = true;
        thread_ = std::thread([this] { run(); });
    }

    void stop() override
    {
        if (!running_.exchange(false)) {
            return;
        }
        {
            std::lock_guard lock(mutex_);
            wake_ = true;
            if (live_fd_ >= 0) {
                ::shutdown(live_fd_, SHUT_RDWR);
            }
        }
        cv_.notify_all();
        thread_.join();
        ssl_.reset();
    }

    void deliver(uint32_t topic, std::string_view bytes) override
    {
        if (topic != FWD_TOPIC_LINK_STATUS) {
            return;
        }
        forwarder::v1::LinkStatus s;
        if (!s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || s.target() != "tc") {
            return;
        }
        std::lock_guard lock(mutex_);
        if (s.generation() != published_generation_) {
            return; // about a set we no longer hand out
        }
        if (s.state() == forwarder::v1::LinkStatus::CONNECTED) {
            lns_ok_generation_ = s.generation();
            lns_failures_ = 0;
        } else {
            // REJECTED comes at every refusal, FAILING once per 3 network failures in a row.
            ++lns_failures_;
        }
        link_changed_ = true;
        wake_ = true;
        cv_.notify_all();
    }

private:
    class Watch : public lns::SocketWatch {
    public:
        explicit Watch(CupsBootstrap& o) : o_(o) {}
        bool attach(int fd) override
        {
            std::lock_guard lock(o_.mutex_);
            o_.live_fd_ = fd;
            return o_.running_.load();
        }
        void detach() override
        {
            std::lock_guard lock(o_.mutex_);
            o_.live_fd_ = -1;
        }

    private:
        CupsBootstrap& o_;
    };

    // --- The schedule ------------------------------------------------------------------

    void run()
    {
        publish_tc(); // start the LNS on what we have, in parallel with CUPS (§8)
        uint32_t failures = 0;
        uint32_t immediate = 0;
        auto due = std::chrono::steady_clock::now();
        while (running_) {
            if (std::chrono::steady_clock::now() >= due) {
                bool again_now = false;
                bool ok = false;
                try {
                    ok = contact(again_now);
                } catch (const std::exception& e) {
                    failure(std::string("CUPS: unexpected error: ") + e.what());
                }
                if (!running_) {
                    break; // a contact cut short by stop() is no failure
                }
                // At most two contacts in a row right away (a new CUPS set, §8); a server
                // that keeps handing out new CUPS settings waits for the normal schedule.
                again_now = again_now && ++immediate <= 2;
                if (!again_now) {
                    immediate = 0;
                }
                failures = ok ? 0 : failures + 1;
                if (!ok && failures % 3 == 0) {
                    rotate_cups(); // regular → last good → boot
                }
                double wait_s = options_.interval_s;
                if (again_now) {
                    wait_s = 0;
                } else if (!ok) {
                    wait_s = std::min<double>(options_.retry_s *
                                                  std::pow(2.0, std::min(failures - 1, 16u)),
                                              options_.interval_s);
                }
                wait_s *= std::uniform_real_distribution<double>(0.9, 1.1)(rng_);
                due = std::chrono::steady_clock::now() +
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(wait_s));
            }
            {
                std::unique_lock lock(mutex_);
                cv_.wait_until(lock, due, [&] { return wake_ || !running_; });
                wake_ = false;
            }
            handle_link_status();
            if (contact_soon_) {
                contact_soon_ = false;
                due = std::min(due, std::chrono::steady_clock::now() +
                                        std::chrono::seconds(options_.retry_s));
            }
        }
    }

    // The LNS reports how our credentials work: a connection proves the set (it becomes the
    // last known good one); repeated rejection falls back to last-good, then boot, and asks
    // CUPS again soon.
    void handle_link_status()
    {
        uint64_t ok_generation = 0;
        uint32_t failures = 0;
        {
            std::lock_guard lock(mutex_);
            if (!link_changed_) {
                return;
            }
            link_changed_ = false;
            ok_generation = lns_ok_generation_;
            failures = lns_failures_;
        }
        if (failures == 0 && ok_generation == generation_ && tc_slot_ == Slot::regular) {
            auto regular = store_->load(Slot::regular, Category::tc);
            if (regular && store_->load(Slot::last_good, Category::tc) != regular) {
                try {
                    store_->store(Slot::last_good, Category::tc, *regular);
                    host_.info("LNS credentials proven: kept as the last known good set");
                } catch (const std::exception& e) {
                    host_.error(std::string("cannot keep the last known good LNS set: ") +
                                e.what());
                }
            }
            return;
        }
        if (failures >= 3) {
            {
                std::lock_guard lock(mutex_);
                lns_failures_ = 0;
            }
            contact_soon_ = true; // CUPS may know better credentials (§8)
            // The next stored set after the current one: regular → last good → boot → regular.
            constexpr Slot kOrder[] = {Slot::regular, Slot::last_good, Slot::boot};
            const int current = static_cast<int>(tc_slot_);
            std::optional<Slot> next;
            for (int k = 1; k <= 2 && !next; ++k) {
                const Slot candidate = kOrder[(current + k) % 3];
                if (store_->load(candidate, Category::tc)) {
                    next = candidate;
                }
            }
            if (next) {
                host_.warn(std::string("the LNS keeps failing with the ") + slot_name(tc_slot_) +
                           " set: falling back to the " + slot_name(*next) + " set");
                tc_slot_ = *next;
                publish_tc();
            }
        }
    }

    void rotate_cups()
    {
        for (int i = 0; i < 3; ++i) {
            cups_slot_ = cups_slot_ == Slot::regular     ? Slot::last_good
                         : cups_slot_ == Slot::last_good ? Slot::boot
                                                         : Slot::regular;
            if (store_->load(cups_slot_, Category::cups)) {
                host_.info(std::string("CUPS: trying the ") + slot_name(cups_slot_) + " set");
                return;
            }
        }
    }

    // Publishes the LNS set in use (the regular one once CUPS delivered it).
    void publish_tc()
    {
        for (Slot slot : {tc_slot_, Slot::regular, Slot::last_good, Slot::boot}) {
            auto paths = store_->paths(slot, Category::tc);
            auto set = store_->load(slot, Category::tc);
            if (!paths || !set || set->uri.empty()) {
                continue;
            }
            tc_slot_ = slot;
            forwarder::v1::Credentials c;
            c.set_target("tc");
            c.set_uri(set->uri);
            c.set_trust_path(paths->trust);
            c.set_cert_path(paths->cert);
            c.set_key_path(paths->key);
            c.set_generation(++generation_);
            c.set_set(slot_name(slot));
            {
                std::lock_guard lock(mutex_);
                published_generation_ = generation_;
                lns_failures_ = 0;
            }
            host_.publish(FWD_TOPIC_CREDENTIALS, c.SerializeAsString());
            return;
        }
    }

    // --- One CUPS contact -------------------------------------------------------------

    std::optional<CredentialSet> cups_set()
    {
        for (Slot slot : {cups_slot_, Slot::regular, Slot::last_good, Slot::boot}) {
            if (auto set = store_->load(slot, Category::cups); set && !set->uri.empty()) {
                cups_slot_ = slot;
                return set;
            }
        }
        return std::nullopt;
    }

    bool contact(bool& again_now)
    {
        auto set = cups_set();
        if (!set) {
            host_.error("CUPS: no usable credential set");
            return false;
        }
        const auto regular_cups = store_->load(Slot::regular, Category::cups);
        const auto regular_tc = store_->load(Slot::regular, Category::tc);
        UpdateInfoRequest req;
        req.router = options_.router_eui.value_or(gateway_eui_);
        if (regular_cups && !regular_cups->uri.empty()) {
            req.cups_uri = regular_cups->uri;
        }
        if (regular_tc && !regular_tc->uri.empty()) {
            req.tc_uri = regular_tc->uri;
        }
        req.cups_cred_crc = store_->crc(Slot::regular, Category::cups);
        req.tc_cred_crc = store_->crc(Slot::regular, Category::tc);
        req.station = std::string("forwarder ") + FORWARDER_CUPS_VERSION;
        req.model = options_.model;
        req.package = options_.package;
        for (const auto& k : options_.sig_keys) {
            req.keys.push_back(crc32(k));
        }
        std::string body;
        std::string where;
        try {
            body = post(*set, encode_update_info_request(req), where);
        } catch (const std::exception& e) {
            failure(e.what());
            return false;
        }
        UpdateInfoResponse answer;
        std::string why;
        if (!decode_update_info_response(body, answer, why)) {
            failure("CUPS " + where + ": malformed answer (" + std::to_string(body.size()) +
                    " bytes): " + why + "; keeping the current credentials");
            return false;
        }
        last_failure_.clear();
        host_.stat_add("contacts_ok");
        if (cups_slot_ != Slot::regular && regular_cups) {
            host_.info(std::string("CUPS answered with the ") + slot_name(cups_slot_) + " set");
        }
        // A CUPS set that got a 200 is good: keep it as the last known good one.
        if (cups_slot_ == Slot::regular && store_->load(Slot::last_good, Category::cups) != set) {
            try {
                store_->store(Slot::last_good, Category::cups, *set);
            } catch (const std::exception& e) {
                host_.error(std::string("cannot keep the last known good CUPS set: ") + e.what());
            }
        }
        cups_slot_ = Slot::regular; // a success returns to the regular set (§9.3)
        // CUPS confirmed (or replaces below) the regular LNS set: use it again after a fallback.
        if (tc_slot_ != Slot::regular && req.tc_uri && !answer.tc_uri && !answer.tc_credentials) {
            tc_slot_ = Slot::regular;
            publish_tc();
        }
        if (answer.empty()) {
            host_.debug("CUPS: nothing changed");
            return true;
        }
        // Content CUPS got wrong is refused (and logged) by apply(); it is no reason to move
        // away from a CUPS set that answers.
        if (answer.tc_uri || answer.tc_credentials) {
            apply(Category::tc, answer.tc_uri, answer.tc_credentials);
        }
        if ((answer.cups_uri || answer.cups_credentials) &&
            apply(Category::cups, answer.cups_uri, answer.cups_credentials)) {
            cups_slot_ = Slot::regular;
            again_now = true; // contact CUPS right away with its new settings (§8)
        }
        if (!answer.update.empty()) {
            handle_update(answer);
        }
        return true;
    }

    // Commits a category's new URI and credentials together, or nothing (§9.4).
    bool apply(Category cat, const std::optional<std::string>& uri,
               const std::optional<std::string>& blob)
    {
        CredentialSet next;
        for (Slot slot : {Slot::regular, Slot::last_good, Slot::boot}) {
            if (auto s = store_->load(slot, cat); s && !s->uri.empty()) {
                next = *s; // parts the answer does not replace are kept
                break;
            }
        }
        if (uri) {
            next.uri = *uri;
        }
        if (blob) {
            CredentialParts parts;
            std::string why;
            if (!parse_credential_blob(*blob, parts, why)) {
                failure(std::string("CUPS: the ") + category_name(cat) +
                        " credentials are malformed: " + why + "; keeping the current set");
                return false;
            }
            next.trust = parts.trust;
            next.cert = parts.cert;
            next.key = parts.key;
            if (parts.token) {
                // Stored exactly as received, so the CRC we report equals crc32(blob) and the
                // server sees the set as unchanged (§5); the LNS normalises line ends itself.
                next.key =
                    blob->substr(parts.trust.size() + (parts.cert.empty() ? 4 : parts.cert.size()));
            }
        }
        if (store_->load(Slot::regular, cat) == next) {
            host_.debug(std::string("CUPS: the ") + category_name(cat) + " set is unchanged");
            return false; // nothing to switch to
        }
        try {
            store_->store(Slot::regular, cat, next);
        } catch (const std::exception& e) {
            failure(std::string("CUPS: cannot store the new ") + category_name(cat) +
                    " set: " + e.what());
            return false;
        }
        host_.info(std::string("CUPS: new ") + category_name(cat) + " set stored (" +
                   (uri ? "URI " + *uri : std::string("same URI")) +
                   (blob ? ", new credentials" : "") + ")");
        host_.stat_add(cat == Category::tc ? "tc_updates" : "cups_updates");
        if (cat == Category::tc) {
            tc_slot_ = Slot::regular;
            publish_tc();
        }
        return true;
    }

    void handle_update(const UpdateInfoResponse& answer)
    {
        bool verified = false;
        std::string why = "unsigned update";
        if (!answer.signature.empty()) {
            // The key the server names by its CRC first, then every other key (§7).
            std::vector<const std::string*> order;
            for (const auto& k : options_.sig_keys) {
                if (answer.signature_key_crc && crc32(k) == *answer.signature_key_crc) {
                    order.insert(order.begin(), &k);
                } else {
                    order.push_back(&k);
                }
            }
            why =
                order.empty() ? "signed update, but no sig_keys configured" : "no key verifies it";
            for (const auto* k : order) {
                std::string error;
                if (verify_update_signature(answer.update, answer.signature, *k, error)) {
                    verified = true;
                    break;
                }
            }
        }
        const bool accepted = verified || (answer.signature.empty() && options_.sig_keys.empty());
        if (!accepted) {
            host_.stat_add("updates_refused");
            host_.error("CUPS: update of " + std::to_string(answer.update.size()) +
                        " bytes refused: " + why);
            return;
        }
        const fs::path dir = fs::path(options_.state_dir) / "update";
        const fs::path file = dir / "update.bin";
        try {
            fs::create_directories(dir);
            ::chmod(dir.c_str(), 0700);
            const fs::path tmp = dir / "update.bin.tmp";
            FileOps& ops = real_file_ops(); // written and fsynced, then renamed in place
            ops.write_file(tmp.string(), answer.update);
            ::chmod(tmp.c_str(), 0700);
            ops.rename(tmp.string(), file.string());
            ops.sync_dir(dir.string());
        } catch (const std::exception& e) {
            host_.error(std::string("CUPS: cannot store the update: ") + e.what());
            return;
        }
        host_.stat_add("updates_accepted");
        host_.info("CUPS: update of " + std::to_string(answer.update.size()) + " bytes " +
                   (verified ? "verified" : "(unsigned, no keys configured)") + " and stored as " +
                   file.string());
        if (options_.update_command.empty()) {
            return; // log only
        }
        std::vector<std::string> args{options_.update_command, file.string()};
        std::vector<char*> argv{args[0].data(), args[1].data(), nullptr};
        // The command gets none of our descriptors (sockets, credential files).
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
        pid_t pid = 0;
        const int spawned =
            posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (spawned != 0) {
            host_.error("CUPS: cannot run update_command " + options_.update_command);
            return;
        }
        host_.info("CUPS: started " + options_.update_command + " (pid " + std::to_string(pid) +
                   ")");
        try {
            std::thread([pid] {
                int status = 0;
                waitpid(pid, &status, 0);
            }).detach();
        } catch (const std::exception&) {
            // Without a thread the child is reaped by nobody until we exit; harmless.
        }
    }

    // POST /update-info; returns the body of a 200 answer, throws std::runtime_error otherwise.
    std::string post(const CredentialSet& set, const std::string& json, std::string& where)
    {
        const bool tls = set.uri.rfind("https://", 0) == 0;
        const std::string rest = set.uri.substr(tls ? 8 : 7);
        const auto colon = rest.rfind(':');
        std::string host = rest.substr(0, colon);
        if (host.size() > 2 && host.front() == '[') {
            host = host.substr(1, host.size() - 2);
        }
        const auto port = static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)));
        where = set.uri;
        // The TLS client reads credentials from files: use the stored set's own files.
        lns::Credentials credentials;
        credentials.verify_hostname = options_.verify_hostname;
        const auto paths = store_->paths(cups_slot_, Category::cups);
        if (paths) {
            auto non_empty = [](const std::string& p) {
                std::error_code ec;
                return fs::file_size(p, ec) > 0 && !ec;
            };
            if (non_empty(paths->trust)) {
                credentials.trust_file = paths->trust;
            }
            if (non_empty(paths->key)) {
                if (!lns::read_token_file(paths->key, credentials.token_headers)) {
                    credentials.key_file = paths->key;
                    credentials.cert_file = paths->cert;
                }
            }
        }
        Watch watch(*this);
        const Poco::Timespan timeout(static_cast<long>(options_.timeout_s), 0);
        Poco::Net::StreamSocket stream;
        try {
            stream = lns::open_stream(host, port, tls, credentials, timeout, &watch);
        } catch (const lns::ConnectError& e) {
            throw std::runtime_error("CUPS " + where + ": " + e.what());
        }
        struct Detach {
            Watch& w;
            ~Detach() { w.detach(); }
        } detach{watch};
        try {
            Poco::Net::HTTPClientSession session(stream);
            session.setTimeout(timeout);
            Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/update-info",
                                           Poco::Net::HTTPMessage::HTTP_1_1);
            request.set("Host", (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                    ":" + std::to_string(port));
            request.setContentType("application/json");
            request.setContentLength(static_cast<std::streamsize>(json.size()));
            if (tls) { // never send a token in the clear
                for (const auto& [name, value] : credentials.token_headers) {
                    request.add(name, value);
                }
            }
            session.sendRequest(request) << json;
            Poco::Net::HTTPResponse response;
            std::istream& in = session.receiveResponse(response);
            if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
                host_.stat_add("contacts_rejected");
                throw std::runtime_error("CUPS " + where + ": HTTP " +
                                         std::to_string(static_cast<int>(response.getStatus())) +
                                         " " + response.getReason());
            }
            constexpr size_t kMax = 16u << 20;
            if (response.hasContentLength() &&
                response.getContentLength64() > static_cast<Poco::Int64>(kMax)) {
                throw std::runtime_error("CUPS " + where + ": answer of " +
                                         std::to_string(response.getContentLength64()) +
                                         " bytes is larger than 16 MiB");
            }
            std::string body;
            char buf[8192];
            while (in.read(buf, sizeof buf) || in.gcount() > 0) {
                body.append(buf, static_cast<size_t>(in.gcount()));
                if (body.size() > kMax) {
                    throw std::runtime_error("CUPS " + where + ": answer larger than 16 MiB");
                }
            }
            if (response.hasContentLength() &&
                body.size() != static_cast<size_t>(response.getContentLength64())) {
                throw std::runtime_error("CUPS " + where + ": truncated answer (" +
                                         std::to_string(body.size()) + " of " +
                                         std::to_string(response.getContentLength64()) + " bytes)");
            }
            return body;
        } catch (const std::runtime_error&) {
            throw;
        } catch (const std::exception& e) {
            throw std::runtime_error("CUPS " + where + ": " + lns::current_failure(host).what());
        }
    }

    void failure(const std::string& cause)
    {
        host_.stat_add("contacts_failed");
        if (cause != last_failure_) {
            host_.warn(cause);
            last_failure_ = cause;
        } else {
            host_.debug(cause + " (again)");
        }
    }

    sdk::Host host_;
    uint64_t gateway_eui_;
    CupsOptions options_;
    std::optional<CredentialStore> store_;
    std::optional<lns::SslLibrary> ssl_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::mt19937_64 rng_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool wake_ = false;
    int live_fd_ = -1;
    bool link_changed_ = false;
    uint64_t lns_ok_generation_ = 0;
    uint64_t published_generation_ = 0;
    uint32_t lns_failures_ = 0;
    // CUPS thread only:
    Slot cups_slot_ = Slot::regular;
    Slot tc_slot_ = Slot::regular;
    uint64_t generation_ = 0;
    bool contact_soon_ = false;
    std::string last_failure_;
};

} // namespace
} // namespace forwarder::cups

FORWARDER_PLUGIN(forwarder::cups::CupsBootstrap, "cups", FWD_KIND_BOOTSTRAP, FORWARDER_CUPS_VERSION,
                 "CUPS bootstrap: fetches and updates LNS and CUPS credentials, signed updates",
                 forwarder::cups::kOptions, FWD_TOPIC_BIT(FWD_TOPIC_LINK_STATUS))
