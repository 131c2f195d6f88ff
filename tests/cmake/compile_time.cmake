# Measures how long a user's small program (tests/compile_time/user_program.cpp) takes to
# compile at -O2: header-only, and with onestone's compiled part (ONESTONE_COMPILED, linked to
# libonestone), the two at once (one compiler per core; the ctest runs alone), each timed by
# /usr/bin/time (Debian's `time` package); without it, one after the other, timed by CMake's
# clock. Prints the seconds (and peak memory) of each; fails only if a build or the program fails,
# never on timing (machines and their load differ).
#
# cmake -DCXX=<compiler> -DSOURCE=<user_program.cpp> -DINCLUDE_DIRS=<a|b> -DEXTRA_FLAGS=<f|g>
#       -DLIBS=<a|b> -DCOMPILED_LIB=<libonestone.a or empty> -DWORK_DIR=<dir> -P compile_time.cmake
cmake_minimum_required(VERSION 3.21)
string(REPLACE "|" ";" _incs "${INCLUDE_DIRS}")
string(REPLACE "|" ";" _extra "${EXTRA_FLAGS}")
string(REPLACE "|" ";" _libs "${LIBS}")
set(_flags -std=c++17 -O2 ${_extra})
foreach(_d IN LISTS _incs)
  list(APPEND _flags "-I${_d}")
endforeach()
file(MAKE_DIRECTORY "${WORK_DIR}")
find_program(_time NAMES time PATHS /usr/bin NO_DEFAULT_PATH)

# The seconds and peak memory /usr/bin/time wrote to <file> ("%e %M"), as a printable figure.
function(figure label file out)
  file(READ "${file}" _txt)
  if(_txt MATCHES "([0-9]+\\.[0-9]+) ([0-9]+)[ \t\r\n]*$")
    math(EXPR _mb "${CMAKE_MATCH_2} / 1024")
    set(${out} "compile time of the user program, ${label}: ${CMAKE_MATCH_1} s at -O2, ${_mb} MB peak"
        PARENT_SCOPE)
  else()
    set(${out} "compile time of the user program, ${label}: (not measured: ${_txt})" PARENT_SCOPE)
  endif()
endfunction()

# One compile, timed by CMake's clock (when /usr/bin/time is missing).
function(measure label out_obj)
  set(_cmd "${CXX}" ${_flags} ${ARGN} -c "${SOURCE}" -o "${out_obj}")
  string(TIMESTAMP _t0 "%s%f")
  execute_process(COMMAND ${_cmd} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  string(TIMESTAMP _t1 "%s%f")
  if(NOT _rc STREQUAL "0")
    message(FATAL_ERROR "compile_time: ${label} build failed (${_rc}):\n${_err}")
  endif()
  math(EXPR _ms "(${_t1} - ${_t0}) / 1000")
  math(EXPR _s "${_ms} / 1000")
  math(EXPR _frac "(${_ms} % 1000) / 100")
  message("compile time of the user program, ${label}: ${_s}.${_frac} s at -O2")
endfunction()

set(_ho_obj "${WORK_DIR}/user_header_only.o")
set(_co_obj "${WORK_DIR}/user_compiled.o")
if(_time AND COMPILED_LIB)
  # Both builds at once, one per core (the test reserves two processors and runs alone), each
  # timed by /usr/bin/time: the figures are those of a compiler with a core to itself.
  execute_process(
    COMMAND "${_time}" -f "%e %M" -o "${WORK_DIR}/time_header_only.txt"
            "${CXX}" ${_flags} -c "${SOURCE}" -o "${_ho_obj}"
    COMMAND "${_time}" -f "%e %M" -o "${WORK_DIR}/time_compiled.txt"
            "${CXX}" ${_flags} -DONESTONE_COMPILED -c "${SOURCE}" -o "${_co_obj}"
    RESULTS_VARIABLE _rcs OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  list(GET _rcs 0 _rc_ho)
  list(GET _rcs 1 _rc_co)
  if(NOT _rc_ho STREQUAL "0" OR NOT _rc_co STREQUAL "0")
    message(FATAL_ERROR "compile_time: a build failed (header-only: ${_rc_ho}, with "
                        "onestone::compiled: ${_rc_co}):\n${_err}")
  endif()
  figure("header-only" "${WORK_DIR}/time_header_only.txt" _line_ho)
  figure("with onestone::compiled" "${WORK_DIR}/time_compiled.txt" _line_co)
  message("${_line_ho}")
  message("${_line_co}")
else()
  measure("header-only" "${_ho_obj}")
  if(COMPILED_LIB)
    measure("with onestone::compiled" "${_co_obj}" -DONESTONE_COMPILED)
  endif()
endif()
execute_process(COMMAND "${CXX}" ${_flags} "${_ho_obj}" -o
                        "${WORK_DIR}/user_header_only" ${_libs} RESULT_VARIABLE _rc
                OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc STREQUAL "0")
  message(FATAL_ERROR "compile_time: linking the header-only program failed (${_rc}):\n${_out}")
endif()
if(COMPILED_LIB)
  execute_process(COMMAND "${CXX}" ${_flags} "${_co_obj}" "${COMPILED_LIB}" -o
                          "${WORK_DIR}/user_compiled" ${_libs} RESULT_VARIABLE _rc
                  OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc STREQUAL "0")
    message(FATAL_ERROR "compile_time: linking against ${COMPILED_LIB} failed (${_rc}):\n${_out}")
  endif()
  execute_process(COMMAND "${WORK_DIR}/user_compiled" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _out)
  if(NOT _rc STREQUAL "0")
    message(FATAL_ERROR "compile_time: the program linked to onestone::compiled failed (${_rc}):\n${_out}")
  endif()
endif()
