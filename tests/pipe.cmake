# Named-pipe actors (listener, connection, connector) and the chat room over them.
iocaf_test(iocaf_pipe_tests pipe_test.cpp LIBS iocaf_pipe)
iocaf_test(iocaf_chat_tests chat_test.cpp chat_commands_test.cpp chat_client_test.cpp chat_text_test.cpp chat_console_test.cpp LIBS iocaf_chat_room iocaf_process)
add_dependencies(iocaf_chat_tests chat_server chat_client) # the client tests run them
# The console chat client in a real terminal under Wine (tmux provides it):
# typed input stays intact while lines arrive. Skipped where tmux is missing.
find_program(IOCAF_TMUX tmux)
if(IOCAF_TMUX)
  add_test(NAME chat_tty_check
           COMMAND env IOCAF_WINEPREFIX=${IOCAF_WINEPREFIX} ${PROJECT_SOURCE_DIR}/scripts/chat-tty-check.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(chat_tty_check PROPERTIES FIXTURES_REQUIRED iocaf_wine TIMEOUT 300)
endif()
