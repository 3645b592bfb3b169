# The IO core's tests: cancellation races, wait races, the cancel protocol, shutdown.
iocaf_test(iocaf_cancel_tests cancel_test.cpp)
iocaf_test(iocaf_wait_race_tests wait_race_test.cpp)
iocaf_test(iocaf_protocol_tests protocol_test.cpp)
iocaf_test(iocaf_completion_path_tests completion_path_test.cpp)
iocaf_test(iocaf_wait_fault_tests wait_fault_test.cpp)
iocaf_test(iocaf_shutdown_tests shutdown_test.cpp)
iocaf_test_program(iocaf_exit_after programs/exit_after.cpp)
add_dependencies(iocaf_wait_race_tests iocaf_exit_after)
