# Checks that every public header under include/onestone/ compiles on its own.
#
# cmake -DCXX=<compiler> -DINCLUDE_ROOT=<repo>/include -DINCLUDE_DIRS="a|b|c"
#       [-DEXTRA_FLAGS="f1|f2"] -DWORK_DIR=<dir> -P check_headers.cmake
#
# For each header a one-line TU `#include <onestone/...hpp>` (included twice, which also
# checks the include guard) is compiled with `-std=c++17 -fsyntax-only`. Two compilers run
# at a time (an execute_process pipeline runs its commands concurrently); failures are
# re-run one by one to show their diagnostics. The test fails listing every bad header.
cmake_minimum_required(VERSION 3.21)

foreach(_var IN ITEMS CXX INCLUDE_ROOT INCLUDE_DIRS WORK_DIR)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "check_headers.cmake: -D${_var}=... is required")
  endif()
endforeach()

string(REPLACE "|" ";" _include_dirs "${INCLUDE_DIRS}")
set(_flags -std=c++17 -fsyntax-only)
if(DEFINED EXTRA_FLAGS AND NOT EXTRA_FLAGS STREQUAL "")
  string(REPLACE "|" ";" _extra "${EXTRA_FLAGS}")
  list(APPEND _flags ${_extra})
endif()
foreach(_dir IN LISTS _include_dirs)
  list(APPEND _flags "-I${_dir}")
endforeach()

file(GLOB_RECURSE _headers RELATIVE "${INCLUDE_ROOT}" "${INCLUDE_ROOT}/onestone/*.hpp")
if(DEFINED EXCLUDE_REGEX AND NOT EXCLUDE_REGEX STREQUAL "")
  list(FILTER _headers EXCLUDE REGEX "${EXCLUDE_REGEX}")
endif()
list(SORT _headers)
list(LENGTH _headers _count)
if(_count EQUAL 0)
  message(FATAL_ERROR "check_headers.cmake: no headers found under ${INCLUDE_ROOT}/onestone")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
set(_tus "")
foreach(_header IN LISTS _headers)
  string(REGEX REPLACE "\\.hpp$" ".cpp" _tu "${WORK_DIR}/${_header}")
  file(WRITE "${_tu}" "#include <${_header}>\n#include <${_header}>\n")
  list(APPEND _tus "${_tu}")
endforeach()

message(STATUS "Checking ${_count} headers for self-containment with ${CXX}")

math(EXPR _last "${_count} - 1")
set(_failed "")
set(_i 0)
while(_i LESS_EQUAL _last)
  list(GET _headers ${_i} _h1)
  list(GET _tus ${_i} _t1)
  math(EXPR _j "${_i} + 1")
  if(_j LESS_EQUAL _last)
    list(GET _headers ${_j} _h2)
    list(GET _tus ${_j} _t2)
    execute_process(
      COMMAND "${CXX}" ${_flags} "${_t1}"
      COMMAND "${CXX}" ${_flags} "${_t2}"
      RESULTS_VARIABLE _results
      OUTPUT_QUIET ERROR_QUIET)
    list(GET _results 0 _r1)
    list(GET _results 1 _r2)
    set(_pair_headers "${_h1};${_h2}")
    set(_pair_tus "${_t1};${_t2}")
    set(_pair_results "${_r1};${_r2}")
    math(EXPR _i "${_i} + 2")
  else()
    execute_process(
      COMMAND "${CXX}" ${_flags} "${_t1}"
      RESULT_VARIABLE _r1
      OUTPUT_QUIET ERROR_QUIET)
    set(_pair_headers "${_h1}")
    set(_pair_tus "${_t1}")
    set(_pair_results "${_r1}")
    math(EXPR _i "${_i} + 1")
  endif()

  foreach(_h _t _r IN ZIP_LISTS _pair_headers _pair_tus _pair_results)
    if(NOT "${_r}" STREQUAL "0")
      # Re-run alone to get readable diagnostics.
      execute_process(
        COMMAND "${CXX}" ${_flags} "${_t}"
        RESULT_VARIABLE _rr
        OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
      message("---- ${_h} does not compile on its own:\n${_out}")
      list(APPEND _failed "${_h}")
    endif()
  endforeach()
endwhile()

if(_failed)
  list(LENGTH _failed _nfailed)
  list(JOIN _failed "\n  " _failed_list)
  message(FATAL_ERROR "${_nfailed} of ${_count} headers are not self-contained:\n  ${_failed_list}")
endif()
message(STATUS "All ${_count} headers are self-contained")
