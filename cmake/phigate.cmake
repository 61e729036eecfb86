# Helpers in the manner of Abseil's absl_cc_library()/absl_cc_test().
set(PHIGATE_WARNINGS -Wall -Wextra -Wshadow -Wconversion -Werror=unused-result
    -Wno-missing-field-initializers)
# GCC 12 reports false -Wrestrict positives inside std::string at -O3 (GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND PHIGATE_WARNINGS -Wno-restrict)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # clang's -Wconversion also turns on -Wsign-conversion, which gcc's does not
  # for C++; keep the two compilers' warning sets the same.
  list(APPEND PHIGATE_WARNINGS -Wthread-safety -Wno-sign-conversion)
endif()
if(PHIGATE_WERROR)
  list(APPEND PHIGATE_WARNINGS -Werror)
endif()
# PHIGATE_SANITIZE: ON/TRUE/YES/Y/1 means address,undefined; otherwise a list of
# -fsanitize= names separated by commas (address,undefined; thread; ...). Any
# other value stops the configure step rather than reaching the compiler.
set(PHIGATE_SANITIZE_KNOWN
    address hwaddress kernel-address kernel-hwaddress pointer-compare pointer-subtract
    thread leak memory dataflow safe-stack shadow-call-stack cfi kcfi fuzzer fuzzer-no-link
    undefined integer nullability implicit-conversion local-bounds
    alignment bool bounds bounds-strict builtin enum float-cast-overflow float-divide-by-zero
    function implicit-integer-sign-change implicit-signed-integer-truncation
    implicit-unsigned-integer-truncation integer-divide-by-zero nonnull-attribute null
    nullability-arg nullability-assign nullability-return object-size pointer-overflow return
    returns-nonnull-attribute shift shift-base shift-exponent signed-integer-overflow
    unreachable unsigned-integer-overflow unsigned-shift-base vla-bound vptr)
set(PHIGATE_SANITIZERS "")
if(PHIGATE_SANITIZE)
  string(TOUPPER "${PHIGATE_SANITIZE}" _phigate_san_upper)
  if(_phigate_san_upper MATCHES "^(ON|TRUE|YES|Y|1)$")
    set(PHIGATE_SANITIZERS "address,undefined")
  else()
    string(REPLACE "," ";" _phigate_san_list "${PHIGATE_SANITIZE}")
    foreach(_phigate_san IN LISTS _phigate_san_list)
      if(NOT _phigate_san IN_LIST PHIGATE_SANITIZE_KNOWN)
        list(JOIN PHIGATE_SANITIZE_KNOWN ", " _phigate_san_known)
        message(FATAL_ERROR
          "PHIGATE_SANITIZE=\"${PHIGATE_SANITIZE}\": \"${_phigate_san}\" is not a sanitizer name. "
          "Use ON (address,undefined), OFF, or -fsanitize= names separated by commas "
          "(e.g. address,undefined or thread) from: ${_phigate_san_known}")
      endif()
    endforeach()
    list(JOIN _phigate_san_list "," PHIGATE_SANITIZERS)
  endif()
  message(STATUS "Sanitizers: ${PHIGATE_SANITIZERS}")
endif()
if(PHIGATE_SANITIZERS)
  add_compile_options(-fsanitize=${PHIGATE_SANITIZERS} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${PHIGATE_SANITIZERS})
endif()

# phigate_cc_library(NAME phigate_x SRCS a.cc b.cc DEPS phigate_core ...)
function(phigate_cc_library)
  cmake_parse_arguments(P "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${P_NAME} STATIC ${P_SRCS})
  target_include_directories(${P_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
  target_link_libraries(${P_NAME} PUBLIC ${P_DEPS} PRIVATE ${P_PRIVATE_DEPS})
  target_compile_options(${P_NAME} PRIVATE ${PHIGATE_WARNINGS})
endfunction()

# phigate_cc_test(NAME x_test SRCS x_test.cc DEPS phigate_x [LABELS slow])
function(phigate_cc_test)
  cmake_parse_arguments(P "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${P_NAME} ${P_SRCS})
  target_link_libraries(${P_NAME} PRIVATE ${P_DEPS} phigate_testing GTest::gmock GTest::gtest_main)
  target_compile_options(${P_NAME} PRIVATE ${PHIGATE_WARNINGS})
  add_test(NAME ${P_NAME} COMMAND ${P_NAME})
  set_tests_properties(${P_NAME} PROPERTIES
    ENVIRONMENT "PHIGATE_SOURCE_DIR=${PROJECT_SOURCE_DIR};PHIGATE_BINARY_DIR=${PROJECT_BINARY_DIR}")
  if(P_LABELS)
    set_tests_properties(${P_NAME} PROPERTIES LABELS "${P_LABELS}")
  endif()
  if(P_TIMEOUT)
    set_tests_properties(${P_NAME} PROPERTIES TIMEOUT ${P_TIMEOUT})
  endif()
endfunction()
