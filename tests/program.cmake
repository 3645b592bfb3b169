# The program layer: options (command line, ini file, --help, usage errors) and run_until_stopped.
iocaf_test(iocaf_program_tests ${CMAKE_CURRENT_LIST_DIR}/program_test.cpp)
add_executable(iocaf_left_running ${CMAKE_CURRENT_LIST_DIR}/programs/left_running.cpp)
target_link_libraries(iocaf_left_running PRIVATE iocaf_core iocaf_warnings)
target_precompile_headers(iocaf_left_running REUSE_FROM iocaf_core)
set_target_properties(iocaf_left_running PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${IOCAF_TEST_BIN})
add_dependencies(iocaf_program_tests iocaf_left_running)
