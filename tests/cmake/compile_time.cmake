# Measures how long a user's small program (tests/compile_time/user_program.cpp) takes to
# compile at -O2: header-only, and with onestone's compiled part (ONESTONE_COMPILED, linked to
# libonestone). Prints the seconds and peak memory; fails only if a build or the program fails,
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

function(measure label out_obj)
  set(_cmd "${CXX}" ${_flags} ${ARGN} -c "${SOURCE}" -o "${out_obj}")
  string(TIMESTAMP _t0 "%s%f")
  if(_time)
    execute_process(COMMAND "${_time}" -f "%M" ${_cmd} RESULT_VARIABLE _rc
                    OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  else()
    execute_process(COMMAND ${_cmd} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  endif()
  string(TIMESTAMP _t1 "%s%f")
  if(NOT _rc STREQUAL "0")
    message(FATAL_ERROR "compile_time: ${label} build failed (${_rc}):\n${_err}")
  endif()
  math(EXPR _ms "(${_t1} - ${_t0}) / 1000")
  math(EXPR _s "${_ms} / 1000")
  math(EXPR _frac "(${_ms} % 1000) / 100")
  set(_mem "")
  if(_time)
    string(REGEX MATCH "([0-9]+)[ \t\r\n]*$" _kb "${_err}")
    if(_kb)
      math(EXPR _mb "${CMAKE_MATCH_1} / 1024")
      set(_mem ", ${_mb} MB peak")
    endif()
  endif()
  message("compile time of the user program, ${label}: ${_s}.${_frac} s at -O2${_mem}")
endfunction()

measure("header-only" "${WORK_DIR}/user_header_only.o")
execute_process(COMMAND "${CXX}" ${_flags} "${WORK_DIR}/user_header_only.o" -o
                        "${WORK_DIR}/user_header_only" ${_libs} RESULT_VARIABLE _rc
                OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc STREQUAL "0")
  message(FATAL_ERROR "compile_time: linking the header-only program failed (${_rc}):\n${_out}")
endif()
if(COMPILED_LIB)
  measure("with onestone::compiled" "${WORK_DIR}/user_compiled.o" -DONESTONE_COMPILED)
  execute_process(COMMAND "${CXX}" ${_flags} "${WORK_DIR}/user_compiled.o" "${COMPILED_LIB}" -o
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
