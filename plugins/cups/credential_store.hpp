#pragma once
// The credential store: complete credential sets on disk, switched atomically.
//
// Layout under `state_dir`: one directory per stored version, `sets/<n>/` holding
// `<cat>.uri`, `<cat>.trust`, `<cat>.crt`, `<cat>.key` (cat = "cups" or "tc"; absent parts are
// empty files), and one symlink per slot and category, `<cat>-<slot>` -> `sets/<n>`. A new
// set is written into `sets/<n>.tmp/`, every file fsynced, the directory fsynced and renamed
// to `sets/<n>`, then the slot's symlink is replaced by rename(2) of a fresh symlink: a crash
// or power cut at any point leaves the slot on the old or on the new complete set.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace forwarder::cups {

enum class Category { cups, tc };
enum class Slot { regular, last_good, boot };
const char* category_name(Category c);
const char* slot_name(Slot s);

struct CredentialSet {
    std::string uri;
    std::string trust; // bytes as stored (PEM or DER)
    std::string cert;
    std::string key; // private key or token lines
    bool operator==(const CredentialSet&) const = default;
};

// File operations the store performs, so tests can inject a failure (or a "crash": an
// exception) at any single step.
class FileOps {
public:
    virtual ~FileOps() = default;
    virtual void write_file(const std::string& path, const std::string& data) = 0; // + fsync
    virtual void make_dir(const std::string& path) = 0;
    virtual void sync_dir(const std::string& path) = 0;
    virtual void rename(const std::string& from, const std::string& to) = 0;
    virtual void symlink(const std::string& target, const std::string& link) = 0;
    virtual void remove_all(const std::string& path) = 0;
};
FileOps& real_file_ops();

class CredentialStore {
public:
    explicit CredentialStore(std::string state_dir, FileOps& ops = real_file_ops());

    // Finishes or discards whatever a crash interrupted (stray .tmp directories, unused
    // sets); call once at start.
    void recover();

    std::optional<CredentialSet> load(Slot slot, Category category) const;
    // Atomically replaces the slot's set. Throws std::runtime_error (the slot keeps its old
    // set) on any failure.
    void store(Slot slot, Category category, const CredentialSet& set);

    // Paths of the slot's files, for a transport that reads them itself (they stay valid
    // until the slot is replaced twice).
    struct Paths {
        std::string uri, trust, cert, key;
    };
    std::optional<Paths> paths(Slot slot, Category category) const;

    // §5 CRC of the slot's trust/cert/key (2077607535 when empty).
    uint32_t crc(Slot slot, Category category) const;

    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    FileOps& ops_;
};

} // namespace forwarder::cups
