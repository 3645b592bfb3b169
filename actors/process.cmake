# Child processes (io/process.cpp: CreateProcessW, stdio pipes, Job objects),
# the process actor, and the OTP-style supervisor.
add_library(iocaf_process STATIC
  ${PROJECT_SOURCE_DIR}/io/process.cpp
  ${PROJECT_SOURCE_DIR}/actors/process_actor.cpp)
target_include_directories(iocaf_process PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(iocaf_process PUBLIC iocaf_actors PRIVATE iocaf_warnings)

add_library(iocaf_supervisor STATIC ${PROJECT_SOURCE_DIR}/actors/supervisor.cpp)
target_include_directories(iocaf_supervisor PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(iocaf_supervisor PUBLIC iocaf_actors PRIVATE iocaf_warnings)
