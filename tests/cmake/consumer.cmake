# Builds and runs the downstream project in tests/consumer/ against onestone.
#
# cmake -DMODE=find_package|add_subdirectory|fetchcontent -DSOURCE_DIR=<onestone checkout>
#       -DCONSUMER_DIR=<tests/consumer> -DWORK_DIR=<scratch dir> [-DGENERATOR=<gen>]
#       [-DCXX=<compiler>] [-DEXPECTED_VERSION=x.y.z] -P consumer.cmake
#
# find_package:     installs onestone to <WORK_DIR>/prefix first: from -DINSTALL_FROM=<build dir>
#                   when given, else from a separate configure and build (tests off); a second
#                   consumer program links the installed onestone::compiled.
# add_subdirectory: the consumer add_subdirectory()s SOURCE_DIR.
# fetchcontent:     the consumer FetchContent-clones SOURCE_DIR at HEAD (committed content only!);
#                   skipped (prints ONESTONE_TEST_SKIPPED) when the checkout has no commit.
cmake_minimum_required(VERSION 3.21)

foreach(_var IN ITEMS MODE SOURCE_DIR CONSUMER_DIR WORK_DIR)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "consumer.cmake: -D${_var}=... is required")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|add_subdirectory|fetchcontent)$")
  message(FATAL_ERROR "consumer.cmake: unknown MODE '${MODE}'")
endif()

set(_common_args -DCMAKE_BUILD_TYPE=Release)
if(DEFINED GENERATOR AND NOT GENERATOR STREQUAL "")
  list(APPEND _common_args -G "${GENERATOR}")
endif()
if(DEFINED CXX AND NOT CXX STREQUAL "")
  list(APPEND _common_args "-DCMAKE_CXX_COMPILER=${CXX}")
endif()

function(run_step what)
  message(STATUS "[consumer/${MODE}] ${what}")
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE _rc
    OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc STREQUAL "0")
    list(JOIN ARGN " " _cmd)
    message(FATAL_ERROR "[consumer/${MODE}] ${what} failed (${_rc}):\n$ ${_cmd}\n${_out}")
  endif()
  set(STEP_OUTPUT "${_out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(_consumer_args "-DONESTONE_CONSUME=${MODE}")
if(DEFINED EXPECTED_VERSION AND NOT EXPECTED_VERSION STREQUAL "")
  list(APPEND _consumer_args "-DONESTONE_EXPECTED_VERSION=${EXPECTED_VERSION}")
endif()

if(MODE STREQUAL "find_package" AND DEFINED INSTALL_FROM AND NOT INSTALL_FROM STREQUAL "")
  # Install what the project's own build already built (headers, onestone::compiled, package
  # files) instead of building it a second time.
  set(_prefix "${WORK_DIR}/prefix")
  run_step("install onestone" "${CMAKE_COMMAND}" --install "${INSTALL_FROM}" --prefix "${_prefix}")
  list(APPEND _consumer_args "-DCMAKE_PREFIX_PATH=${_prefix}")
elseif(MODE STREQUAL "find_package")
  set(_prefix "${WORK_DIR}/prefix")
  run_step("configure onestone for install"
    "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/onestone-build" ${_common_args}
      "-DCMAKE_INSTALL_PREFIX=${_prefix}"
      -DONESTONE_BUILD_TESTS=OFF -DONESTONE_BUILD_EXAMPLES=OFF -DONESTONE_BUILD_BENCHMARKS=OFF)
  run_step("build onestone" "${CMAKE_COMMAND}" --build "${WORK_DIR}/onestone-build" -j 2)
  run_step("install onestone" "${CMAKE_COMMAND}" --install "${WORK_DIR}/onestone-build")
  list(APPEND _consumer_args "-DCMAKE_PREFIX_PATH=${_prefix}")
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND _consumer_args "-DONESTONE_SOURCE_DIR=${SOURCE_DIR}")
else()
  find_program(GIT_EXECUTABLE git)
  if(NOT GIT_EXECUTABLE)
    message("ONESTONE_TEST_SKIPPED: git not found")
    return()
  endif()
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --verify HEAD
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _head ERROR_VARIABLE _err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc STREQUAL "0")
    message("ONESTONE_TEST_SKIPPED: ${SOURCE_DIR} has no commit yet; FetchContent clones committed content only\n${_err}")
    return()
  endif()
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
    OUTPUT_VARIABLE _dirty ERROR_QUIET)
  if(NOT _dirty STREQUAL "")
    message("NOTE: ${SOURCE_DIR} has uncommitted changes; FetchContent tests commit ${_head} only")
  endif()
  list(APPEND _consumer_args "-DONESTONE_GIT_REPOSITORY=${SOURCE_DIR}")
endif()

set(_build "${WORK_DIR}/consumer-build")
run_step("configure consumer"
  "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${_build}" ${_common_args} ${_consumer_args})
run_step("build consumer" "${CMAKE_COMMAND}" --build "${_build}" --config Release -j 2)

file(GLOB_RECURSE _exe LIST_DIRECTORIES false
     "${_build}/onestone_consumer" "${_build}/onestone_consumer.exe")
list(LENGTH _exe _n)
if(NOT _n EQUAL 1)
  message(FATAL_ERROR "[consumer/${MODE}] expected one onestone_consumer executable, found: ${_exe}")
endif()
run_step("run consumer" "${_exe}")
message("${STEP_OUTPUT}")
if(DEFINED EXPECTED_VERSION AND NOT EXPECTED_VERSION STREQUAL "")
  string(FIND "${STEP_OUTPUT}" "onestone ${EXPECTED_VERSION}" _pos)
  if(_pos EQUAL -1)
    message(FATAL_ERROR "[consumer/${MODE}] output does not mention 'onestone ${EXPECTED_VERSION}'")
  endif()
endif()
file(GLOB_RECURSE _exe_compiled LIST_DIRECTORIES false "${_build}/onestone_consumer_compiled")
if(_exe_compiled)
  run_step("run consumer linked to onestone::compiled" "${_exe_compiled}")
  message("${STEP_OUTPUT}")
endif()
message(STATUS "[consumer/${MODE}] OK")
