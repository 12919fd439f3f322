# The CUPS credential store: complete credential sets on disk, switched atomically by
# rename(2) of a symlink (shared/spec/cups.md §9). Included from plugins/cups/CMakeLists.txt;
# needs forwarder_cups_codec (cups_codec.cmake) for the §5 CRC.
add_library(forwarder_cups_store STATIC ${CMAKE_CURRENT_LIST_DIR}/credential_store.cpp)
target_include_directories(forwarder_cups_store PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(forwarder_cups_store
  PRIVATE forwarder_cups_codec forwarder_warnings)

if(FORWARDER_BUILD_TESTS)
  add_executable(cups_store_tests ${CMAKE_CURRENT_LIST_DIR}/tests/credential_store_test.cpp)
  target_link_libraries(cups_store_tests PRIVATE forwarder_cups_store forwarder_warnings
                        GTest::gtest_main)
  gtest_discover_tests(cups_store_tests TEST_PREFIX "cups_store." PROPERTIES TIMEOUT 60)
endif()
