# The typed handler <-> connection protocol (actors/stream/stream_messages.hpp,
# framing.hpp): mistakes are compile errors. The probe file compiles as is in
# every build (the control: the right uses compile, so a failure below is the
# mistake, not the file); each test builds it once more with one mistake
# switched on and passes only on CAF's static_assert for that mistake.
add_library(iocaf_typed_handles_control OBJECT typed/typed_handles.cpp)
target_link_libraries(iocaf_typed_handles_control PRIVATE iocaf_stream iocaf_warnings)
target_precompile_headers(iocaf_typed_handles_control REUSE_FROM iocaf_core)

function(iocaf_compile_error_test name probe expected)
  add_library(${name} OBJECT EXCLUDE_FROM_ALL typed/typed_handles.cpp)
  target_link_libraries(${name} PRIVATE iocaf_stream iocaf_warnings)
  target_compile_definitions(${name} PRIVATE ${probe})
  target_precompile_headers(${name} REUSE_FROM iocaf_core)
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target ${name})
  set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${expected}" TIMEOUT 600)
endfunction()

iocaf_compile_error_test(typed_byte_stream_connection_refuses_a_frame_at_compile_time
  IOCAF_PROBE_FRAME_TO_A_BYTE_STREAM "receiver does not accept given message")
iocaf_compile_error_test(typed_framed_connection_refuses_bytes_at_compile_time
  IOCAF_PROBE_BYTES_TO_A_FRAMED_CONNECTION "receiver does not accept given message")
iocaf_compile_error_test(typed_stream_handler_must_handle_stream_closed_at_compile_time
  IOCAF_PROBE_HANDLER_WITHOUT_CLOSED "not enough message handlers")
