# The CUPS protocol codec: request JSON, binary update-info answer, credential blobs, CRC32
# and update signatures as pure functions, no I/O. Included from plugins/cups/CMakeLists.txt.
add_library(forwarder_cups_codec STATIC ${CMAKE_CURRENT_LIST_DIR}/cups_codec.cpp)
target_include_directories(forwarder_cups_codec PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(forwarder_cups_codec
  PUBLIC forwarder_lns_codec forwarder_support OpenSSL::Crypto
  PRIVATE forwarder_warnings)

if(FORWARDER_BUILD_TESTS)
  add_executable(cups_codec_tests ${CMAKE_CURRENT_LIST_DIR}/tests/cups_codec_test.cpp)
  # The CUPS vectors are part of the repository's copy of shared/vectors (plugins/lns/tests).
  target_compile_definitions(cups_codec_tests PRIVATE
    FORWARDER_VECTORS_DIR="${CMAKE_CURRENT_LIST_DIR}/../lns/tests/vectors")
  target_link_libraries(cups_codec_tests PRIVATE forwarder_cups_codec forwarder_warnings
                        OpenSSL::Crypto GTest::gtest_main)
  gtest_discover_tests(cups_codec_tests TEST_PREFIX "cups_codec.")
endif()
