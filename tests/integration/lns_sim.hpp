#pragma once
// forwarder-lns-sim driven from a test: started on a free port (or a given one), its JSON
// event lines read back. Every wait is bounded.
#include "harness.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace forwarder::testing {

using Poco::JSON::Object;
using namespace std::chrono_literals;

inline Object::Ptr parse(const std::string& line)
{
    try {
        return Poco::JSON::Parser().parse(line).extract<Object::Ptr>();
    } catch (...) {
        return nullptr;
    }
}

class Sim {
public:
    explicit Sim(const TempDir& dir, std::vector<std::string> args = {}, int port = 0)
    {
        std::vector<std::string> argv{FORWARDER_LNS_SIM, "--listen",
                                      "127.0.0.1:" + std::to_string(port), "--duration", "120"};
        argv.insert(argv.end(), args.begin(), args.end());
        proc_ = std::make_unique<Process>(argv, dir.path());
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
            for (const auto& e : events()) {
                if (e->getValue<std::string>("event") == "listening") {
                    port_ = e->getValue<int>("port");
                }
            }
            std::this_thread::sleep_for(10ms);
        }
    }
    int port() const { return port_; }
    std::vector<Object::Ptr> events() const
    {
        std::vector<Object::Ptr> out;
        std::string text = proc_->out();
        size_t pos = 0;
        while (pos < text.size()) {
            size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) {
                break;
            }
            if (auto o = parse(text.substr(pos, nl - pos))) {
                out.push_back(o);
            }
            pos = nl + 1;
        }
        return out;
    }
    size_t count(const std::string& msgtype) const { return messages(msgtype).size(); }
    bool wait_for(const std::string& msgtype, size_t n, std::chrono::milliseconds timeout) const
    {
        return wait_messages(msgtype, n, timeout).size() >= n;
    }
    // Gateway messages of one msgtype.
    std::vector<Object::Ptr> messages(const std::string& msgtype) const
    {
        std::vector<Object::Ptr> out;
        for (const auto& e : events()) {
            if (e->getValue<std::string>("event") == "message") {
                auto m = e->getObject("msg");
                if (m && m->has("msgtype") && m->getValue<std::string>("msgtype") == msgtype) {
                    out.push_back(m);
                }
            }
        }
        return out;
    }
    std::vector<Object::Ptr> wait_messages(const std::string& msgtype, size_t n,
                                           std::chrono::milliseconds timeout) const
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto got = messages(msgtype);
        while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
            got = messages(msgtype);
        }
        return got;
    }
    std::vector<Object::Ptr> wait_events(const std::string& event, size_t n,
                                         std::chrono::milliseconds timeout) const
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            std::vector<Object::Ptr> got;
            for (const auto& e : events()) {
                if (e->getValue<std::string>("event") == event) {
                    got.push_back(e);
                }
            }
            if (got.size() >= n || std::chrono::steady_clock::now() >= deadline) {
                return got;
            }
            std::this_thread::sleep_for(20ms);
        }
    }
    void stop()
    {
        proc_->signal(SIGTERM);
        int code = 0;
        proc_->wait(5s, code);
    }
    std::string err() const { return proc_->err(); }

private:
    std::unique_ptr<Process> proc_;
    int port_ = 0;
};

} // namespace forwarder::testing
