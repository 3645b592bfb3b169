# Everything about Wine lives here and in scripts/wine-run.sh: the prefix is
# inside the build tree, tests run through CMAKE_CROSSCOMPILING_EMULATOR, and
# the ctest fixture iocaf_wine starts one wineserver for the run and stops it.
set(IOCAF_WINEPREFIX ${CMAKE_BINARY_DIR}/wineprefix)
set(IOCAF_WINE_RUN ${CMAKE_SOURCE_DIR}/scripts/wine-run.sh)
set(CMAKE_CROSSCOMPILING_EMULATOR env IOCAF_WINEPREFIX=${IOCAF_WINEPREFIX} ${IOCAF_WINE_RUN})

add_test(NAME wine_start COMMAND env IOCAF_WINEPREFIX=${IOCAF_WINEPREFIX} ${IOCAF_WINE_RUN} --start)
set_tests_properties(wine_start PROPERTIES FIXTURES_SETUP iocaf_wine)
add_test(NAME wine_stop COMMAND env IOCAF_WINEPREFIX=${IOCAF_WINEPREFIX} ${IOCAF_WINE_RUN} --stop)
set_tests_properties(wine_stop PROPERTIES FIXTURES_CLEANUP iocaf_wine)

# iocaf_add_wine_test(target): registers each GoogleTest of an exe with ctest,
# run under Wine, inside the iocaf_wine fixture.
# WORKERS_PLACEMENT_TOO: a second entry, NAME.on_workers, runs the same
# tests with the actors a completion wakes on CAF's workers (the default
# placement runs them on the broker's thread).
function(iocaf_add_wine_test target)
  cmake_parse_arguments(arg "WORKERS_PLACEMENT_TOO" "" "" ${ARGN})
  set(names ${target})
  add_test(NAME ${target} COMMAND ${target})
  if(arg_WORKERS_PLACEMENT_TOO)
    list(APPEND names ${target}.on_workers)
    add_test(NAME ${target}.on_workers COMMAND ${target})
  endif()
  # Detached output: see scripts/wine-run.sh (a lingering conhost.exe held ctest's pipe).
  set_tests_properties(${target} PROPERTIES ENVIRONMENT IOCAF_WINE_OUTPUT=detached)
  if(arg_WORKERS_PLACEMENT_TOO)
    set_tests_properties(${target}.on_workers PROPERTIES
      ENVIRONMENT "IOCAF_WINE_OUTPUT=detached;IOCAF_TEST_ON_WORKERS=1")
  endif()
  # Wine may end a crashed program with exit code 0, so the exit code alone
  # cannot be trusted: a run passes only if GoogleTest printed its summary
  # and no failure (nor an actor system that could not end: tests/main.cpp).
  set_tests_properties(${names} PROPERTIES FIXTURES_REQUIRED iocaf_wine TIMEOUT 900
    PASS_REGULAR_EXPRESSION "\\[  PASSED  \\]"
    FAIL_REGULAR_EXPRESSION "\\[  FAILED  \\];unhandled exception;page fault;the actor system did not end")
endfunction()
