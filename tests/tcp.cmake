# TCP actors under Wine (loopback only).
iocaf_test(iocaf_tcp_tests ${CMAKE_CURRENT_LIST_DIR}/tcp_test.cpp LIBS iocaf_tcp)
# The echo demo test runs demos/echo/echo_server.exe as a child.
add_dependencies(iocaf_tcp_tests echo_server)
