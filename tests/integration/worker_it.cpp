// Radios in worker processes: the real binary runs each radio driver in a child process
// (`process: worker`) and restarts it when it crashes while the rest keeps running.
#include "harness.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <set>

using namespace forwarder::testing;
using namespace std::chrono_literals;

namespace {

const std::string kBinary = FORWARDER_BINARY;
const std::string kPluginDir = FORWARDER_PLUGIN_DIR;
const std::string kTestPluginDir = FORWARDER_TEST_PLUGIN_DIR;

Poco::JSON::Object::Ptr json(const std::string& line)
{
    return Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
}

size_t count_of(const std::string& text, const std::string& what)
{
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

class WorkerTest : public ::testing::Test {
protected:
    WorkerTest()
    {
        plugins_ = dir_ / "plugins";
        std::filesystem::create_directories(plugins_);
        for (const auto& d : {kPluginDir, kTestPluginDir}) {
            for (const auto& e : std::filesystem::directory_iterator(d)) {
                if (e.path().extension() == ".so") {
                    std::filesystem::create_symlink(e.path(),
                                                    plugins_ + "/" + e.path().filename().string());
                }
            }
        }
    }

    std::string radio(const std::string& name, const std::string& extra = "") const
    {
        return "  - driver: test-crashy\n    name: " + name + "\n    process: worker\n" +
               "    options: {interval_ms: 300, crash_file: " + (dir_ / (name + ".crash")) +
               ", tx_log: " + (dir_ / "tx.jsonl") + extra + "}\n";
    }

    std::string config(const std::string& radios)
    {
        const std::string path = dir_ / "forwarder.yaml";
        write_file(path, "gateway:\n  eui: \"0016c001ff10a235\"\n  log: {level: debug}\n"
                         "plugin_dir: " +
                             plugins_ + "\nradios:\n" + radios +
                             "transports:\n  - plugin: capture\n    options: {path: " +
                             (dir_ / "capture.jsonl") +
                             "}\n  - plugin: test-echo\n    options: {results: " +
                             (dir_ / "results.jsonl") + "}\nstats: {interval_s: 1}\n");
        return path;
    }

    std::unique_ptr<Process> start(const std::string& cfg)
    {
        auto p = std::make_unique<Process>(std::vector<std::string>{kBinary, "--config", cfg},
                                           dir_.path());
        EXPECT_TRUE(p->wait_for_err("] running", 10s)) << p->err();
        return p;
    }

    void stop(Process& p)
    {
        const auto t0 = std::chrono::steady_clock::now();
        p.signal(SIGTERM);
        int code = -1;
        ASSERT_TRUE(p.wait(5s, code)) << "did not stop";
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
        EXPECT_EQ(code, 0) << p.err();
    }

    // The worker pid the daemon logged for `radio`.
    static int worker_pid(const std::string& err, const std::string& radio)
    {
        const std::string key = "started radio " + radio + " (test-crashy 1.0.0, worker pid ";
        const size_t at = err.find(key);
        return at == std::string::npos ? -1 : std::stoi(err.substr(at + key.size()));
    }

    TempDir dir_;
    std::string plugins_;
};

} // namespace

TEST_F(WorkerTest, UplinksDownlinksAndChatterCrossTheWorker)
{
    auto p = start(config(radio("radio0")));
    const auto uplinks = wait_lines(dir_ / "capture.jsonl", 2, 10s);
    ASSERT_GE(uplinks.size(), 2u) << p->err();
    EXPECT_EQ(json(uplinks[0])->getValue<std::string>("data"), "QAECAw==");
    // The echo transport answers each uplink 1 s later; the worker transmits it.
    const auto results = wait_lines(dir_ / "results.jsonl", 1, 10s);
    ASSERT_GE(results.size(), 1u) << p->err();
    EXPECT_EQ(json(results[0])->getValue<std::string>("outcome"), "OK") << p->err();
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_GE(tx.size(), 1u);
    // Transmitted by the worker process, not by the daemon.
    const int pid = worker_pid(p->err(), "radio0");
    EXPECT_GT(pid, 0) << p->err();
    EXPECT_EQ(json(tx[0])->getValue<int>("pid"), pid);
    EXPECT_EQ(json(tx[0])->getValue<uint32_t>("count_us"),
              json(results[0])->getValue<uint32_t>("count_us"));
    // The HAL's stdout became a debug line under the radio's name.
    EXPECT_TRUE(
        p->wait_for_err("DEBUG [radio0] crashy: HAL chatter from pid " + std::to_string(pid), 2s))
        << p->err();
    stop(*p);
    EXPECT_EQ(p->err().find("ERROR"), std::string::npos) << p->err();
}

TEST_F(WorkerTest, CrashedWorkerRestartsWhileTransportsStayUp)
{
    auto p = start(config(radio("radio0")));
    ASSERT_GE(wait_lines(dir_ / "capture.jsonl", 1, 10s).size(), 1u) << p->err();
    const int first = worker_pid(p->err(), "radio0");
    write_file(dir_ / "radio0.crash", "");
    ASSERT_TRUE(p->wait_for_err("ERROR [radio0] radio worker (pid " + std::to_string(first) +
                                    ") was killed by signal 6",
                                5s))
        << p->err();
    ASSERT_TRUE(p->wait_for_err("INFO  [radio0] radio worker restarted (pid ", 5s)) << p->err();
    EXPECT_TRUE(p->running());
    // Uplinks flow again, and downlinks are transmitted by the new worker.
    const size_t before = read_lines(dir_ / "capture.jsonl").size();
    EXPECT_GT(wait_lines(dir_ / "capture.jsonl", before + 3, 10s).size(), before + 2);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    bool new_tx = false;
    while (!new_tx && std::chrono::steady_clock::now() < deadline) {
        for (const auto& line : read_lines(dir_ / "tx.jsonl")) {
            new_tx = new_tx || json(line)->getValue<int>("pid") != first;
        }
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(new_tx) << p->err();
    // The transports were started once and never restarted; the daemon kept running.
    EXPECT_EQ(count_of(p->err(), "started transport test-echo"), 1u);
    EXPECT_EQ(count_of(p->err(), "] running"), 1u);
    stop(*p);
}

TEST_F(WorkerTest, TwoRadiosOfTheSameDriverRunSideBySide)
{
    auto p = start(config(radio("radio0") + radio("radio1", ", frequency_hz: 868300000")));
    const int pid0 = worker_pid(p->err(), "radio0");
    const int pid1 = worker_pid(p->err(), "radio1");
    EXPECT_GT(pid0, 0) << p->err();
    EXPECT_GT(pid1, 0) << p->err();
    EXPECT_NE(pid0, pid1);
    std::set<int> radios, tx_pids;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((radios.size() < 2 || tx_pids.size() < 2) &&
           std::chrono::steady_clock::now() < deadline) {
        radios.clear();
        tx_pids.clear();
        for (const auto& line : read_lines(dir_ / "capture.jsonl")) {
            radios.insert(json(line)->getValue<int>("radio"));
        }
        for (const auto& line : read_lines(dir_ / "tx.jsonl")) {
            tx_pids.insert(json(line)->getValue<int>("pid"));
        }
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(radios, (std::set<int>{0, 1})) << p->err();
    EXPECT_EQ(tx_pids, (std::set<int>{pid0, pid1})) << p->err();
    // One crashing does not take the other down.
    write_file(dir_ / "radio1.crash", "");
    ASSERT_TRUE(p->wait_for_err("radio worker restarted", 5s)) << p->err();
    EXPECT_EQ(p->err().find("[radio0] radio worker (pid"), std::string::npos) << p->err();
    stop(*p);
}

TEST_F(WorkerTest, WorkerCreateErrorsAreLocatedLikeInProcessOnes)
{
    // Only the plugin's create (in the worker) sees the bad option when --check-config is
    // skipped: the daemon reports it at the option, as for a radio in the daemon.
    const auto cfg = config("  - driver: test-crashy\n    process: worker\n"
                            "    options:\n      interval_ms: 5\n");
    std::string out, err;
    EXPECT_EQ(run({kBinary, "--config", cfg}, out, err), 1);
    EXPECT_NE(err.find(cfg + ":9:20: radios[0].options.interval_ms: must be at least 10"),
              std::string::npos)
        << err;
    EXPECT_EQ(err.find("started"), std::string::npos) << err;
}

TEST_F(WorkerTest, ProcessKeyIsValidated)
{
    const auto cfg = config("  - driver: test-crashy\n    process: sometimes\n");
    std::string out, err;
    EXPECT_EQ(run({kBinary, "--check-config", cfg}, out, err), 1);
    EXPECT_NE(err.find(cfg + ":7:14: radios[0].process: expected auto, worker or inline, got "
                             "'sometimes'"),
              std::string::npos)
        << err;
}
