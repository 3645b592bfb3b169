# Named-pipe actors (listener, connection, connector) and the chat room over them.
iocaf_test(iocaf_pipe_tests pipe_test.cpp LIBS iocaf_pipe)
iocaf_test(iocaf_chat_tests chat_test.cpp chat_commands_test.cpp chat_client_test.cpp chat_text_test.cpp chat_console_test.cpp LIBS iocaf_chat_room iocaf_process)
add_dependencies(iocaf_chat_tests chat_server chat_client) # the client tests run them
