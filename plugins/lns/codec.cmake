# The LNS (LoRa Basics Station) protocol codec: pure JSON <-> struct functions, no I/O
# (plus the pure xtime and timesync bookkeeping).
# Included from plugins/lns/CMakeLists.txt.
add_library(forwarder_lns_codec STATIC
  ${CMAKE_CURRENT_LIST_DIR}/lns_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/radio_clock.cpp
  ${CMAKE_CURRENT_LIST_DIR}/timesync.cpp)
target_include_directories(forwarder_lns_codec PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(forwarder_lns_codec
  PUBLIC forwarder_events forwarder_support_json Poco::JSON Poco::Foundation
  PRIVATE forwarder_warnings)

if(FORWARDER_BUILD_TESTS)
  add_executable(lns_codec_tests ${CMAKE_CURRENT_LIST_DIR}/tests/lns_codec_test.cpp
                 ${CMAKE_CURRENT_LIST_DIR}/tests/radio_clock_test.cpp
                 ${CMAKE_CURRENT_LIST_DIR}/tests/timesync_test.cpp)
  # A copy of shared/vectors (LNS part) lives in the repository, so a clean clone can run it.
  target_compile_definitions(lns_codec_tests PRIVATE
    FORWARDER_VECTORS_DIR="${CMAKE_CURRENT_LIST_DIR}/tests/vectors")
  target_link_libraries(lns_codec_tests PRIVATE forwarder_lns_codec forwarder_warnings
                        GTest::gtest_main)
  gtest_discover_tests(lns_codec_tests TEST_PREFIX "lns_codec.")
endif()
