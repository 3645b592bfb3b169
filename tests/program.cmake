# The program layer: options (command line, ini file, --help, usage errors) and run_until_stopped.
iocaf_test(iocaf_program_tests ${CMAKE_CURRENT_LIST_DIR}/program_test.cpp)
