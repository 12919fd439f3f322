#include "credential_store.hpp"

#include "cups_codec.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace forwarder::cups {

const char* category_name(Category c)
{
    switch (c) {
    case Category::cups:
        return "cups";
    case Category::tc:
        return "tc";
    }
    return "?";
}

const char* slot_name(Slot s)
{
    switch (s) {
    case Slot::regular:
        return "regular";
    case Slot::last_good:
        return "last_good";
    case Slot::boot:
        return "boot";
    }
    return "?";
}

namespace {

[[noreturn]] void throw_errno(const std::string& what, int err)
{
    throw std::runtime_error(what + ": " + std::strerror(err));
}

class RealFileOps final : public FileOps {
public:
    void write_file(const std::string& path, const std::string& data) override
    {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            throw_errno("cannot open " + path + " for writing", errno);
        auto fail = [&](const char* step) {
            int err = errno;
            ::close(fd);
            throw_errno(std::string("cannot ") + step + " " + path, err);
        };
        // An existing file keeps its mode on O_TRUNC: credentials are always 0600.
        if (::fchmod(fd, 0600) != 0)
            fail("chmod");
        size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::write(fd, data.data() + done, data.size() - done);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                fail("write");
            }
            done += static_cast<size_t>(n);
        }
        if (::fsync(fd) != 0)
            fail("fsync");
        if (::close(fd) != 0)
            throw_errno("cannot close " + path, errno);
    }

    void make_dir(const std::string& path) override
    {
        if (::mkdir(path.c_str(), 0700) == 0)
            return;
        int err = errno;
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            return; // already there (EEXIST, or EROFS/EACCES on an existing directory)
        throw_errno("cannot create directory " + path, err);
    }

    void sync_dir(const std::string& path) override
    {
        int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            throw_errno("cannot open directory " + path, errno);
        // EINVAL: the file system cannot sync directories; there is nothing more we can do.
        if (::fsync(fd) != 0 && errno != EINVAL) {
            int err = errno;
            ::close(fd);
            throw_errno("cannot fsync directory " + path, err);
        }
        ::close(fd);
    }

    void rename(const std::string& from, const std::string& to) override
    {
        if (::rename(from.c_str(), to.c_str()) != 0)
            throw_errno("cannot rename " + from + " to " + to, errno);
    }

    void symlink(const std::string& target, const std::string& link) override
    {
        if (::symlink(target.c_str(), link.c_str()) != 0)
            throw_errno("cannot create symlink " + link + " -> " + target, errno);
    }

    void remove_all(const std::string& path) override
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
        if (ec)
            throw std::runtime_error("cannot remove " + path + ": " + ec.message());
    }
};

// One writer at a time per process: a store's garbage collection must not see another
// store's renamed but not yet linked set. (Writers in different processes are not supported.)
std::mutex& writer_mutex()
{
    static std::mutex m;
    return m;
}

constexpr const char* sets_subdir = "sets";
constexpr const char* new_suffix = ".new";
constexpr const char* prev_suffix = ".prev";
constexpr const char* tmp_suffix = ".tmp";

// A canonical decimal set number ("0", "17"; not "017", "+1", "1x").
std::optional<uint64_t> parse_number(std::string_view s)
{
    if (s.empty() || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size())
        return std::nullopt;
    return v;
}

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "sets/<n>" -> n.
std::optional<uint64_t> parse_target(std::string_view target)
{
    std::string_view prefix = "sets/";
    if (target.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    return parse_number(target.substr(prefix.size()));
}

std::string target_of(uint64_t n)
{
    return std::string(sets_subdir) + "/" + std::to_string(n);
}

std::optional<std::string> read_link(const std::string& path)
{
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
        if (n < 0)
            return std::nullopt;
        if (static_cast<size_t>(n) < buf.size()) {
            buf.resize(static_cast<size_t>(n));
            return buf;
        }
        buf.resize(buf.size() * 2);
    }
}

bool is_directory(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists_no_follow(const std::string& path)
{
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// Reads a whole file relative to an open directory; nullopt if it cannot be opened or read.
std::optional<std::string> read_at(int dirfd, const std::string& name)
{
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

struct DirEntry {
    std::string name;
    bool symlink = false;
};

std::vector<DirEntry> list_dir(const std::string& path)
{
    std::vector<DirEntry> out;
    std::error_code ec;
    std::filesystem::directory_iterator it(path, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        std::error_code ec2;
        out.push_back({it->path().filename().string(), it->is_symlink(ec2)});
    }
    return out;
}

const char* const file_exts[4] = {".uri", ".trust", ".crt", ".key"};

std::string sets_dir(const std::string& dir)
{
    return dir + "/" + sets_subdir;
}

// Creates the state directory and sets/ (0700) if they are missing.
void ensure_dirs(const std::string& dir, FileOps& ops)
{
    if (!is_directory(dir))
        ops.make_dir(dir);
    if (!is_directory(sets_dir(dir)))
        ops.make_dir(sets_dir(dir));
}

// `<cat>-<slot>`: the slot's symlink to its current set.
std::string link_path(const std::string& dir, Slot slot, Category category)
{
    return dir + "/" + category_name(category) + "-" + slot_name(slot);
}

std::optional<uint64_t> current_set(const std::string& dir, Slot slot, Category category)
{
    auto target = read_link(link_path(dir, slot, category));
    if (!target)
        return std::nullopt;
    return parse_target(*target);
}

// Sets some link in the state directory points to (slots, kept previous sets, and links
// of a store in progress).
std::set<uint64_t> referenced_sets(const std::string& dir)
{
    std::set<uint64_t> out;
    for (const auto& e : list_dir(dir)) {
        if (!e.symlink)
            continue;
        if (auto target = read_link(dir + "/" + e.name))
            if (auto n = parse_target(*target))
                out.insert(*n);
    }
    return out;
}

} // namespace

FileOps& real_file_ops()
{
    static RealFileOps ops;
    return ops;
}

CredentialStore::CredentialStore(std::string state_dir, FileOps& ops)
    : dir_(std::move(state_dir)), ops_(ops)
{
    while (dir_.size() > 1 && dir_.back() == '/')
        dir_.pop_back();
    // Best effort here (a read-only user may only load); store() and recover() insist.
    try {
        ensure_dirs(dir_, ops_);
    } catch (const std::exception&) {
    }
}

std::optional<CredentialSet> CredentialStore::load(Slot slot, Category category) const
{
    const std::string link = link_path(dir_, slot, category);
    const std::string cat = category_name(category);
    // A writer may replace the slot twice and remove the set between our readlink and our
    // reads; then the link has changed and we try again. Set directories never change once
    // renamed into place, so whatever we read from one directory is one complete set.
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto target = read_link(link);
        if (!target || !parse_target(*target))
            return std::nullopt;
        std::optional<std::string> parts[4];
        int dirfd = ::open((dir_ + "/" + *target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool complete = dirfd >= 0;
        for (int i = 0; complete && i < 4; ++i) {
            parts[i] = read_at(dirfd, cat + file_exts[i]);
            complete = parts[i].has_value();
        }
        if (dirfd >= 0)
            ::close(dirfd);
        if (complete)
            return CredentialSet{std::move(*parts[0]), std::move(*parts[1]), std::move(*parts[2]),
                                 std::move(*parts[3])};
        if (read_link(link) == target)
            return std::nullopt; // the slot points at an incomplete or missing set
    }
    return std::nullopt;
}

std::optional<CredentialStore::Paths> CredentialStore::paths(Slot slot, Category category) const
{
    auto n = current_set(dir_, slot, category);
    if (!n)
        return std::nullopt;
    const std::string base = dir_ + "/" + target_of(*n) + "/" + category_name(category);
    Paths p{base + file_exts[0], base + file_exts[1], base + file_exts[2], base + file_exts[3]};
    for (const std::string* f : {&p.uri, &p.trust, &p.cert, &p.key}) {
        struct stat st {};
        if (::stat(f->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            return std::nullopt;
    }
    return p;
}

uint32_t CredentialStore::crc(Slot slot, Category category) const
{
    auto set = load(slot, category);
    if (!set)
        return credentials_crc({}, {}, {});
    return credentials_crc(set->trust, set->cert, set->key);
}

void CredentialStore::store(Slot slot, Category category, const CredentialSet& set)
{
    std::lock_guard lock(writer_mutex());
    const std::string link = link_path(dir_, slot, category);
    const std::string sets = sets_dir(dir_);
    const std::string cat = category_name(category);
    const std::string what = std::string("cannot store ") + cat + "-" + slot_name(slot) + ": ";

    // 1. Everything up to the rename of the slot's link leaves the slot as it was.
    std::string tmp, final_dir, new_link;
    uint64_t n = 0;
    try {
        ensure_dirs(dir_, ops_);
        uint64_t highest = 0;
        bool any = false;
        for (const auto& e : list_dir(sets)) {
            std::string_view name = e.name;
            if (ends_with(name, tmp_suffix))
                name.remove_suffix(std::strlen(tmp_suffix));
            if (auto v = parse_number(name)) {
                highest = any ? std::max(highest, *v) : *v;
                any = true;
            }
        }
        n = any ? highest + 1 : 1;
        final_dir = sets + "/" + std::to_string(n);
        tmp = final_dir + tmp_suffix;

        ops_.make_dir(tmp);
        const std::string* contents[4] = {&set.uri, &set.trust, &set.cert, &set.key};
        for (int i = 0; i < 4; ++i)
            ops_.write_file(tmp + "/" + cat + file_exts[i], *contents[i]);
        ops_.sync_dir(tmp);
        ops_.rename(tmp, final_dir);
        tmp.clear();
        ops_.sync_dir(sets);

        new_link = link + new_suffix;
        if (exists_no_follow(new_link))
            ops_.remove_all(new_link); // left over from a crash
        ops_.symlink(target_of(n), new_link);
    } catch (const std::exception& e) {
        // Best effort: remove what we made (recover() does it after a crash).
        for (const std::string* p : {&new_link, &final_dir, &tmp}) {
            try {
                if (!p->empty() && exists_no_follow(*p))
                    ops_.remove_all(*p);
            } catch (const std::exception&) {
            }
        }
        throw std::runtime_error(what + e.what());
    }

    const std::optional<uint64_t> previous = current_set(dir_, slot, category);
    try {
        ops_.rename(new_link, link); // the switch
    } catch (const std::exception& e) {
        try {
            ops_.remove_all(new_link);
            ops_.remove_all(final_dir);
        } catch (const std::exception&) {
        }
        throw std::runtime_error(what + e.what());
    }

    // 2. Committed. The rest is housekeeping: a failure here (or a crash) leaves the new set
    // in place, and the next store() or recover() finishes the clean-up, so nothing throws.
    try {
        ops_.sync_dir(dir_);
        // Keep the replaced set for readers holding its paths() until the next switch.
        if (previous && *previous != n) {
            const std::string prev_link = link + prev_suffix;
            const std::string prev_new = prev_link + new_suffix;
            if (exists_no_follow(prev_new))
                ops_.remove_all(prev_new);
            ops_.symlink(target_of(*previous), prev_new);
            ops_.rename(prev_new, prev_link);
            ops_.sync_dir(dir_);
        }
        // Only sets older than ours: a newer one could belong to a writer in progress.
        const std::set<uint64_t> referenced = referenced_sets(dir_);
        for (const auto& e : list_dir(sets)) {
            auto v = parse_number(e.name);
            if (v && *v < n && !referenced.count(*v))
                ops_.remove_all(sets + "/" + e.name);
        }
    } catch (const std::exception&) {
    }
}

void CredentialStore::recover()
{
    std::lock_guard lock(writer_mutex());
    const std::string sets = sets_dir(dir_);
    std::string first_error;
    auto attempt = [&](auto&& fn) {
        try {
            fn();
        } catch (const std::exception& e) {
            if (first_error.empty())
                first_error = e.what();
        }
    };

    try {
        ensure_dirs(dir_, ops_);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("credential store recovery: ") + e.what());
    }
    // Links that were never switched into place: the store they belonged to did not happen.
    for (const auto& e : list_dir(dir_))
        if (e.symlink && ends_with(e.name, new_suffix))
            attempt([&] { ops_.remove_all(dir_ + "/" + e.name); });
    // Half-written sets and sets no slot refers to any more.
    const std::set<uint64_t> referenced = referenced_sets(dir_);
    for (const auto& e : list_dir(sets)) {
        std::string_view name = e.name;
        bool is_tmp = ends_with(name, tmp_suffix);
        if (is_tmp)
            name.remove_suffix(std::strlen(tmp_suffix));
        auto v = parse_number(name);
        if (!v || (!is_tmp && referenced.count(*v)))
            continue; // not ours, or in use
        attempt([&] { ops_.remove_all(sets + "/" + e.name); });
    }
    attempt([&] { ops_.sync_dir(sets); });
    attempt([&] { ops_.sync_dir(dir_); });
    if (!first_error.empty())
        throw std::runtime_error("credential store recovery: " + first_error);
}

} // namespace forwarder::cups
