# Named pipes as actors: listener (server), connection (either end), connector (client).
# io/pipe.cpp (the Win32 helpers) stays in iocaf_io.
add_library(iocaf_pipe STATIC
  ${CMAKE_CURRENT_LIST_DIR}/pipe_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pipe_listener.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pipe_connect.cpp)
target_include_directories(iocaf_pipe PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(iocaf_pipe PUBLIC iocaf_actors PRIVATE iocaf_warnings)
target_precompile_headers(iocaf_pipe REUSE_FROM iocaf_actors)

# The chat room (the chat demo's server logic), an actor over pipe connections.
add_library(iocaf_chat STATIC ${CMAKE_CURRENT_LIST_DIR}/chat_room.cpp)
target_include_directories(iocaf_chat PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(iocaf_chat PUBLIC iocaf_pipe PRIVATE iocaf_warnings)
target_precompile_headers(iocaf_chat REUSE_FROM iocaf_actors)
