# UTF-8 in and out of Windows programs (io/text.hpp), with a child program.
iocaf_test_program(text_child programs/text_child.cpp)
target_link_libraries(text_child PRIVATE iocaf_io)

iocaf_test(iocaf_text_tests text_test.cpp LIBS iocaf_process)
add_dependencies(iocaf_text_tests text_child)
