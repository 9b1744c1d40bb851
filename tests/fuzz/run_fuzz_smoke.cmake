# Runs a libFuzzer binary for a bounded time over a fresh copy of its seeds.
# Usage: cmake -DFUZZER=bin -DWORK_DIR=dir "-DSEED_DIRS=a;b" -DDICTIONARY=file
#              -DSECONDS=60 -P run_fuzz_smoke.cmake
foreach(var FUZZER WORK_DIR SEED_DIRS DICTIONARY SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzz_smoke.cmake: ${var} is not set")
  endif()
endforeach()

set(corpus ${WORK_DIR}/corpus)
set(artifacts ${WORK_DIR}/artifacts)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${corpus} ${artifacts})
foreach(dir IN LISTS SEED_DIRS)
  file(GLOB seeds LIST_DIRECTORIES false ${dir}/*)
  if(NOT seeds)
    message(FATAL_ERROR "no seeds in ${dir}")
  endif()
  file(COPY ${seeds} DESTINATION ${corpus})
endforeach()

execute_process(
  COMMAND ${FUZZER} -seed=1 -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
          -dict=${DICTIONARY} -artifact_prefix=${artifacts}/ ${corpus}
  RESULT_VARIABLE result)
file(GLOB crashes ${artifacts}/*)
if(NOT result EQUAL 0 OR crashes)
  message(FATAL_ERROR "${FUZZER} failed (exit ${result}); reproducers: ${crashes}")
endif()
