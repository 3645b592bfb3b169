# TCP: overlapped sockets (io/socket.cpp), listener, connection and connect actors.
add_library(iocaf_tcp STATIC
  ${PROJECT_SOURCE_DIR}/io/socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tcp_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tcp_listener.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tcp_connect.cpp)
target_include_directories(iocaf_tcp PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(iocaf_tcp PUBLIC iocaf_actors ws2_32 mswsock PRIVATE iocaf_warnings)
