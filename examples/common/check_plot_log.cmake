# Runs scripts/plot_log.py on a small Trainer log and checks that the PNG charts appear:
#   cmake -DPYTHON=<python3> -DSCRIPT=<plot_log.py> -DLOG=<log> -DOUT=<prefix>
#         "-DARGS=<more args>" "-DCHARTS=loss;metrics;..." -P check_plot_log.cmake
# Used by the test scripts/plot_log/* in examples/CMakeLists.txt.
foreach(chart IN LISTS CHARTS)
  file(REMOVE "${OUT}_${chart}.png")
endforeach()
get_filename_component(dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${PYTHON}" "${SCRIPT}" "${LOG}" --out "${OUT}" ${args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "plot_log.py exited with ${rc}:\n${out}${err}")
endif()
foreach(chart IN LISTS CHARTS)
  set(png "${OUT}_${chart}.png")
  if(NOT EXISTS "${png}")
    message(FATAL_ERROR "plot_log.py did not write ${png}:\n${out}${err}")
  endif()
  file(READ "${png}" magic LIMIT 8 HEX)
  if(NOT magic STREQUAL "89504e470d0a1a0a")
    message(FATAL_ERROR "${png} is not a PNG file")
  endif()
endforeach()
message(STATUS "${out}")
