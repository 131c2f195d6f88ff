# Measures how long a user's small program (tests/compile_time/user_program.cpp) takes to
# compile at -O2, in one of two modes: header-only (MODE=header_only), or with onestone's compiled
# part (MODE=compiled: ONESTONE_COMPILED, linked to libonestone, and run). Prints the seconds of
# the compiler, its CPU time and its peak memory, measured by /usr/bin/time (Debian's `time`
# package), or the seconds by CMake's clock without it. The CPU time is the figure to compare
# between runs: the ctest runs beside other tests, and the wall-clock time of a compiler that
# shares its core now and then grows with them. Fails only if a build or the program fails, never
# on timing (machines and their load differ).
#
# cmake -DMODE=header_only|compiled -DCXX=<compiler> -DSOURCE=<user_program.cpp>
#       -DINCLUDE_DIRS=<a|b> -DEXTRA_FLAGS=<f|g> -DLIBS=<a|b> [-DCOMPILED_LIB=<libonestone.a>]
#       -DWORK_DIR=<dir> -P compile_time.cmake
cmake_minimum_required(VERSION 3.21)
if(MODE STREQUAL "header_only")
  set(_label "header-only")
  set(_mode_flags "")
  set(_mode_lib "")
elseif(MODE STREQUAL "compiled")
  if(NOT COMPILED_LIB)
    message(FATAL_ERROR "compile_time: MODE=compiled needs -DCOMPILED_LIB=<libonestone.a>")
  endif()
  set(_label "with onestone::compiled")
  set(_mode_flags -DONESTONE_COMPILED)
  set(_mode_lib "${COMPILED_LIB}")
else()
  message(FATAL_ERROR "compile_time: -DMODE=header_only|compiled is required (got '${MODE}')")
endif()
string(REPLACE "|" ";" _incs "${INCLUDE_DIRS}")
string(REPLACE "|" ";" _extra "${EXTRA_FLAGS}")
string(REPLACE "|" ";" _libs "${LIBS}")
set(_flags -std=c++17 -O2 ${_extra})
foreach(_d IN LISTS _incs)
  list(APPEND _flags "-I${_d}")
endforeach()
file(MAKE_DIRECTORY "${WORK_DIR}")
find_program(_time NAMES time PATHS /usr/bin NO_DEFAULT_PATH)

set(_obj "${WORK_DIR}/user_${MODE}.o")
set(_exe "${WORK_DIR}/user_${MODE}")
set(_compile "${CXX}" ${_flags} ${_mode_flags} -c "${SOURCE}" -o "${_obj}")
if(_time)
  set(_times "${WORK_DIR}/time_${MODE}.txt")
  execute_process(COMMAND "${_time}" -f "%e %U %S %M" -o "${_times}" ${_compile}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
else()
  string(TIMESTAMP _t0 "%s%f")
  execute_process(COMMAND ${_compile} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  string(TIMESTAMP _t1 "%s%f")
endif()
if(NOT _rc STREQUAL "0")
  message(FATAL_ERROR "compile_time: the ${_label} build failed (${_rc}):\n${_err}")
endif()

if(_time)
  file(READ "${_times}" _txt)
  if(_txt MATCHES "([0-9]+\\.[0-9]+) ([0-9]+\\.[0-9]+) ([0-9]+\\.[0-9]+) ([0-9]+)[ \t\r\n]*$")
    set(_wall "${CMAKE_MATCH_1}")
    set(_kb "${CMAKE_MATCH_4}")
    # CPU seconds (user + system) with two decimals, in integer arithmetic.
    string(REPLACE "." "" _u "${CMAKE_MATCH_2}")
    string(REPLACE "." "" _s "${CMAKE_MATCH_3}")
    string(REGEX REPLACE "^0+([0-9])" "\\1" _u "${_u}")
    string(REGEX REPLACE "^0+([0-9])" "\\1" _s "${_s}")
    math(EXPR _cpu "${_u} + ${_s}")
    math(EXPR _cpu_s "${_cpu} / 100")
    math(EXPR _cpu_c "${_cpu} % 100")
    if(_cpu_c LESS 10)
      set(_cpu_c "0${_cpu_c}")
    endif()
    math(EXPR _mb "${_kb} / 1024")
    message("compile time of the user program, ${_label}: ${_wall} s at -O2 "
            "(CPU ${_cpu_s}.${_cpu_c} s), ${_mb} MB peak")
  else()
    message("compile time of the user program, ${_label}: (not measured: ${_txt})")
  endif()
else()
  math(EXPR _ms "(${_t1} - ${_t0}) / 1000")
  math(EXPR _s "${_ms} / 1000")
  math(EXPR _frac "(${_ms} % 1000) / 100")
  message("compile time of the user program, ${_label}: ${_s}.${_frac} s at -O2")
endif()

execute_process(COMMAND "${CXX}" ${_flags} "${_obj}" ${_mode_lib} -o "${_exe}" ${_libs}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc STREQUAL "0")
  message(FATAL_ERROR "compile_time: linking the ${_label} program failed (${_rc}):\n${_out}")
endif()
if(MODE STREQUAL "compiled")
  execute_process(COMMAND "${_exe}" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc STREQUAL "0")
    message(FATAL_ERROR "compile_time: the program linked to onestone::compiled failed (${_rc}):\n${_out}")
  endif()
endif()
