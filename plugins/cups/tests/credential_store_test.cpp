// The credential store (credential_store.hpp): layout, independence of slots, file modes, the
// §5 CRC, and crash safety: an injected "crash" at every single file operation of a store,
// readers observing every intermediate state, and real child processes killed mid-store.
#include "credential_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace forwarder::cups;

namespace {

class TempDir {
public:
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "cups_store_test.XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string state() const { return path_ + "/state"; }

private:
    std::string path_;
};

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

unsigned mode_of(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

// Distinct in every part, with binary bytes; `tag` makes further distinct sets.
CredentialSet make_set(const std::string& tag, bool token = false)
{
    CredentialSet s;
    s.uri = "wss://lns-" + tag + ".example.com:8887";
    s.trust = std::string("\x30\x82\x01\x00", 4) + "trust-" + tag + std::string(3, '\0') + "\xff";
    if (token) {
        s.key = "Authorization: Bearer NNSXS." + tag + "\r\n";
    } else {
        s.cert = std::string("\x30\x82\x00\x10", 4) + "cert-" + tag;
        s.key = std::string("\x30\x77", 2) + "key-" + tag + std::string(1, '\0');
    }
    return s;
}

const CredentialSet kX = make_set("X");
const CredentialSet kA = make_set("A");
const CredentialSet kB = make_set("B", true);
const CredentialSet kC = make_set("C");

struct Leftovers {
    std::vector<std::string> tmp, fresh_links, unreferenced;
    bool empty() const { return tmp.empty() && fresh_links.empty() && unreferenced.empty(); }
    std::string describe() const
    {
        std::string s;
        for (const auto& v : {tmp, fresh_links, unreferenced})
            for (const auto& n : v)
                s += n + " ";
        return s;
    }
};

// What recover() must have removed: sets/*.tmp, *.new links, set directories (numbered) no
// link uses.
Leftovers leftovers(const std::string& state)
{
    Leftovers out;
    std::vector<std::string> targets;
    for (const auto& e : fs::directory_iterator(state)) {
        std::string name = e.path().filename().string();
        if (name.size() > 4 && name.ends_with(".new"))
            out.fresh_links.push_back(name);
        if (e.is_symlink())
            targets.push_back(fs::read_symlink(e.path()).string());
    }
    for (const auto& e : fs::directory_iterator(state + "/sets")) {
        std::string name = e.path().filename().string();
        if (name.ends_with(".tmp"))
            out.tmp.push_back(name);
        else if (name.find_first_not_of("0123456789") == std::string::npos &&
                 std::find(targets.begin(), targets.end(), "sets/" + name) == targets.end())
            out.unreferenced.push_back(name);
    }
    return out;
}

// The real operations, with a failure injected at the k-th call (1-based). `sticky` models a
// crash or power cut: that call and every later one fail (the process is gone, nothing more
// reaches the disk). Otherwise only the k-th call fails (a transient error such as ENOSPC).
// A failing write leaves half the data, a failing remove_all one entry removed, as a crash in
// the middle of them could.
class FailingFileOps : public FileOps {
public:
    FailingFileOps(int fail_at, bool sticky) : fail_at_(fail_at), sticky_(sticky) {}

    bool tripped() const { return failed_at_ != 0; }
    int failed_at() const { return failed_at_; }
    int calls() const { return calls_; }
    // 1-based index of the first call whose description matches, 0 if none.
    int index_of(const std::string& desc) const
    {
        for (size_t i = 0; i < log_.size(); ++i)
            if (log_[i] == desc)
                return static_cast<int>(i) + 1;
        return 0;
    }

    void write_file(const std::string& path, const std::string& data) override
    {
        if (step("write " + path)) {
            std::ofstream(path, std::ios::binary) << data.substr(0, data.size() / 2);
            fail();
        }
        real_file_ops().write_file(path, data);
    }
    void make_dir(const std::string& path) override
    {
        if (step("mkdir " + path))
            fail();
        real_file_ops().make_dir(path);
    }
    void sync_dir(const std::string& path) override
    {
        if (step("sync " + path))
            fail();
        real_file_ops().sync_dir(path);
    }
    void rename(const std::string& from, const std::string& to) override
    {
        if (step("rename " + from + " " + to))
            fail();
        real_file_ops().rename(from, to);
    }
    void symlink(const std::string& target, const std::string& link) override
    {
        if (step("symlink " + target + " " + link))
            fail();
        real_file_ops().symlink(target, link);
    }
    void remove_all(const std::string& path) override
    {
        if (step("remove " + path)) {
            std::error_code ec;
            if (fs::is_directory(fs::symlink_status(path)))
                for (const auto& e : fs::directory_iterator(path, ec)) {
                    fs::remove(e.path(), ec);
                    break;
                }
            fail();
        }
        real_file_ops().remove_all(path);
    }

private:
    // True if this call is to fail.
    bool step(const std::string& desc)
    {
        log_.push_back(desc);
        ++calls_;
        if (calls_ == fail_at_)
            failed_at_ = calls_;
        return calls_ == fail_at_ || (sticky_ && failed_at_ != 0);
    }
    [[noreturn]] void fail() { throw std::runtime_error("injected failure"); }

    int fail_at_;
    bool sticky_;
    int calls_ = 0;
    int failed_at_ = 0;
    std::vector<std::string> log_;
};

// Calls `observe` before and after every real operation.
class ObservedFileOps : public FileOps {
public:
    explicit ObservedFileOps(std::function<void()> observe) : observe_(std::move(observe)) {}
    void write_file(const std::string& p, const std::string& d) override
    {
        around([&] { real_file_ops().write_file(p, d); });
    }
    void make_dir(const std::string& p) override
    {
        around([&] { real_file_ops().make_dir(p); });
    }
    void sync_dir(const std::string& p) override
    {
        around([&] { real_file_ops().sync_dir(p); });
    }
    void rename(const std::string& f, const std::string& t) override
    {
        around([&] { real_file_ops().rename(f, t); });
    }
    void symlink(const std::string& t, const std::string& l) override
    {
        around([&] { real_file_ops().symlink(t, l); });
    }
    void remove_all(const std::string& p) override
    {
        around([&] { real_file_ops().remove_all(p); });
    }

private:
    void around(const std::function<void()>& op)
    {
        observe_();
        op();
        observe_();
    }
    std::function<void()> observe_;
};

// Slot regular/tc holds A (its previous set X kept), regular/cups holds C.
void prepare(const std::string& state)
{
    CredentialStore s(state);
    s.store(Slot::regular, Category::tc, kX);
    s.store(Slot::regular, Category::tc, kA);
    s.store(Slot::regular, Category::cups, kC);
}

const Slot kSlots[] = {Slot::regular, Slot::last_good, Slot::boot};
const Category kCategories[] = {Category::cups, Category::tc};

} // namespace

TEST(CredentialStore, Names)
{
    EXPECT_STREQ(category_name(Category::cups), "cups");
    EXPECT_STREQ(category_name(Category::tc), "tc");
    EXPECT_STREQ(slot_name(Slot::regular), "regular");
    EXPECT_STREQ(slot_name(Slot::last_good), "last_good");
    EXPECT_STREQ(slot_name(Slot::boot), "boot");
}

TEST(CredentialStore, EmptySlots)
{
    TempDir d;
    CredentialStore s(d.state());
    EXPECT_EQ(s.dir(), d.state());
    EXPECT_NO_THROW(s.recover());
    for (Slot slot : kSlots)
        for (Category cat : kCategories) {
            EXPECT_FALSE(s.load(slot, cat));
            EXPECT_FALSE(s.paths(slot, cat));
            EXPECT_EQ(s.crc(slot, cat), 2077607535u);
        }
}

TEST(CredentialStore, StoreAndLoadRoundTrip)
{
    TempDir d;
    CredentialStore s(d.state());
    s.store(Slot::regular, Category::tc, kA);
    EXPECT_EQ(s.load(Slot::regular, Category::tc), kA);
    // A second object on the same directory (another process, say) sees the same.
    CredentialStore other(d.state());
    EXPECT_EQ(other.load(Slot::regular, Category::tc), kA);
    // Absent parts are stored as empty files; an all-empty set is a set, not "no set".
    CredentialSet empty;
    s.store(Slot::boot, Category::cups, empty);
    EXPECT_EQ(s.load(Slot::boot, Category::cups), empty);
    EXPECT_EQ(s.crc(Slot::boot, Category::cups), 2077607535u);
    // Storing the same set again is fine.
    s.store(Slot::regular, Category::tc, kA);
    EXPECT_EQ(s.load(Slot::regular, Category::tc), kA);
}

TEST(CredentialStore, OnDiskLayout)
{
    TempDir d;
    CredentialStore s(d.state());
    s.store(Slot::regular, Category::tc, kA);
    std::string link = d.state() + "/tc-regular";
    ASSERT_TRUE(fs::is_symlink(link));
    std::string target = fs::read_symlink(link).string();
    EXPECT_TRUE(target.starts_with("sets/")) << target;
    EXPECT_EQ(read_file(d.state() + "/" + target + "/tc.uri"), kA.uri);
    EXPECT_EQ(read_file(d.state() + "/" + target + "/tc.trust"), kA.trust);
    EXPECT_EQ(read_file(d.state() + "/" + target + "/tc.crt"), kA.cert);
    EXPECT_EQ(read_file(d.state() + "/" + target + "/tc.key"), kA.key);
    s.store(Slot::last_good, Category::cups, kC);
    EXPECT_TRUE(fs::is_symlink(d.state() + "/cups-last_good"));
    EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
}

TEST(CredentialStore, SlotsAndCategoriesAreIndependent)
{
    TempDir d;
    CredentialStore s(d.state());
    std::map<std::pair<Slot, Category>, CredentialSet> expected;
    int i = 0;
    for (Slot slot : kSlots)
        for (Category cat : kCategories) {
            CredentialSet set = make_set("s" + std::to_string(i), i % 2 == 0);
            ++i;
            s.store(slot, cat, set);
            expected[{slot, cat}] = set;
        }
    auto check_all = [&] {
        for (const auto& [key, set] : expected)
            EXPECT_EQ(s.load(key.first, key.second), set)
                << slot_name(key.first) << "/" << category_name(key.second);
    };
    check_all();
    // Replacing one slot several times leaves all others alone (and their sets on disk).
    for (int round = 0; round < 3; ++round) {
        CredentialSet set = make_set("r" + std::to_string(round));
        s.store(Slot::regular, Category::tc, set);
        expected[{Slot::regular, Category::tc}] = set;
        check_all();
    }
    // The same slot name in the other category is a different slot.
    EXPECT_NE(s.load(Slot::regular, Category::cups), s.load(Slot::regular, Category::tc));
    EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
}

TEST(CredentialStore, PathsPointAtTheFiles)
{
    TempDir d;
    CredentialStore s(d.state());
    s.store(Slot::regular, Category::cups, kA);
    auto p = s.paths(Slot::regular, Category::cups);
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->uri.ends_with("/cups.uri"));
    EXPECT_EQ(read_file(p->uri), kA.uri);
    EXPECT_EQ(read_file(p->trust), kA.trust);
    EXPECT_EQ(read_file(p->cert), kA.cert);
    EXPECT_EQ(read_file(p->key), kA.key);
    EXPECT_FALSE(s.paths(Slot::regular, Category::tc));

    // The files stay valid until the slot is replaced twice.
    s.store(Slot::regular, Category::cups, kB);
    EXPECT_EQ(read_file(p->uri), kA.uri);
    EXPECT_EQ(read_file(p->key), kA.key);
    auto p2 = s.paths(Slot::regular, Category::cups);
    ASSERT_TRUE(p2);
    EXPECT_NE(p2->uri, p->uri);
    EXPECT_EQ(read_file(p2->key), kB.key);
    s.store(Slot::regular, Category::cups, kC);
    EXPECT_EQ(read_file(p2->key), kB.key);
    EXPECT_FALSE(fs::exists(p->uri)); // A is garbage-collected now
    EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
}

TEST(CredentialStore, OldSetsAreCollected)
{
    TempDir d;
    CredentialStore s(d.state());
    for (int i = 0; i < 20; ++i) {
        s.store(Slot::regular, Category::tc, make_set("t" + std::to_string(i)));
        s.store(Slot::boot, Category::cups, make_set("c" + std::to_string(i)));
    }
    size_t sets = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.state() + "/sets"))
        ++sets;
    EXPECT_EQ(sets, 4u); // current and previous of each slot
    EXPECT_EQ(s.load(Slot::regular, Category::tc), make_set("t19"));
    EXPECT_EQ(s.load(Slot::boot, Category::cups), make_set("c19"));
}

TEST(CredentialStore, Crc)
{
    TempDir d;
    CredentialStore s(d.state());
    EXPECT_EQ(s.crc(Slot::regular, Category::tc), 2077607535u);
    // TTS token vector (cups.md §4/§5): trust, 4 zero bytes for the cert, the token.
    CredentialSet tts;
    tts.uri = "wss://eu1.cloud.thethings.network:8887";
    tts.trust = "LETS NOT ENCRYPT";
    tts.key = "Authorization: token\r\n";
    s.store(Slot::regular, Category::tc, tts);
    EXPECT_EQ(s.crc(Slot::regular, Category::tc), 2538017681u);
    // The URI is not part of the CRC.
    tts.uri = "wss://other:8887";
    s.store(Slot::regular, Category::tc, tts);
    EXPECT_EQ(s.crc(Slot::regular, Category::tc), 2538017681u);
    EXPECT_EQ(s.crc(Slot::regular, Category::cups), 2077607535u);
}

TEST(CredentialStore, SecretsAreNotReadableByOthers)
{
    TempDir d;
    std::string state = d.path() + "/a/b/state"; // a missing parent is not created
    {
        CredentialStore s(state);
        EXPECT_THROW(s.store(Slot::regular, Category::tc, kA), std::runtime_error);
    }
    fs::create_directories(d.path() + "/a/b");
    CredentialStore s(state);
    EXPECT_EQ(mode_of(state), 0700u);
    EXPECT_EQ(mode_of(state + "/sets"), 0700u);
    s.store(Slot::regular, Category::tc, kA);
    auto p = s.paths(Slot::regular, Category::tc);
    ASSERT_TRUE(p);
    for (const std::string* f : {&p->uri, &p->trust, &p->cert, &p->key})
        EXPECT_EQ(mode_of(*f), 0600u) << *f;
    EXPECT_EQ(mode_of(fs::path(p->uri).parent_path().string()), 0700u);
}

TEST(CredentialStore, IncompleteOrMissingSetIsNoSet)
{
    TempDir d;
    CredentialStore s(d.state());
    s.store(Slot::regular, Category::tc, kA);
    s.store(Slot::regular, Category::cups, kC);
    auto p = s.paths(Slot::regular, Category::tc);
    ASSERT_TRUE(p);
    fs::remove(p->cert);
    EXPECT_FALSE(s.load(Slot::regular, Category::tc));
    EXPECT_FALSE(s.paths(Slot::regular, Category::tc));
    EXPECT_EQ(s.crc(Slot::regular, Category::tc), 2077607535u);
    auto pc = s.paths(Slot::regular, Category::cups);
    ASSERT_TRUE(pc);
    fs::remove_all(fs::path(pc->uri).parent_path());
    EXPECT_FALSE(s.load(Slot::regular, Category::cups));
    // A link that is not ours.
    fs::create_directory_symlink("/etc", d.state() + "/tc-boot");
    EXPECT_FALSE(s.load(Slot::boot, Category::tc));
    // A new store repairs the slot.
    s.store(Slot::regular, Category::tc, kB);
    EXPECT_EQ(s.load(Slot::regular, Category::tc), kB);
}

TEST(CredentialStore, RecoverRemovesOnlyDebris)
{
    TempDir d;
    prepare(d.state());
    const std::string st = d.state();
    const std::string target = fs::read_symlink(st + "/tc-regular").string();
    // Debris a crash can leave, plus things that are not ours.
    fs::create_directories(st + "/sets/90.tmp");
    std::ofstream(st + "/sets/90.tmp/tc.uri") << "half";
    fs::create_directories(st + "/sets/91");
    fs::create_directory_symlink("sets/91", st + "/tc-regular.new");
    fs::create_directories(st + "/sets/92");
    fs::create_directory_symlink("sets/92", st + "/cups-boot.prev.new");
    std::ofstream(st + "/notes.txt") << "keep";
    fs::create_directories(st + "/sets/foreign");
    ASSERT_FALSE(leftovers(st).empty());

    CredentialStore s(st);
    s.recover();
    EXPECT_TRUE(leftovers(st).empty()) << leftovers(st).describe();
    EXPECT_FALSE(fs::exists(st + "/sets/91"));
    EXPECT_TRUE(fs::exists(st + "/notes.txt"));
    EXPECT_TRUE(fs::exists(st + "/sets/foreign"));
    EXPECT_EQ(fs::read_symlink(st + "/tc-regular").string(), target);
    EXPECT_EQ(s.load(Slot::regular, Category::tc), kA);
    EXPECT_EQ(s.load(Slot::regular, Category::cups), kC);
    // Recovery is idempotent, and numbering continues above any stray number.
    s.recover();
    fs::create_directories(st + "/sets/500.tmp");
    s.store(Slot::regular, Category::tc, kB);
    EXPECT_EQ(fs::read_symlink(st + "/tc-regular").string(), "sets/501");
    EXPECT_EQ(s.load(Slot::regular, Category::tc), kB);
}

TEST(CredentialStore, FailuresAreOneLineAndNameNoSecrets)
{
    TempDir d;
    std::ofstream(d.path() + "/file") << "x";
    CredentialStore s(d.path() + "/file/state");
    try {
        s.store(Slot::regular, Category::tc, kA);
        FAIL() << "store into a path below a file succeeded";
    } catch (const std::runtime_error& e) {
        std::string what = e.what();
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        EXPECT_NE(what.find("tc-regular"), std::string::npos) << what;
        EXPECT_NE(what.find(d.path() + "/file/state"), std::string::npos) << what;
        EXPECT_EQ(what.find("trust-A"), std::string::npos) << what;
    }
    EXPECT_FALSE(s.load(Slot::regular, Category::tc));
    EXPECT_THROW(s.recover(), std::runtime_error);
}

TEST(RealFileOps, Operations)
{
    TempDir d;
    FileOps& ops = real_file_ops();
    const std::string f = d.path() + "/f";
    ops.write_file(f, std::string("secret\0bytes", 12));
    EXPECT_EQ(read_file(f), std::string("secret\0bytes", 12));
    EXPECT_EQ(mode_of(f), 0600u);
    // An existing file is truncated and made private.
    ::chmod(f.c_str(), 0644);
    ops.write_file(f, "s");
    EXPECT_EQ(read_file(f), "s");
    EXPECT_EQ(mode_of(f), 0600u);
    ops.write_file(f, "");
    EXPECT_EQ(read_file(f), "");

    try {
        ops.write_file(d.path() + "/missing/f", "top-secret");
        FAIL();
    } catch (const std::runtime_error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find(d.path() + "/missing/f"), std::string::npos) << what;
        EXPECT_NE(what.find("No such file"), std::string::npos) << what;
        EXPECT_EQ(what.find("top-secret"), std::string::npos) << what;
    }

    const std::string dir = d.path() + "/dir";
    ops.make_dir(dir);
    EXPECT_EQ(mode_of(dir), 0700u);
    ops.make_dir(dir); // exists: fine
    EXPECT_THROW(ops.make_dir(f), std::runtime_error);
    EXPECT_THROW(ops.make_dir(d.path() + "/missing/dir"), std::runtime_error);
    ops.sync_dir(dir);
    EXPECT_THROW(ops.sync_dir(d.path() + "/missing"), std::runtime_error);
    EXPECT_THROW(ops.sync_dir(f), std::runtime_error);

    ops.write_file(dir + "/a", "a");
    ops.rename(dir + "/a", dir + "/b");
    EXPECT_EQ(read_file(dir + "/b"), "a");
    EXPECT_THROW(ops.rename(dir + "/a", dir + "/c"), std::runtime_error);

    ops.symlink("dir", d.path() + "/link");
    EXPECT_EQ(fs::read_symlink(d.path() + "/link").string(), "dir");
    EXPECT_THROW(ops.symlink("dir", d.path() + "/link"), std::runtime_error);
    // remove_all removes a link, not what it points to.
    ops.remove_all(d.path() + "/link");
    EXPECT_FALSE(fs::exists(fs::symlink_status(d.path() + "/link")));
    EXPECT_TRUE(fs::exists(dir + "/b"));
    ops.remove_all(dir);
    EXPECT_FALSE(fs::exists(dir));
    ops.remove_all(dir); // already gone: fine
}

// The crash-safety proof: a "crash" (every operation from the k-th on fails) at each k in
// turn, until a store gets through without reaching k. After each, a fresh store object on
// the same directory must see exactly A or exactly B, before and after recover(), and
// recover() must leave no debris.
TEST(CredentialStore, CrashAtEveryStepLeavesOldOrNewSet)
{
    int crashes = 0, old_seen = 0, new_seen = 0;
    for (int k = 1; k < 200; ++k) {
        TempDir d;
        prepare(d.state());
        FailingFileOps failing(k, /*sticky=*/true);
        bool threw = false;
        {
            CredentialStore s(d.state(), failing);
            try {
                s.store(Slot::regular, Category::tc, kB);
            } catch (const std::runtime_error&) {
                threw = true;
            }
        }
        if (!failing.tripped()) {
            EXPECT_FALSE(threw);
            EXPECT_GT(k, 10) << "suspiciously few operations per store";
            CredentialStore s(d.state());
            EXPECT_EQ(s.load(Slot::regular, Category::tc), kB);
            EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
            break;
        }
        ++crashes;
        SCOPED_TRACE("crash at operation " + std::to_string(k));
        // The switch is the rename of the fresh link over the slot's link.
        const std::string link = d.state() + "/tc-regular";
        int commit = failing.index_of("rename " + link + ".new " + link);
        bool switched = commit != 0 && k > commit;

        CredentialStore after(d.state());
        auto seen = after.load(Slot::regular, Category::tc); // before recovery: readers too
        ASSERT_TRUE(seen);
        EXPECT_TRUE(*seen == kA || *seen == kB);
        after.recover();
        auto got = after.load(Slot::regular, Category::tc);
        ASSERT_TRUE(got);
        EXPECT_TRUE(*got == kA || *got == kB);
        EXPECT_EQ(*got, seen);
        EXPECT_EQ(*got, switched ? kB : kA);
        // The caller is told: an exception means the old set is still there.
        EXPECT_EQ(threw, !switched);
        (switched ? new_seen : old_seen)++;
        EXPECT_EQ(after.load(Slot::regular, Category::cups), kC);
        EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
        auto p = after.paths(Slot::regular, Category::tc);
        ASSERT_TRUE(p);
        EXPECT_EQ(read_file(p->key), got->key);
        // And the store works again afterwards.
        after.store(Slot::regular, Category::tc, kC);
        EXPECT_EQ(after.load(Slot::regular, Category::tc), kC);
    }
    EXPECT_GT(old_seen, 5);
    EXPECT_GT(new_seen, 0);
    std::cout << "[          ] " << crashes << " crash points: " << old_seen << " kept A, "
              << new_seen << " had switched to B\n";
}

// A single failing operation (a transient error): the store throws and the slot keeps its
// set if the switch did not happen; its own debris is cleaned up at once.
TEST(CredentialStore, TransientFailureAtEveryStep)
{
    for (int k = 1; k < 200; ++k) {
        TempDir d;
        prepare(d.state());
        FailingFileOps failing(k, /*sticky=*/false);
        CredentialStore s(d.state(), failing);
        bool threw = false;
        try {
            s.store(Slot::regular, Category::tc, kB);
        } catch (const std::runtime_error& e) {
            threw = true;
            EXPECT_NE(std::string(e.what()).find("injected failure"), std::string::npos);
        }
        if (!failing.tripped())
            break;
        SCOPED_TRACE("failure at operation " + std::to_string(k));
        auto got = s.load(Slot::regular, Category::tc);
        ASSERT_TRUE(got);
        EXPECT_EQ(*got, threw ? kA : kB);
        if (threw) {
            EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
        }
        EXPECT_EQ(s.load(Slot::regular, Category::cups), kC);
        s.recover();
        EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
        s.store(Slot::regular, Category::tc, kC);
        EXPECT_EQ(s.load(Slot::regular, Category::tc), kC);
    }
}

// Another reader (a second store object, as another process would use) looks at the slot
// before and after every single operation of a store: always the old or the new set, the
// switch happens once, and paths() always name files with the set's content.
TEST(CredentialStore, ReaderDuringStoreSeesOldOrNew)
{
    TempDir d;
    prepare(d.state());
    CredentialStore reader(d.state());
    bool switched = false;
    int observations = 0;
    ObservedFileOps observed([&] {
        ++observations;
        auto got = reader.load(Slot::regular, Category::tc);
        ASSERT_TRUE(got);
        if (*got == kB)
            switched = true;
        else
            ASSERT_EQ(*got, switched ? kB : kA) << "went back to the old set";
        auto p = reader.paths(Slot::regular, Category::tc);
        ASSERT_TRUE(p);
        EXPECT_EQ(read_file(p->trust), got->trust);
        EXPECT_EQ(reader.load(Slot::regular, Category::cups), kC);
    });
    CredentialStore writer(d.state(), observed);
    writer.store(Slot::regular, Category::tc, kB);
    EXPECT_TRUE(switched);
    EXPECT_GT(observations, 20);
    EXPECT_EQ(reader.load(Slot::regular, Category::tc), kB);
}

// Real processes: a child stores A and B alternately and is SIGKILLed after a random short
// time while the parent keeps reading; afterwards recover() and load() must give A or B.
TEST(CredentialStore, KilledWriterProcessLeavesOldOrNewSet)
{
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> delay_us(0, 30000);
    int runs = 0, killed = 0, reads = 0, ended_a = 0, ended_b = 0;
    for (; runs < 30 && clock::now() - start < std::chrono::seconds(8); ++runs) {
        TempDir d;
        {
            CredentialStore s(d.state());
            s.store(Slot::regular, Category::tc, kA);
            s.store(Slot::regular, Category::cups, kC);
        }
        std::cout.flush();
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            try {
                CredentialStore s(d.state());
                for (int i = 0; i < 2000; ++i)
                    s.store(Slot::regular, Category::tc, i % 2 == 0 ? kB : kA);
            } catch (...) {
                ::_exit(1);
            }
            ::_exit(0);
        }
        CredentialStore reader(d.state());
        const auto kill_at = clock::now() + std::chrono::microseconds(delay_us(rng));
        bool bad = false;
        do {
            auto got = reader.load(Slot::regular, Category::tc);
            ++reads;
            if (!got || (*got != kA && *got != kB))
                bad = true;
        } while (clock::now() < kill_at);
        EXPECT_FALSE(bad) << "a reader saw neither A nor B";
        ::kill(pid, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
            ++killed;
        else
            EXPECT_EQ(WEXITSTATUS(status), 0) << "the writer failed";

        CredentialStore after(d.state());
        after.recover();
        auto got = after.load(Slot::regular, Category::tc);
        ASSERT_TRUE(got);
        EXPECT_TRUE(*got == kA || *got == kB);
        (*got == kA ? ended_a : ended_b)++;
        EXPECT_EQ(after.load(Slot::regular, Category::cups), kC);
        EXPECT_TRUE(leftovers(d.state()).empty()) << leftovers(d.state()).describe();
    }
    EXPECT_GE(runs, 10);
    EXPECT_GT(killed, 0);
    EXPECT_LT(clock::now() - start, std::chrono::seconds(10));
    std::cout << "[          ] " << runs << " runs, " << killed << " writers killed mid-run, "
              << reads << " concurrent reads; ended on A " << ended_a << ", on B " << ended_b
              << "\n";
}
