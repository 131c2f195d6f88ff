# Runs one example and checks its exit code and output (stdout and stderr together):
#   cmake -DEXE=<program> "-DARGS=<args, space-separated>" -DEXPECT_RC=<code>
#         "-DEXPECT_REGEX=<regex>" -P expect_output.cmake
# Used by the examples' --help and unknown-option tests (examples/CMakeLists.txt).
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${EXE}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "'${EXE} ${ARGS}' exited with ${rc}, expected ${EXPECT_RC}; output:\n${all}")
endif()
if(NOT all MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "the output of '${EXE} ${ARGS}' does not match '${EXPECT_REGEX}':\n${all}")
endif()
message(STATUS "ok (exit ${rc}):\n${all}")
