# Checks that every public header under include/onestone/ compiles on its own.
#
# cmake -DCXX=<compiler> -DINCLUDE_ROOT=<repo>/include -DINCLUDE_DIRS="a|b|c"
#       [-DEXTRA_FLAGS="f1|f2"] [-DEXCLUDE_REGEX=<regex>] [-DBASES="onestone/x.hpp|..."]
#       [-DFAST_CXX=<compiler>] [-DPCH=OFF] -DWORK_DIR=<dir> -P check_headers.cmake
#
# For each header a one-line TU `#include <onestone/...hpp>` (included twice, which also
# checks the include guard) is compiled with `-std=c++17 -fsyntax-only`. The headers are split
# into two lanes of about equal cost, run at once (two compilers); failures are re-run one by
# one, without any precompiled header, to show their diagnostics. The test fails listing every
# bad header.
#
# Two compilers. CXX is the build's compiler and EXTRA_FLAGS its flags (OpenMP). With FAST_CXX
# (Clang: it reads a precompiled header lazily, and the check takes about 2/3 of GCC's time),
# the headers are checked with FAST_CXX, without EXTRA_FLAGS, except those whose own text has
# OpenMP or compiler-specific code (`_OPENMP`, `omp_`, `#pragma omp`, `__GNUC__`, `__clang__`):
# those are checked with CXX and EXTRA_FLAGS, without a precompiled header. Which headers a
# missing include breaks does not depend on the compiler (both read the same standard library
# and onestone headers); a header that only one of the two compilers accepts fails the check.
#
# Precompiled headers. Most of a header's check is parsing what it includes, the same for many
# headers, so a header is checked with a precompiled header of something it includes itself,
# included first (`-include`):
#   - one of the BASES (widely included onestone headers), the largest one the header's own
#     include graph reaches, when allowed (below);
#   - otherwise <Eigen/Core>, when the header's include graph reaches <Eigen/Core> or
#     <Eigen/Dense>;
#   - otherwise nothing (a header that does not reach Eigen is checked plainly, so a missing
#     Eigen include there still fails).
# Why this checks the same thing. The TU "base; header" contains exactly the files the header's
# own include graph contains, only in another order: a name the header, or any header it
# reaches, uses without including its declaration is missing from both (and each header is
# checked with only files of its own graph). onestone's headers put their #include lines before
# their code, so in either order every header's code comes after everything it includes; the
# check reads the #include lines and finds the exceptions: an onestone header included after
# code ("late"), whose place relative to its includer's code the precompiled header could
# change. A base that contains such a late-included header is not used for any TU that contains
# its includer. Not counted as late: `.inc` files (fragments of their one includer's text, not
# headers), and a header that includes its includer and nothing its includer does not include
# before its code (weighting/balanced_backward.hpp, included at the end of
# weighting/balancer.hpp): its code follows its includer's directly in every order.
# Set -DPCH=OFF (or use a compiler that cannot build precompiled headers) to check every header
# the plain way.
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
set(_fast_flags -std=c++17 -fsyntax-only)
foreach(_dir IN LISTS _include_dirs)
  list(APPEND _flags "-I${_dir}")
  list(APPEND _fast_flags "-I${_dir}")
endforeach()
set(_fast_cxx "")
if(DEFINED FAST_CXX AND NOT FAST_CXX STREQUAL "" AND NOT FAST_CXX STREQUAL CXX)
  set(_fast_cxx "${FAST_CXX}")
endif()
set(_bases "")
if(DEFINED BASES AND NOT BASES STREQUAL "")
  string(REPLACE "|" ";" _bases "${BASES}")
endif()
set(_use_pch TRUE)
if(DEFINED PCH AND NOT PCH)
  set(_use_pch FALSE)
endif()

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
file(MAKE_DIRECTORY "${WORK_DIR}/pch")

# ---------------------------------------------------------------------------------------------
# The include graph of onestone's headers and .inc files: for each file its onestone includes
# (_deps_<f>), those of them that come after code and are headers (_late_<f>), whether it
# includes Eigen itself, and its size.
# ---------------------------------------------------------------------------------------------
set(_include_re "^[ \t]*#[ \t]*include[ \t]*[<\"](onestone/[^>\"]+)[>\"]")
set(_eigen_re "^[ \t]*#[ \t]*include[ \t]*<Eigen/(Core|Dense)>")
file(GLOB_RECURSE _all_files RELATIVE "${INCLUDE_ROOT}" "${INCLUDE_ROOT}/onestone/*.hpp"
     "${INCLUDE_ROOT}/onestone/*.inc")
set(_eigen_direct "")
set(_specific "")
foreach(_f IN LISTS _all_files)
  file(SIZE "${INCLUDE_ROOT}/${_f}" "_size_${_f}")
  file(READ "${INCLUDE_ROOT}/${_f}" _txt)
  if(_txt MATCHES "_OPENMP|omp_[a-z]|pragma[ \t]+omp|__GNUC__|__clang__")
    list(APPEND _specific "${_f}")
  endif()
  # One list element per line (';' and brackets would split or group list elements).
  string(REPLACE ";" "," _txt "${_txt}")
  string(REPLACE "[" "(" _txt "${_txt}")
  string(REPLACE "]" ")" _txt "${_txt}")
  string(REPLACE "\n" ";" _lines "${_txt}")
  set(_deps "")
  set(_early "")
  set(_late "")
  set(_code FALSE)
  set(_in_comment FALSE)
  foreach(_line IN LISTS _lines)
    string(STRIP "${_line}" _s)
    if(_in_comment)
      if(_s MATCHES "\\*/")
        set(_in_comment FALSE)
      endif()
      continue()
    endif()
    if(_s STREQUAL "" OR _s MATCHES "^//")
      continue()
    endif()
    if(_s MATCHES "^/\\*")
      if(NOT _s MATCHES "\\*/")
        set(_in_comment TRUE)
      endif()
      continue()
    endif()
    if(_s MATCHES "${_include_re}")
      set(_inc "${CMAKE_MATCH_1}")
      list(APPEND _deps "${_inc}")
      if(NOT _code)
        list(APPEND _early "${_inc}")
      elseif(_inc MATCHES "\\.hpp$")
        list(APPEND _late "${_inc}")
      endif()
    elseif(_s MATCHES "${_eigen_re}")
      list(APPEND _eigen_direct "${_f}")
    elseif(NOT _s MATCHES "^#")
      set(_code TRUE)
    endif()
  endforeach()
  set("_deps_${_f}" "${_deps}")
  set("_early_${_f}" "${_early}")
  set("_late_${_f}" "${_late}")
endforeach()

# Closures (every onestone file a file reaches) and whether a file reaches Eigen.
set(_eigen_reached "")
foreach(_f IN LISTS _all_files)
  set(_seen "")
  set(_stack ${_deps_${_f}})
  while(_stack)
    list(POP_BACK _stack _d)
    if(NOT "${_d}" IN_LIST _seen)
      list(APPEND _seen "${_d}")
      list(APPEND _stack ${_deps_${_d}})
    endif()
  endwhile()
  set("_closure_${_f}" "${_seen}")
  foreach(_d IN LISTS _seen _f)
    if("${_d}" IN_LIST _eigen_direct)
      list(APPEND _eigen_reached "${_f}")
      break()
    endif()
  endforeach()
endforeach()

# A late include Z of Y that cannot change any order: Z includes Y first thing and its other
# early includes are already in Y's early graph, so in every TU Z's code directly follows Y's
# (whichever of the two comes first; e.g. balancer.hpp and balanced_backward.hpp).
foreach(_y IN LISTS _all_files)
  set(_kept "")
  foreach(_z IN LISTS _late_${_y})
    set(_pair FALSE)
    if("${_y}" IN_LIST _early_${_z})
      set(_y_early "${_y}")
      foreach(_e IN LISTS _early_${_y})
        list(APPEND _y_early "${_e}" ${_closure_${_e}})
      endforeach()
      set(_pair TRUE)
      foreach(_e IN LISTS _early_${_z})
        if(NOT "${_e}" IN_LIST _y_early)
          set(_pair FALSE)
        endif()
      endforeach()
    endif()
    if(NOT _pair)
      list(APPEND _kept "${_z}")
    endif()
  endforeach()
  set("_late_${_y}" "${_kept}")
endforeach()

# What a file set costs to parse is estimated by its size in bytes, Eigen's headers counted as
# _eigen_bytes (parsing <Eigen/Core> costs about as much as 150 kB of onestone's headers).
set(_eigen_bytes 150000)

# The bases: their own graph (base included) and its size; bases the graph does not know are
# ignored (a renamed header only costs speed).
set(_known_bases "")
foreach(_b IN LISTS _bases)
  if(NOT "${_b}" IN_LIST _headers)
    message(STATUS "check_headers: base ${_b} is not a checked header; ignored")
    continue()
  endif()
  set("_with_${_b}" ${_closure_${_b}} "${_b}")
  set(_bytes 0)
  if("${_b}" IN_LIST _eigen_reached)
    set(_bytes ${_eigen_bytes})
  endif()
  foreach(_d IN LISTS _with_${_b})
    math(EXPR _bytes "${_bytes} + ${_size_${_d}}")
  endforeach()
  set("_bytes_${_b}" ${_bytes})
  list(APPEND _known_bases "${_b}")
endforeach()

# For each header: its base (if any), and an estimate of its cost (bytes parsed beyond the
# precompiled part; Eigen counted as a constant).
set(_used_bases "")
set(_by_cost "")
set(_n_native 0)
foreach(_h IN LISTS _headers)
  set(_graph ${_closure_${_h}} "${_h}")
  # The compiler of this header's check; with FAST_CXX, the precompiled headers are FAST_CXX's,
  # so a header checked with CXX gets none.
  set(_pch_here ${_use_pch})
  set("_cxx_of_${_h}" "${CXX}")
  set("_native_${_h}" TRUE)
  if(_fast_cxx)
    if("${_h}" IN_LIST _specific)
      set(_pch_here FALSE)
      math(EXPR _n_native "${_n_native} + 1")
    else()
      set("_cxx_of_${_h}" "${_fast_cxx}")
      set("_native_${_h}" FALSE)
    endif()
  endif()
  # Headers included late by a file of this TU: no base may contain them.
  set(_late_here "")
  foreach(_y IN LISTS _graph)
    list(APPEND _late_here ${_late_${_y}})
  endforeach()
  set(_base "")
  set(_base_bytes 0)
  if(_pch_here AND "${_h}" IN_LIST _eigen_reached)
    set(_base_bytes ${_eigen_bytes})  # the precompiled <Eigen/Core> (no base)
  endif()
  if(_pch_here)
    foreach(_b IN LISTS _known_bases)
      if(_b STREQUAL _h OR NOT "${_b}" IN_LIST _closure_${_h})
        continue()
      endif()
      set(_ok TRUE)
      foreach(_z IN LISTS _late_here)
        if("${_z}" IN_LIST _with_${_b})
          set(_ok FALSE)
          break()
        endif()
      endforeach()
      if(_ok AND _bytes_${_b} GREATER _base_bytes)
        set(_base "${_b}")
        set(_base_bytes ${_bytes_${_b}})
      endif()
    endforeach()
  endif()
  set("_base_of_${_h}" "${_base}")
  if(_base AND NOT "${_base}" IN_LIST _used_bases)
    list(APPEND _used_bases "${_base}")
  endif()
  set(_bytes 20000)
  if("${_h}" IN_LIST _eigen_reached)
    math(EXPR _bytes "${_bytes} + ${_eigen_bytes}")
  endif()
  foreach(_d IN LISTS _graph)
    math(EXPR _bytes "${_bytes} + ${_size_${_d}}")
  endforeach()
  math(EXPR _bytes "${_bytes} - ${_base_bytes}")
  string(LENGTH "${_bytes}" _len)
  math(EXPR _len "12 - ${_len}")
  string(REPEAT "0" ${_len} _pad)
  list(APPEND _by_cost "${_pad}${_bytes}=${_h}")
endforeach()

# ---------------------------------------------------------------------------------------------
# Precompiled headers, built with the check's own flags (GCC looks for <name>.gch, Clang for
# <name>.pch next to the header given to -include), two at a time. One that fails to build is
# not used (the header's own check then reports why).
# ---------------------------------------------------------------------------------------------
set(_eigen_pch "")
set(_pch_jobs "")
set(_pch_cxx "${CXX}")
set(_pch_flags ${_flags})
if(_fast_cxx)
  set(_pch_cxx "${_fast_cxx}")
  set(_pch_flags ${_fast_flags})
endif()
if(_use_pch)
  execute_process(COMMAND "${_pch_cxx}" --version OUTPUT_VARIABLE _cxx_version ERROR_QUIET)
  set(_pch_ext ".gch")
  if(_cxx_version MATCHES "clang")
    set(_pch_ext ".pch")
  endif()
  set(_build_flags ${_pch_flags})
  list(REMOVE_ITEM _build_flags -fsyntax-only)
  set(_i 0)
  foreach(_name IN LISTS _used_bases ITEMS "<Eigen/Core>")
    set(_hdr "${WORK_DIR}/pch/pch_${_i}.hpp")
    if(_name STREQUAL "<Eigen/Core>")
      file(WRITE "${_hdr}" "#include <Eigen/Core>\n")
      set(_eigen_hdr "${_hdr}")
    else()
      file(WRITE "${_hdr}" "#include <${_name}>\n")
      set("_pch_hdr_${_name}" "${_hdr}")
    endif()
    list(APPEND _pch_jobs "${_hdr}")
    math(EXPR _i "${_i} + 1")
  endforeach()
  set(_pch_ok "")
  while(_pch_jobs)
    list(POP_FRONT _pch_jobs _a)
    set(_cmds COMMAND "${_pch_cxx}" ${_build_flags} -x c++-header "${_a}" -o "${_a}${_pch_ext}")
    set(_pair "${_a}")
    if(_pch_jobs)
      list(POP_FRONT _pch_jobs _b)
      list(APPEND _cmds COMMAND "${_pch_cxx}" ${_build_flags} -x c++-header "${_b}" -o "${_b}${_pch_ext}")
      list(APPEND _pair "${_b}")
    endif()
    execute_process(${_cmds} RESULTS_VARIABLE _results OUTPUT_QUIET ERROR_QUIET)
    foreach(_hdr _r IN ZIP_LISTS _pair _results)
      if(_r STREQUAL "0")
        list(APPEND _pch_ok "${_hdr}")
      endif()
    endforeach()
  endwhile()
  if("${_eigen_hdr}" IN_LIST _pch_ok)
    set(_eigen_pch "${_eigen_hdr}")
  else()
    message(STATUS "The precompiled <Eigen/Core> did not build: headers without a base are checked plainly")
  endif()
endif()

# The flags for one header without a precompiled header: the build compiler's (with
# EXTRA_FLAGS) or FAST_CXX's.
macro(plain_flags _out _header)
  if(_native_${_header})
    set(${_out} ${_flags})
  else()
    set(${_out} ${_fast_flags})
  endif()
endmacro()

# The flags for one header: the precompiled base, else the precompiled <Eigen/Core> when its
# graph reaches Eigen, else none (always none for a header checked with CXX when the precompiled
# headers are FAST_CXX's).
macro(header_flags _out _header)
  plain_flags(${_out} "${_header}")
  set(_hb "${_base_of_${_header}}")
  if(_fast_cxx AND _native_${_header})
    # no precompiled header
  elseif(_hb AND "${_pch_hdr_${_hb}}" IN_LIST _pch_ok)
    list(APPEND ${_out} -include "${_pch_hdr_${_hb}}")
  elseif(_eigen_pch AND "${_header}" IN_LIST _eigen_reached)
    list(APPEND ${_out} -include "${_eigen_pch}")
  endif()
endmacro()

# ---------------------------------------------------------------------------------------------
# Two lanes of about equal estimated cost (longest first, each to the lighter lane), each a
# CMake script that compiles its headers one after the other and lists the failures.
# ---------------------------------------------------------------------------------------------
list(SORT _by_cost COMPARE NATURAL ORDER DESCENDING)
set(_lane_cost_0 0)
set(_lane_cost_1 0)
foreach(_lane IN ITEMS 0 1)
  set(_script_${_lane} "")
endforeach()
foreach(_entry IN LISTS _by_cost)
  string(REGEX MATCH "^0*([0-9]+)=(.*)$" _m "${_entry}")
  set(_cost "${CMAKE_MATCH_1}")
  set(_h "${CMAKE_MATCH_2}")
  set(_lane 0)
  if(_lane_cost_1 LESS _lane_cost_0)
    set(_lane 1)
  endif()
  math(EXPR _lane_cost_${_lane} "${_lane_cost_${_lane}} + ${_cost}")
  string(REGEX REPLACE "\\.hpp$" ".cpp" _tu "${WORK_DIR}/${_h}")
  file(WRITE "${_tu}" "#include <${_h}>\n#include <${_h}>\n")
  header_flags(_hf "${_h}")
  set(_args "")
  foreach(_a IN LISTS _hf)
    string(APPEND _args " [==[${_a}]==]")
  endforeach()
  string(APPEND _script_${_lane}
    "execute_process(COMMAND [==[${_cxx_of_${_h}}]==]${_args} [==[${_tu}]==] RESULT_VARIABLE _r OUTPUT_QUIET ERROR_QUIET)\n"
    "if(NOT _r STREQUAL \"0\")\n  file(APPEND [==[${WORK_DIR}/failed.txt]==] [==[${_h}\n]==])\nendif()\n")
endforeach()
file(WRITE "${WORK_DIR}/failed.txt" "")
file(WRITE "${WORK_DIR}/lane_0.cmake" "${_script_0}")
file(WRITE "${WORK_DIR}/lane_1.cmake" "${_script_1}")

list(LENGTH _used_bases _n_bases)
list(LENGTH _eigen_reached _n_eigen)
if(_fast_cxx)
  message(STATUS "Checking ${_count} headers for self-containment with ${_fast_cxx} "
                 "(${_n_bases} precompiled bases) and ${_n_native} of them, with OpenMP or "
                 "compiler-specific code, with ${CXX}")
else()
  message(STATUS "Checking ${_count} headers for self-containment with ${CXX} "
                 "(${_n_bases} precompiled bases)")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" -P "${WORK_DIR}/lane_0.cmake"
  COMMAND "${CMAKE_COMMAND}" -P "${WORK_DIR}/lane_1.cmake"
  RESULTS_VARIABLE _lane_results)
if(NOT _lane_results STREQUAL "0;0")
  message(FATAL_ERROR "check_headers.cmake: a lane of the check failed to run (${_lane_results})")
endif()

file(STRINGS "${WORK_DIR}/failed.txt" _failed)
foreach(_h IN LISTS _failed)
  string(REGEX REPLACE "\\.hpp$" ".cpp" _t "${WORK_DIR}/${_h}")
  # Re-run alone and without any precompiled header to get readable diagnostics.
  set(_hc "${_cxx_of_${_h}}")
  plain_flags(_pl "${_h}")
  execute_process(
    COMMAND "${_hc}" ${_pl} "${_t}"
    RESULT_VARIABLE _rr
    OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(_rr STREQUAL "0")
    # Only with the precompiled header first: still a failure (the header depends on order).
    header_flags(_fp "${_h}")
    execute_process(COMMAND "${_hc}" ${_fp} "${_t}" OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
    message("---- ${_h} compiles on its own with ${_hc} but not after its precompiled header:\n${_out}")
  else()
    message("---- ${_h} does not compile on its own with ${_hc}:\n${_out}")
  endif()
endforeach()

if(_failed)
  list(LENGTH _failed _nfailed)
  list(JOIN _failed "\n  " _failed_list)
  message(FATAL_ERROR "${_nfailed} of ${_count} headers are not self-contained:\n  ${_failed_list}")
endif()
message(STATUS "All ${_count} headers are self-contained (${_n_bases} precompiled bases; "
               "${_n_eigen} of the headers and .inc files reach Eigen)")
