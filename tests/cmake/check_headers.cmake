# Checks that every public header under include/onestone/ compiles on its own.
#
# cmake -DCXX=<compiler> -DINCLUDE_ROOT=<repo>/include -DINCLUDE_DIRS="a|b|c"
#       [-DEXTRA_FLAGS="f1|f2"] -DWORK_DIR=<dir> -P check_headers.cmake
#
# For each header a one-line TU `#include <onestone/...hpp>` (included twice, which also
# checks the include guard) is compiled with `-std=c++17 -fsyntax-only`. Two compilers run
# at a time (an execute_process pipeline runs its commands concurrently); failures are
# re-run one by one to show their diagnostics. The test fails listing every bad header.
#
# Eigen/Core from a precompiled header. Parsing Eigen/Core is about half of each header's
# check, so headers whose own include graph reaches <Eigen/Core> or <Eigen/Dense> (read off
# their #include lines, followed through onestone's headers) are checked with a precompiled
# <Eigen/Core> included first (`-include`): such a TU sees exactly the declarations it would see
# without it, Eigen's merely earlier, and onestone's headers reach Eigen through includes that
# come before any of their code (balancer.hpp's one include after its code comes after Eigen
# too) and define no EIGEN_ macros, so nothing they declare can depend on that order. A header
# whose graph does not reach Eigen is checked without it (a missing Eigen include there still
# fails). Set -DPCH=OFF (or use a compiler that cannot build the precompiled header) to check
# every header the plain way.
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

# Which headers reach Eigen through their own #include lines (a fixed point over the graph of
# onestone's headers and .inc files; an include written as a macro is not followed, which can
# only leave a header on the plain path).
file(GLOB_RECURSE _all_files RELATIVE "${INCLUDE_ROOT}" "${INCLUDE_ROOT}/onestone/*.hpp"
     "${INCLUDE_ROOT}/onestone/*.inc")
set(_eigen_reached "")
foreach(_f IN LISTS _all_files)
  file(STRINGS "${INCLUDE_ROOT}/${_f}" _lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  set(_deps "")
  foreach(_line IN LISTS _lines)
    if(_line MATCHES "^[ \t]*#[ \t]*include[ \t]*<Eigen/(Core|Dense)>")
      list(APPEND _eigen_reached "${_f}")
    elseif(_line MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"](onestone/[^>\"]+)[>\"]")
      list(APPEND _deps "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  set("_deps_of_${_f}" "${_deps}")
endforeach()
set(_changed TRUE)
while(_changed)
  set(_changed FALSE)
  foreach(_f IN LISTS _all_files)
    if("${_f}" IN_LIST _eigen_reached)
      continue()
    endif()
    foreach(_d IN LISTS "_deps_of_${_f}")
      if("${_d}" IN_LIST _eigen_reached)
        list(APPEND _eigen_reached "${_f}")
        set(_changed TRUE)
        break()
      endif()
    endforeach()
  endforeach()
endwhile()

# The precompiled <Eigen/Core>, built with the check's own flags (GCC looks for <name>.gch,
# Clang for <name>.pch next to the header given to -include).
set(_pch_flags "")
if(NOT DEFINED PCH OR PCH)
  set(_pch_header "${WORK_DIR}/pch/onestone_check_eigen.hpp")
  file(WRITE "${_pch_header}" "#include <Eigen/Core>\n")
  execute_process(COMMAND "${CXX}" --version OUTPUT_VARIABLE _cxx_version ERROR_QUIET)
  set(_pch_ext ".gch")
  if(_cxx_version MATCHES "clang")
    set(_pch_ext ".pch")
  endif()
  set(_build_flags ${_flags})
  list(REMOVE_ITEM _build_flags -fsyntax-only)
  execute_process(
    COMMAND "${CXX}" ${_build_flags} -x c++-header "${_pch_header}" -o "${_pch_header}${_pch_ext}"
    RESULT_VARIABLE _pch_result OUTPUT_QUIET ERROR_QUIET)
  if(_pch_result STREQUAL "0")
    set(_pch_flags -include "${_pch_header}")
  else()
    message(STATUS "The precompiled <Eigen/Core> did not build: every header checked plainly")
  endif()
endif()

set(_tus "")
foreach(_header IN LISTS _headers)
  string(REGEX REPLACE "\\.hpp$" ".cpp" _tu "${WORK_DIR}/${_header}")
  file(WRITE "${_tu}" "#include <${_header}>\n#include <${_header}>\n")
  list(APPEND _tus "${_tu}")
endforeach()

list(LENGTH _eigen_reached _n_eigen)
message(STATUS "Checking ${_count} headers for self-containment with ${CXX}")

# The flags for one header: the precompiled <Eigen/Core> first when its graph reaches Eigen.
macro(header_flags _out _header)
  set(${_out} ${_flags})
  if(_pch_flags AND "${_header}" IN_LIST _eigen_reached)
    list(APPEND ${_out} ${_pch_flags})
  endif()
endmacro()

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
    header_flags(_f1 "${_h1}")
    header_flags(_f2 "${_h2}")
    execute_process(
      COMMAND "${CXX}" ${_f1} "${_t1}"
      COMMAND "${CXX}" ${_f2} "${_t2}"
      RESULTS_VARIABLE _results
      OUTPUT_QUIET ERROR_QUIET)
    list(GET _results 0 _r1)
    list(GET _results 1 _r2)
    set(_pair_headers "${_h1};${_h2}")
    set(_pair_tus "${_t1};${_t2}")
    set(_pair_results "${_r1};${_r2}")
    math(EXPR _i "${_i} + 2")
  else()
    header_flags(_f1 "${_h1}")
    execute_process(
      COMMAND "${CXX}" ${_f1} "${_t1}"
      RESULT_VARIABLE _r1
      OUTPUT_QUIET ERROR_QUIET)
    set(_pair_headers "${_h1}")
    set(_pair_tus "${_t1}")
    set(_pair_results "${_r1}")
    math(EXPR _i "${_i} + 1")
  endif()

  foreach(_h _t _r IN ZIP_LISTS _pair_headers _pair_tus _pair_results)
    if(NOT "${_r}" STREQUAL "0")
      # Re-run alone and without the precompiled header to get readable diagnostics.
      execute_process(
        COMMAND "${CXX}" ${_flags} "${_t}"
        RESULT_VARIABLE _rr
        OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
      if(_rr STREQUAL "0")
        # Only with Eigen/Core first: still a failure (the header depends on include order).
        header_flags(_fp "${_h}")
        execute_process(COMMAND "${CXX}" ${_fp} "${_t}" OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
        message("---- ${_h} compiles on its own but not after <Eigen/Core>:\n${_out}")
      else()
        message("---- ${_h} does not compile on its own:\n${_out}")
      endif()
      list(APPEND _failed "${_h}")
    endif()
  endforeach()
endwhile()

if(_failed)
  list(LENGTH _failed _nfailed)
  list(JOIN _failed "\n  " _failed_list)
  message(FATAL_ERROR "${_nfailed} of ${_count} headers are not self-contained:\n  ${_failed_list}")
endif()
message(STATUS "All ${_count} headers are self-contained (${_n_eigen} of the headers and .inc files "
               "reach Eigen: checked with the precompiled <Eigen/Core> first)")
