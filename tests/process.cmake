# The process actor and the supervisor, with their helper child programs.
iocaf_test_program(proc_child programs/proc_child.cpp)
target_link_libraries(proc_child PRIVATE shell32)

iocaf_test(iocaf_process_tests process_test.cpp LIBS iocaf_process shell32)
add_dependencies(iocaf_process_tests proc_child)

iocaf_test(iocaf_supervisor_tests supervisor_test.cpp LIBS iocaf_supervision iocaf_process)
add_dependencies(iocaf_supervisor_tests proc_child)
