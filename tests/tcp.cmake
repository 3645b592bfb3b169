# TCP actors under Wine (loopback only).
iocaf_test(iocaf_tcp_tests ${CMAKE_CURRENT_LIST_DIR}/tcp_test.cpp LIBS iocaf_tcp)
# The demo tests run demos/echo/echo_server.exe and demos/upper/upper_server.exe as children.
add_dependencies(iocaf_tcp_tests echo_server upper_server)
