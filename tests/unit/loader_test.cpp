#include "plugin_loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace forwarder::core;

namespace {

std::string load_error(const std::string& dir, const std::string& name)
{
    try {
        load_plugin(dir, name);
    } catch (const LoadError& e) {
        return e.what();
    }
    return "";
}

const std::string kTestDir = FORWARDER_TEST_PLUGIN_DIR;

} // namespace

TEST(Loader, LoadsARealPlugin)
{
    auto p = load_plugin(FORWARDER_PLUGIN_DIR, "capture");
    ASSERT_NE(p->descriptor, nullptr);
    EXPECT_STREQ(p->descriptor->name, "capture");
    EXPECT_EQ(p->descriptor->kind, static_cast<uint32_t>(FWD_KIND_TRANSPORT));
    EXPECT_EQ(p->abi_version, FWD_ABI_VERSION_2); // the C++ wrapper picks the newest offered
    EXPECT_EQ(p->radio_capabilities, 0u);
    EXPECT_EQ(p->path, std::string(FORWARDER_PLUGIN_DIR) + "/forwarder-capture.so");
}

TEST(Loader, RadioCapabilitiesComeFromAVersion2Descriptor)
{
    auto p = load_plugin(FORWARDER_PLUGIN_DIR, "virtual");
    EXPECT_EQ(p->abi_version, FWD_ABI_VERSION_2);
    EXPECT_EQ(p->radio_capabilities, FWD_RADIO_CAP_LBT | FWD_RADIO_CAP_PPS);
    EXPECT_NE(p->channel_clear, nullptr);
    EXPECT_NE(p->last_pps, nullptr);
}

TEST(Loader, Version1PluginsStillLoad)
{
    // A plain-C plugin that only speaks version 1 (the host offers 2 and 1).
    auto p = load_plugin(kTestDir, "broken-good");
    EXPECT_EQ(p->abi_version, FWD_ABI_VERSION_1);
    EXPECT_EQ(p->radio_capabilities, 0u);
    EXPECT_EQ(p->channel_clear, nullptr);
    EXPECT_EQ(p->last_pps, nullptr);
}

TEST(Loader, UnknownPluginNamesFileAndDirectory)
{
    const auto err = load_error(kTestDir, "nonexistent");
    EXPECT_EQ(err, kTestDir +
                       "/forwarder-nonexistent.so: unknown plugin 'nonexistent' (no such "
                       "file in the plugin directory " +
                       kTestDir + ")");
}

TEST(Loader, WrongAbiVersionIsRefused)
{
    const auto err = load_error(kTestDir, "broken-abi");
    EXPECT_EQ(err.rfind(kTestDir + "/forwarder-broken-abi.so: wrong ABI version", 0), 0u) << err;
}

TEST(Loader, MissingEntrySymbolIsRefused)
{
    const auto err = load_error(kTestDir, "broken-no-entry");
    EXPECT_NE(err.find("forwarder-broken-no-entry.so: not a forwarder plugin: it does not export "
                       "`forwarder_plugin_entry`"),
              std::string::npos)
        << err;
}

TEST(Loader, DescriptorNameMustMatchFile)
{
    const auto err = load_error(kTestDir, "misnamed");
    EXPECT_NE(err.find("invalid plugin: it calls itself 'somebody-else', expected 'misnamed'"),
              std::string::npos)
        << err;
}

TEST(Loader, NotASharedObject)
{
    const auto dir =
        std::filesystem::temp_directory_path() / ("fwd-loader-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "forwarder-garbage.so") << "this is not an ELF file\n";
    const auto err = load_error(dir.string(), "garbage");
    std::filesystem::remove_all(dir);
    EXPECT_EQ(err.rfind((dir / "forwarder-garbage.so").string() + ": cannot load: ", 0), 0u) << err;
}

TEST(Loader, PluginsLoadSideBySide)
{
    auto a = load_plugin(kTestDir, "broken-good");
    auto b = load_plugin(kTestDir, "broken-create");
    auto c = load_plugin(kTestDir, "test-echo");
    EXPECT_STREQ(a->descriptor->name, "broken-good");
    EXPECT_STREQ(b->descriptor->name, "broken-create");
    EXPECT_STREQ(c->descriptor->name, "test-echo");
}
