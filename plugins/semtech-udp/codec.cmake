# The Semtech UDP (GWMP v2) protocol codec: pure datagram/JSON <-> struct functions, no I/O.
# Included from plugins/semtech-udp/CMakeLists.txt.
add_library(forwarder_udp_codec STATIC ${CMAKE_CURRENT_LIST_DIR}/udp_codec.cpp)
target_include_directories(forwarder_udp_codec PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(forwarder_udp_codec
  PUBLIC forwarder_events forwarder_support_json Poco::JSON Poco::Foundation
  PRIVATE forwarder_warnings)

if(FORWARDER_BUILD_TESTS)
  add_executable(udp_codec_tests ${CMAKE_CURRENT_LIST_DIR}/tests/udp_codec_test.cpp)
  target_link_libraries(udp_codec_tests PRIVATE forwarder_udp_codec forwarder_warnings
                        GTest::gtest_main)
  gtest_discover_tests(udp_codec_tests TEST_PREFIX "udp_codec.")
endif()
