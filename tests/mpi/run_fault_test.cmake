# ctest driver of a fault test: runs COMMAND (mpiexec ... mpi_fault <mode>, "|"-separated) and passes
# when the job ends by itself within SECONDS with exit status EXPECT_STATUS (or any non-zero status
# when EXPECT_STATUS is empty) and its output matches EXPECT_OUTPUT (a regular expression: the rank
# that failed). A job that takes longer fails the test (a hang); COMMAND should bound the job itself
# (Open MPI: mpirun --timeout, which ends every rank); 20 s later this script kills mpiexec.
# Inputs: -DCOMMAND=a|b|c -DSECONDS=<n> [-DEXPECT_STATUS=<n>] [-DEXPECT_OUTPUT=<regex>]
string(REPLACE "|" ";" command "${COMMAND}")
math(EXPR limit "${SECONDS} + 20")
string(TIMESTAMP start "%s" UTC)
execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT ${limit})
string(TIMESTAMP end "%s" UTC)
math(EXPR elapsed "${end} - ${start}")
set(output "${out}${err}")
message(STATUS "exit status: ${status} after about ${elapsed} s\n${output}")
if(NOT status MATCHES "^[0-9]+$" OR elapsed GREATER SECONDS)
  message(FATAL_ERROR "the job did not end by itself within ${SECONDS} s (${status}): a hang")
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "the job ended with status 0 although a rank failed")
endif()
if(NOT "${EXPECT_STATUS}" STREQUAL "" AND NOT status EQUAL EXPECT_STATUS)
  message(FATAL_ERROR "the job ended with status ${status}, expected ${EXPECT_STATUS}")
endif()
if(NOT "${EXPECT_OUTPUT}" STREQUAL "" AND NOT output MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "the job's output does not match \"${EXPECT_OUTPUT}\"")
endif()
