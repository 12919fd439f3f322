// End-to-end tests of the CUPS bootstrap: the real forwarder (virtual radio, cups plugin,
// the implicit lns transport) against a CUPS server of our own over HTTPS on 127.0.0.1
// (in this process, Poco) and forwarder-lns-sim as the LNS it names.
#include "harness.hpp"
#include "lns_sim.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

using namespace forwarder::testing;
using namespace std::chrono_literals;
using Poco::JSON::Object;

namespace {

const std::string kBinary = FORWARDER_BINARY;
const std::string kPluginDir = FORWARDER_PLUGIN_DIR;
const std::string kSourceDir = FORWARDER_SOURCE_DIR;

std::string le16(size_t v)
{
    return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
}
std::string le32(uint32_t v)
{
    return {static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF),
            static_cast<char>((v >> 16) & 0xFF), static_cast<char>(v >> 24)};
}

uint32_t crc32(const std::string& data)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : data) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

// An update-info answer in the reference encoding (cups.md §3).
std::string answer(const std::string& cups_uri, const std::string& tc_uri,
                   const std::string& cups_cred, const std::string& tc_cred,
                   const std::string& sig = "", uint32_t key_crc = 0, const std::string& upd = "")
{
    std::string b;
    b += static_cast<char>(cups_uri.size()) + cups_uri;
    b += static_cast<char>(tc_uri.size()) + tc_uri;
    b += le16(cups_cred.size()) + cups_cred;
    b += le16(tc_cred.size()) + tc_cred;
    b += sig.empty() ? le32(0) : le32(static_cast<uint32_t>(sig.size() + 4)) + le32(key_crc) + sig;
    b += le32(static_cast<uint32_t>(upd.size())) + upd;
    return b;
}

struct Reply {
    int status = 200;
    std::string body;
};

class CupsServer {
public:
    using Handler = std::function<Reply(const Object::Ptr& request)>;

    CupsServer(const std::string& certs, Handler handler) : handler_(std::move(handler))
    {
        Poco::Net::Context::Params params;
        params.certificateFile = certs + "/server.pem";
        params.privateKeyFile = certs + "/server.key";
        params.verificationMode = Poco::Net::Context::VERIFY_NONE;
        Poco::Net::Context::Ptr ctx =
            new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
        Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, ctx);
        port_ = socket.address().port();
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket,
                                                          new Poco::Net::HTTPServerParams);
        server_->start();
    }
    ~CupsServer() { server_->stopAll(true); }
    int port() const { return port_; }
    void set(Handler h)
    {
        std::lock_guard lock(mutex_);
        handler_ = std::move(h);
    }
    std::vector<Object::Ptr> requests()
    {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::vector<std::string> authorizations()
    {
        std::lock_guard lock(mutex_);
        return authorizations_;
    }
    std::vector<Object::Ptr> wait_requests(size_t n, std::chrono::milliseconds timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (requests().size() < n && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        return requests();
    }

private:
    class Handle : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handle(CupsServer& s) : s_(s) {}
        void handleRequest(Poco::Net::HTTPServerRequest& req,
                           Poco::Net::HTTPServerResponse& resp) override
        {
            std::stringstream body;
            body << req.stream().rdbuf();
            Object::Ptr json;
            try {
                json = Poco::JSON::Parser().parse(body.str()).extract<Object::Ptr>();
            } catch (...) {
            }
            Reply reply{404, ""};
            if (req.getURI() == "/update-info" && req.getMethod() == "POST" && json) {
                std::lock_guard lock(s_.mutex_);
                s_.requests_.push_back(json);
                s_.authorizations_.push_back(req.get("Authorization", ""));
                reply = s_.handler_(json);
            }
            resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
            resp.setContentType("application/octet-stream");
            resp.setContentLength(static_cast<std::streamsize>(reply.body.size()));
            resp.send() << reply.body;
        }

    private:
        CupsServer& s_;
    };
    class Factory : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(CupsServer& s) : s_(s) {}
        Poco::Net::HTTPRequestHandler*
        createRequestHandler(const Poco::Net::HTTPServerRequest&) override
        {
            return new Handle(s_);
        }

    private:
        CupsServer& s_;
    };

    Handler handler_;
    std::mutex mutex_;
    std::vector<Object::Ptr> requests_;
    std::vector<std::string> authorizations_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    int port_ = 0;
};

class CupsTest : public ::testing::Test {
protected:
    CupsTest()
    {
        static bool ssl = (Poco::Net::initializeSSL(), true);
        (void)ssl;
        certs_ = dir_ / "certs";
        std::string out, err;
        EXPECT_EQ(run({"/bin/bash", kSourceDir + "/tests/integration/make_certs.sh", certs_}, out,
                      err, 60s),
                  0)
            << err;
        trust_der_ = read_file(certs_ + "/ca.der");
        radio_port_ = free_udp_port();
    }

    std::string tc_blob(const std::string& token = "Authorization: Bearer LNS-KEY\r\n") const
    {
        return trust_der_ + std::string(4, '\0') + token;
    }

    std::unique_ptr<Process> start(int cups_port, const std::string& extra = "",
                                   const std::string& trust = "ca.pem")
    {
        const std::string cfg = dir_ / "forwarder.yaml";
        write_file(cfg, "gateway:\n  eui: \"0016c001ff10a235\"\n  log: {level: debug}\n"
                        "plugin_dir: " +
                            kPluginDir +
                            "\nradios:\n  - driver: virtual\n    options:\n"
                            "      uplink_udp: \"127.0.0.1:" +
                            std::to_string(radio_port_) +
                            "\"\ntransports:\n  - plugin: cups\n    options:\n"
                            "      uri: \"https://127.0.0.1:" +
                            std::to_string(cups_port) + "\"\n      trust: " + certs_ + "/" + trust +
                            "\n      key: " + certs_ + "/tc.key\n      state_dir: " +
                            (dir_ / "state") + "\n" + extra + "stats: {interval_s: 0}\n");
        auto p = std::make_unique<Process>(std::vector<std::string>{kBinary, "--config", cfg},
                                           dir_.path());
        EXPECT_TRUE(p->wait_for_err("] running", 10s)) << p->err();
        return p;
    }

    static void stop(Process& p)
    {
        p.signal(SIGTERM);
        int code = -1;
        ASSERT_TRUE(p.wait(5s, code));
        EXPECT_EQ(code, 0) << p.err();
    }

    std::string rxpk() const
    {
        return R"({"rxpk":[{"freq":868.1,"datr":"SF7BW125","codr":"4/5","rssi":-42,"lsnr":7,)"
               R"("data":"QCofASYABwABqrvMESIzRA=="}]})";
    }

    TempDir dir_;
    std::string certs_;
    std::string trust_der_;
    int radio_port_ = 0;
};

} // namespace

TEST_F(CupsTest, FirstBootstrapWithoutAnyLnsConfiguration)
{
    Sim sim(dir_);
    ASSERT_NE(sim.port(), 0);
    const std::string tc_uri = "ws://127.0.0.1:" + std::to_string(sim.port());
    const std::string blob = tc_blob();
    CupsServer cups(certs_, [&](const Object::Ptr& req) {
        // Unchanged → empty answer: the server recognises the set by its CRC (cups.md §5).
        if (!req->isNull("tcUri") && req->getValue<std::string>("tcUri") == tc_uri &&
            req->getValue<uint32_t>("tcCredCrc") == crc32(blob)) {
            return Reply{200, std::string(14, '\0')};
        }
        return Reply{200, answer("", tc_uri, "", blob)};
    });
    {
        auto fwd = start(cups.port());
        const auto reqs = cups.wait_requests(1, 10s);
        ASSERT_GE(reqs.size(), 1u) << fwd->err();
        EXPECT_EQ(reqs[0]->getValue<std::string>("router"), "16:c001:ff10:a235");
        EXPECT_TRUE(reqs[0]->isNull("tcUri"));
        EXPECT_EQ(reqs[0]->getValue<uint32_t>("tcCredCrc"), 2077607535u);
        EXPECT_EQ(cups.authorizations()[0], "Bearer NNSXS.TESTTOKEN");
        // The LNS comes up on what CUPS named: no lns entry, no LNS URI anywhere.
        ASSERT_TRUE(sim.wait_for("version", 1, 10s)) << fwd->err();
        send_udp(radio_port_, rxpk());
        EXPECT_TRUE(sim.wait_for("updf", 1, 10s)) << fwd->err();
        EXPECT_EQ(fwd->err().find("NNSXS.TESTTOKEN"), std::string::npos) << "token in the log";
        EXPECT_EQ(fwd->err().find("LNS-KEY"), std::string::npos) << "token in the log";
        stop(*fwd);
    }
    // After a restart: the stored set is reported (same CRC), CUPS answers "nothing
    // changed", and the LNS is reached from the stored set.
    {
        auto fwd = start(cups.port());
        const auto reqs = cups.wait_requests(2, 10s);
        ASSERT_GE(reqs.size(), 2u);
        EXPECT_EQ(reqs[1]->getValue<std::string>("tcUri"), tc_uri);
        EXPECT_EQ(reqs[1]->getValue<uint32_t>("tcCredCrc"), crc32(blob));
        EXPECT_TRUE(sim.wait_for("version", 2, 10s)) << fwd->err();
        stop(*fwd);
    }
}

TEST_F(CupsTest, CredentialRotationMovesTheLnsWithoutRestart)
{
    Sim first(dir_), second(dir_);
    std::string target = "ws://127.0.0.1:" + std::to_string(first.port());
    std::mutex m;
    CupsServer cups(certs_, [&](const Object::Ptr&) {
        std::lock_guard lock(m);
        return Reply{200, answer("", target, "", tc_blob())};
    });
    auto fwd = start(cups.port(), "      interval: 2\n");
    ASSERT_TRUE(first.wait_for("version", 1, 10s)) << fwd->err();
    {
        std::lock_guard lock(m);
        target = "ws://127.0.0.1:" + std::to_string(second.port());
    }
    ASSERT_TRUE(second.wait_for("version", 1, 15s)) << fwd->err();
    send_udp(radio_port_, rxpk());
    EXPECT_TRUE(second.wait_for("updf", 1, 10s)) << fwd->err();
    stop(*fwd);
}

TEST_F(CupsTest, BadAnswersKeepTheOldSet)
{
    Sim sim(dir_);
    const std::string good =
        answer("", "ws://127.0.0.1:" + std::to_string(sim.port()), "", tc_blob());
    std::mutex m;
    Reply next{200, good};
    CupsServer cups(certs_, [&](const Object::Ptr&) {
        std::lock_guard lock(m);
        return next;
    });
    auto fwd = start(cups.port(), "      interval: 1\n      retry: 1\n");
    ASSERT_TRUE(sim.wait_for("version", 1, 10s)) << fwd->err();
    const struct {
        Reply reply;
        std::string expected;
    } cases[] = {
        {{200, good.substr(0, good.size() - 10)}, "malformed answer"},
        {{200, "garbage that is not an update-info answer"}, "malformed answer"},
        {{200, answer("", "ws://127.0.0.1:1", "", "\x30\x82\xff")}, "credentials are malformed"},
        {{200, std::string(17u << 20, '\0')}, "larger than 16 MiB"},
        {{401, ""}, "HTTP 401"},
        {{404, ""}, "HTTP 404"},
    };
    for (const auto& c : cases) {
        {
            std::lock_guard lock(m);
            next = c.reply;
        }
        EXPECT_TRUE(fwd->wait_for_err(c.expected, 10s)) << c.expected << "\n" << fwd->err();
    }
    // Through all of that the LNS connection stayed on the stored set.
    EXPECT_EQ(sim.count("version"), 1u) << fwd->err();
    send_udp(radio_port_, rxpk());
    EXPECT_TRUE(sim.wait_for("updf", 1, 10s));
    stop(*fwd);
}

TEST_F(CupsTest, WrongCaIsATlsFailure)
{
    CupsServer cups(certs_, [](const Object::Ptr&) { return Reply{200, std::string(14, '\0')}; });
    auto fwd = start(cups.port(), "", "other-ca.pem");
    EXPECT_TRUE(fwd->wait_for_err("TLS", 10s)) << fwd->err();
    EXPECT_TRUE(cups.requests().empty());
    stop(*fwd);
}

TEST_F(CupsTest, SignedUpdateAcceptedTamperedRefused)
{
    // Signing key: the test CA's EC key; its raw 64-byte public key is sig-0.key.
    std::string out, err;
    ASSERT_EQ(
        run({"/bin/sh", "-c",
             "openssl ec -in " + certs_ +
                 "/ca.key -pubout -outform DER 2>/dev/null | tail -c 64 > " + (dir_ / "sig-0.key")},
            out, err),
        0);
    const std::string update = "#!/bin/sh\necho firmware 2.0\n";
    write_file(dir_ / "update.bin", update);
    ASSERT_EQ(run({"/bin/sh", "-c",
                   "openssl dgst -sha512 -sign " + certs_ + "/ca.key -out " +
                       (dir_ / "update.sig") + " " + (dir_ / "update.bin")},
                  out, err),
              0)
        << err;
    const std::string sig = read_file(dir_ / "update.sig");
    const uint32_t key_crc = crc32(read_file(dir_ / "sig-0.key"));
    write_file(dir_ / "apply.sh", "#!/bin/sh\ncp \"$1\" " + (dir_ / "applied") + "\n");
    std::filesystem::permissions(dir_ / "apply.sh", std::filesystem::perms::owner_all);

    std::mutex m;
    std::string tampered = update;
    tampered[3] ^= 1;
    std::string upd = tampered; // first the tampered one
    CupsServer cups(certs_, [&](const Object::Ptr&) {
        std::lock_guard lock(m);
        return Reply{200, answer("", "", "", "", sig, key_crc, upd)};
    });
    auto fwd = start(cups.port(), "      interval: 1\n      sig_keys: [" + (dir_ / "sig-0.key") +
                                      "]\n      update_command: " + (dir_ / "apply.sh") + "\n");
    EXPECT_TRUE(fwd->wait_for_err("refused: no key verifies it", 10s)) << fwd->err();
    EXPECT_FALSE(std::filesystem::exists(dir_ / "applied"));
    {
        std::lock_guard lock(m);
        upd = update;
    }
    EXPECT_TRUE(fwd->wait_for_err("verified and stored", 10s)) << fwd->err();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!std::filesystem::exists(dir_ / "applied") &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(read_file(dir_ / "applied"), update);
    // Stored in the state directory, not in /tmp.
    EXPECT_TRUE(std::filesystem::exists(dir_ / "state/update/update.bin"));
    stop(*fwd);
}

TEST_F(CupsTest, LnsFallsBackToTheBootSetWhenTheDeliveredOneFails)
{
    Sim sim(dir_);
    CupsServer cups(certs_, [&](const Object::Ptr&) {
        // A regular LNS set that cannot work: nothing listens on port 1.
        return Reply{200, answer("", "ws://127.0.0.1:1", "", tc_blob())};
    });
    // A Basic Station home: cups.* and tc.* become the boot sets.
    const std::string station = dir_ / "station";
    std::filesystem::create_directories(station);
    write_file(station + "/cups.uri", "https://127.0.0.1:" + std::to_string(cups.port()) + "\n");
    std::filesystem::copy_file(certs_ + "/ca.pem", station + "/cups.trust");
    std::filesystem::copy_file(certs_ + "/tc.key", station + "/cups.key");
    write_file(station + "/tc.uri", "ws://127.0.0.1:" + std::to_string(sim.port()) + "\n");
    std::filesystem::copy_file(certs_ + "/ca.pem", station + "/tc.trust");

    const std::string cfg = dir_ / "forwarder.yaml";
    write_file(cfg, "gateway:\n  eui: \"0016c001ff10a235\"\n  log: {level: debug}\n"
                    "plugin_dir: " +
                        kPluginDir +
                        "\nradios:\n  - driver: virtual\n    options:\n"
                        "      uplink_udp: \"127.0.0.1:" +
                        std::to_string(radio_port_) +
                        "\"\ntransports:\n  - plugin: cups\n    options:\n      station_dir: " +
                        station + "\n      state_dir: " + (dir_ / "state") + "\n" +
                        "  - plugin: lns\n    options:\n      wait_for_credentials: true\n"
                        "      backoff_initial_ms: 100\n      backoff_max_s: 1\n"
                        "stats: {interval_s: 0}\n");
    Process fwd({kBinary, "--config", cfg}, dir_.path());
    ASSERT_TRUE(fwd.wait_for_err("] running", 10s)) << fwd.err();
    EXPECT_GE(cups.wait_requests(1, 10s).size(), 1u);
    EXPECT_TRUE(fwd.wait_for_err("falling back to the boot set", 20s)) << fwd.err();
    EXPECT_TRUE(sim.wait_for("version", 1, 10s)) << fwd.err();
    stop(fwd);
}

TEST_F(CupsTest, CupsFallsBackWhenTheDeliveredCupsSetFails)
{
    // The configured (boot) CUPS server hands out a new CUPS URI where nothing listens; after
    // repeated failures there the plugin goes back to a set that works.
    CupsServer cups(certs_, [&](const Object::Ptr&) {
        return Reply{200, answer("https://127.0.0.1:1", "", "", "")};
    });
    auto fwd = start(cups.port(), "      retry: 1\n");
    EXPECT_TRUE(fwd->wait_for_err("CUPS: new cups set stored", 10s)) << fwd->err();
    EXPECT_TRUE(fwd->wait_for_err("CUPS: trying the boot set", 20s)) << fwd->err();
    EXPECT_GE(cups.wait_requests(2, 10s).size(), 2u) << fwd->err();
    stop(*fwd);
}
