#include "board_profile.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

using namespace forwarder::boards;

namespace {

const std::vector<std::string> kDirs{FORWARDER_BOARDS_DIR};

std::string error_of(const std::function<void()>& f)
{
    try {
        f();
    } catch (const BoardError& e) {
        return e.what();
    }
    return "(no error)";
}

// A scratch directory holding one profile written from text.
class TempBoard {
public:
    explicit TempBoard(const std::string& text)
    {
        dir_ = std::filesystem::temp_directory_path() /
               ("board_profile_test_" +
                std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ / "custom.yaml") << text;
    }
    ~TempBoard() { std::filesystem::remove_all(dir_); }
    std::string path() const { return (dir_ / "custom.yaml").string(); }

private:
    std::filesystem::path dir_;
};

const char* kMinimal = R"(description: test board
chip: sx1302
com_type: spi
com_path: /dev/spidev0.0
clksrc: 0
radios:
  - {type: SX1250, rssi_offset: -215.4, tx_enable: true}
  - {type: SX1250, rssi_offset: -215.4}
tx_gain_lut:
  - {rf_power: 12, pa_gain: 0, pwr_idx: 15}
reset: {line: 17}
)";

} // namespace

TEST(BoardProfile, EveryShippedProfileLoadsAndValidates)
{
    const auto names = known_boards(kDirs);
    ASSERT_GE(names.size(), 10u);
    for (const std::string& name : names) {
        SCOPED_TRACE(name);
        BoardProfile p;
        ASSERT_NO_THROW(p = load_board(name, kDirs)) << error_of([&] { load_board(name, kDirs); });
        EXPECT_EQ(p.name, name);
        EXPECT_FALSE(p.description.empty());
        EXPECT_EQ(p.radios.size(), 2u);
        EXPECT_FALSE(p.tx_gain_lut.empty());
        // Round trip: the YAML form parses back to the same profile.
        EXPECT_EQ(parse_board(to_yaml(p), p.source, p.name), p);
    }
}

TEST(BoardProfile, RequiredBoardsAreShipped)
{
    for (const char* name :
         {"rak2287", "rak2287-usb", "rak5146", "rak5146-usb", "sx1302-corecell",
          "sx1302-corecell-usb", "wm1302", "pg1302", "ic880a", "rak2245", "picocell"})
        EXPECT_NO_THROW(load_board(name, kDirs)) << name;
}

TEST(BoardProfile, SpecFactsOfSomeBoards)
{
    BoardProfile rak = load_board("rak2287", kDirs);
    EXPECT_EQ(rak.chip, Chip::sx1302);
    EXPECT_EQ(rak.com_type, ComType::spi);
    ASSERT_TRUE(rak.reset);
    EXPECT_EQ(rak.reset->line, 17u);
    EXPECT_EQ(rak.temperature_sensor.kind, TemperatureSensorKind::none);

    BoardProfile wm = load_board("wm1302", kDirs);
    ASSERT_TRUE(wm.reset);
    EXPECT_EQ(wm.reset->power_enable_line, 18u);
    EXPECT_EQ(wm.reset->sx1261_reset_line, 5u);
    EXPECT_EQ(wm.temperature_sensor.kind, TemperatureSensorKind::i2c);
    EXPECT_EQ(wm.temperature_sensor.i2c_address, 0x39u);

    BoardProfile cc = load_board("sx1302-corecell", kDirs);
    EXPECT_EQ(cc.reset->line, 23u);
    EXPECT_EQ(cc.temperature_sensor.i2c_address, 0x3Bu);

    BoardProfile usb = load_board("sx1302-corecell-usb", kDirs);
    EXPECT_EQ(usb.com_type, ComType::usb);
    EXPECT_EQ(usb.com_path, "/dev/ttyACM0");
    EXPECT_FALSE(usb.reset);
    EXPECT_TRUE(usb.sx1261);

    BoardProfile ic = load_board("ic880a", kDirs);
    EXPECT_EQ(ic.chip, Chip::sx1301);
    EXPECT_EQ(ic.clksrc, 1);
    EXPECT_EQ(ic.reset->line, 5u);
    EXPECT_EQ(ic.radios[0].type, RadioType::sx1257);
    EXPECT_TRUE(ic.tx_gain_lut[0].mix_gain);

    BoardProfile pico = load_board("picocell", kDirs);
    EXPECT_EQ(pico.chip, Chip::picogw);
    EXPECT_EQ(pico.com_type, ComType::usb);
}

TEST(BoardProfile, PathIsUsedDirectly)
{
    TempBoard b(kMinimal);
    BoardProfile p = load_board(b.path(), {});
    EXPECT_EQ(p.name, "custom");
    EXPECT_EQ(p.reset->chip, "/dev/gpiochip0"); // default
    EXPECT_TRUE(p.reset->active_high);          // default
    EXPECT_FALSE(p.gnss);
}

TEST(BoardProfile, SearchDirsInOrder)
{
    TempBoard b(kMinimal);
    const std::string dir = std::filesystem::path(b.path()).parent_path().string();
    EXPECT_EQ(load_board("custom", {"/nonexistent", dir}).name, "custom");
    EXPECT_EQ(load_board("rak2287", {dir, FORWARDER_BOARDS_DIR}).name, "rak2287");
}

TEST(BoardProfile, UnknownBoardListsKnownOnes)
{
    const std::string msg = error_of([] {
        load_board("rak9999", {"/nonexistent", FORWARDER_BOARDS_DIR});
    });
    EXPECT_NE(msg.find("board 'rak9999': no such profile in /nonexistent, " FORWARDER_BOARDS_DIR),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("(known: ic880a, pg1302, picocell, rak2245, rak2287"), std::string::npos)
        << msg;
    EXPECT_THROW(load_board("rak9999", kDirs), BoardNotFoundError);
    EXPECT_THROW(load_board("/nonexistent/x.yaml", kDirs), BoardNotFoundError);
}

TEST(BoardProfile, OverrideScalar)
{
    BoardProfile p = merge_overrides(load_board("rak2287", kDirs),
                                     YAML::Load("{com_path: /dev/spidev1.0, sx1261: true}"));
    EXPECT_EQ(p.com_path, "/dev/spidev1.0");
    EXPECT_TRUE(p.sx1261);
    EXPECT_EQ(p.sx1261_spi_path, "/dev/spidev0.1");
    EXPECT_EQ(p.reset->line, 17u); // untouched
}

TEST(BoardProfile, OverrideNested)
{
    BoardProfile base = load_board("rak2287", kDirs);
    BoardProfile p =
        merge_overrides(base, YAML::Load("{reset: {line: 22, power_enable_line: 18}}"));
    EXPECT_EQ(p.reset->line, 22u);
    EXPECT_EQ(p.reset->power_enable_line, 18u);
    EXPECT_EQ(p.reset->chip, "/dev/gpiochip0");

    // Dotted keys and list elements by index.
    p = merge_overrides(base, YAML::Load("{reset.line: 25, 'radios[0].rssi_offset': -210.5}"));
    EXPECT_EQ(p.reset->line, 25u);
    EXPECT_DOUBLE_EQ(p.radios[0].rssi_offset, -210.5);
    EXPECT_DOUBLE_EQ(p.radios[1].rssi_offset, -215.4);
    EXPECT_EQ(p.radios[0].rssi_tcomp, base.radios[0].rssi_tcomp);

    p = merge_overrides(base, YAML::Load("{radios: {1: {rssi_offset: -209}}}"));
    EXPECT_DOUBLE_EQ(p.radios[1].rssi_offset, -209);
    EXPECT_EQ(p.radios[0], base.radios[0]);

    // `none` replaced by a map.
    p = merge_overrides(load_board("ic880a", kDirs), YAML::Load("{gnss: {device: /dev/ttyS0}}"));
    ASSERT_TRUE(p.gnss);
    EXPECT_EQ(p.gnss->device, "/dev/ttyS0");
}

TEST(BoardProfile, OverrideListReplaces)
{
    BoardProfile p =
        merge_overrides(load_board("rak2287", kDirs),
                        YAML::Load("{tx_gain_lut: [{rf_power: 14, pa_gain: 0, pwr_idx: 17}, "
                                   "{rf_power: 27, pa_gain: 1, pwr_idx: 14}]}"));
    ASSERT_EQ(p.tx_gain_lut.size(), 2u);
    EXPECT_EQ(p.tx_gain_lut[1].rf_power, 27);
    EXPECT_EQ(p.tx_gain_lut[1].pwr_idx, 14);
}

TEST(BoardProfile, OverrideErrorsNameTheKey)
{
    BoardProfile base = load_board("rak2287", kDirs);
    std::string msg = error_of([&] { merge_overrides(base, YAML::Load("{reset: {line: abc}}")); });
    EXPECT_NE(msg.find("reset.line: expected an integer 0..511"), std::string::npos) << msg;
    EXPECT_NE(msg.find("board 'rak2287'"), std::string::npos) << msg;

    msg = error_of([&] { merge_overrides(base, YAML::Load("{com_pat: /dev/spidev1.0}")); });
    EXPECT_NE(msg.find("com_pat: unknown key"), std::string::npos) << msg;

    msg = error_of([&] { merge_overrides(base, YAML::Load("{radios: {2: {rssi_offset: 1}}}")); });
    EXPECT_NE(msg.find("radios[2]: index out of range"), std::string::npos) << msg;

    msg = error_of([&] {
        merge_overrides(load_board("rak2287-usb", kDirs), YAML::Load("{reset: {line: 4}}"));
    });
    EXPECT_NE(msg.find("reset: a USB board is reset by its MCU"), std::string::npos) << msg;

    try {
        merge_overrides(base, YAML::Load("{'radios[1].rssi_ofset': 3}"));
        FAIL() << "no error";
    } catch (const BoardValidationError& e) {
        EXPECT_EQ(e.key(), "radios[1].rssi_ofset");
    }
}

TEST(BoardProfile, FileErrorsNameFileAndKey)
{
    struct Case {
        std::string from, to, expect;
    };
    const std::vector<Case> cases{
        {"reset: {line: 17}", "reset: {line: 600}",
         "custom.yaml: reset.line: expected an integer 0..511"},
        {"reset: {line: 17}", "reset: {line: 17, colour: red}",
         "custom.yaml: reset.colour: unknown key"},
        {"clksrc: 0\n", "", "custom.yaml: clksrc: missing required key"},
        {"chip: sx1302", "chip: sx1399", "custom.yaml: chip: expected sx1302, sx1301 or picogw"},
        {"com_type: spi", "com_type: pcie", "custom.yaml: com_type: expected spi or usb"},
        {"rssi_offset: -215.4, tx_enable: true", "rssi_offset: loud, tx_enable: true",
         "custom.yaml: radios[0].rssi_offset: expected a number"},
        {"pwr_idx: 15", "pwr_idx: 15, mix_gain: 3",
         "custom.yaml: tx_gain_lut[0]: an SX1250 gain entry"},
        {"pwr_idx: 15", "mix_gain: 3", "custom.yaml: tx_gain_lut[0].pwr_idx: missing required key"},
        {"clksrc: 0\n", "clksrc: 0\nbogus: 1\n", "custom.yaml: bogus: unknown key"},
        {"clksrc: 0\n", "clksrc: 0\ntemperature_sensor: {i2c_address: 0x99}\n",
         "custom.yaml: temperature_sensor.i2c_address: expected an integer 3..119"},
        {"com_path: /dev/spidev0.0", "com_path: [1, 2]",
         "custom.yaml: com_path: expected a non-empty string"},
        {"description: test board", "description: [", "custom.yaml: invalid YAML"},
    };
    for (const Case& c : cases) {
        std::string text = kMinimal;
        const auto at = text.find(c.from);
        ASSERT_NE(at, std::string::npos) << c.from;
        text.replace(at, c.from.size(), c.to);
        TempBoard b(text);
        const std::string msg = error_of([&] { load_board(b.path(), {}); });
        EXPECT_NE(msg.find(c.expect), std::string::npos)
            << "expected '" << c.expect << "' in: " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
}

TEST(BoardProfile, ChipRules)
{
    BoardProfile ic = load_board("ic880a", kDirs);
    EXPECT_NE(error_of([&] {
                  merge_overrides(ic, YAML::Load("{com_type: usb}"));
              }).find("com_type: chip sx1301 (lora_gateway) supports only spi"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  merge_overrides(ic, YAML::Load("{'radios[0].rssi_tcomp': {coeff_c: 1}}"));
              }).find("radios[0].rssi_tcomp: not supported by chip sx1301"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  merge_overrides(ic, YAML::Load("{'radios[0].tx_enable': false}"));
              }).find("radios: no radio has tx_enable: true"),
              std::string::npos);
    // SX1255 override for CN470/EU433 builds is fine.
    EXPECT_EQ(
        merge_overrides(ic, YAML::Load("{'radios[0].type': SX1255, 'radios[1].type': SX1255}"))
            .radios[1]
            .type,
        RadioType::sx1255);
}
