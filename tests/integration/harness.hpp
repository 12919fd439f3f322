#pragma once
// Helpers for integration tests: run the real binary, talk to it over 127.0.0.1, read files.
// Every wait is bounded in time.
#include <chrono>
#include <string>
#include <vector>

namespace forwarder::testing {

class Process {
public:
    Process(const std::vector<std::string>& args, const std::string& work_dir);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // Waits for exit; returns false on timeout. `exit_code` is -signal if killed.
    bool wait(std::chrono::milliseconds timeout, int& exit_code);
    void signal(int sig);
    bool running();
    std::string out() const;
    std::string err() const;
    // Waits until stderr contains `text`.
    bool wait_for_err(const std::string& text, std::chrono::milliseconds timeout) const;

private:
    int pid_ = -1;
    bool reaped_ = false;
    std::string out_path_, err_path_;
};

// Runs to completion (bounded); returns the exit code and fills out/err.
int run(const std::vector<std::string>& args, std::string& out, std::string& err,
        std::chrono::milliseconds timeout = std::chrono::seconds(20));

std::string read_file(const std::string& path);
std::vector<std::string> read_lines(const std::string& path);
// Waits until `path` has at least `count` lines; returns them.
std::vector<std::string> wait_lines(const std::string& path, size_t count,
                                    std::chrono::milliseconds timeout);
void write_file(const std::string& path, const std::string& text);
// A UDP port on 127.0.0.1 that was free a moment ago.
int free_udp_port();
void send_udp(int port, const std::string& datagram);

// A fresh temporary directory, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

} // namespace forwarder::testing
