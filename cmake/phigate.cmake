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
# PHIGATE_SANITIZE: ON/TRUE/YES/Y/1 means address,undefined; anything else is
# passed as -fsanitize=<value> (address,undefined; thread; ...) once the
# compiler has built and linked a test program with it, so a value it does not
# know stops the configure step instead of every compile.
set(PHIGATE_SANITIZERS "")
if(PHIGATE_SANITIZE)
  string(TOUPPER "${PHIGATE_SANITIZE}" _phigate_san_upper)
  if(_phigate_san_upper MATCHES "^(ON|TRUE|YES|Y|1)$")
    set(PHIGATE_SANITIZERS "address,undefined")
  else()
    set(PHIGATE_SANITIZERS "${PHIGATE_SANITIZE}")
  endif()
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=${PHIGATE_SANITIZERS}")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=${PHIGATE_SANITIZERS}")
  set(CMAKE_REQUIRED_QUIET ON)
  # The result is cached under a name that holds the value, so a new value is checked anew.
  string(MAKE_C_IDENTIFIER "PHIGATE_SANITIZE_OK_${PHIGATE_SANITIZERS}" _phigate_san_var)
  check_cxx_source_compiles("int main() { return 0; }" ${_phigate_san_var})
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  unset(CMAKE_REQUIRED_QUIET)
  if(NOT ${_phigate_san_var})
    message(FATAL_ERROR
      "PHIGATE_SANITIZE=\"${PHIGATE_SANITIZE}\": the compiler cannot build with "
      "-fsanitize=${PHIGATE_SANITIZERS}. Use ON (address,undefined), OFF, or -fsanitize= names "
      "separated by commas, e.g. address,undefined or thread.")
  endif()
  message(STATUS "Sanitizers: ${PHIGATE_SANITIZERS}")
endif()
if(PHIGATE_SANITIZERS)
  add_compile_options(-fsanitize=${PHIGATE_SANITIZERS} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${PHIGATE_SANITIZERS})
endif()
# Boost 1.74 (Debian 12) turns on Asio's C++20 coroutines (net::awaitable, the
# gateway's) for gcc only: with clang it looks for the Coroutines TS header,
# which libstdc++ does not have. clang 14 implements C++20 coroutines, so the
# gateway builds with clang once Asio is told to use <coroutine>; its
# awaitable.hpp also uses std::exchange without including <utility>. UBSan's
# `function` check cannot be emitted into coroutine functions by clang 14
# ("Cannot represent a difference across sections"): PHIGATE_NO_FUNCTION_CHECK
# leaves it out, and only the gateway and what links it (the coroutines' code)
# use it (src/gateway/CMakeLists.txt); every other target keeps the check.
set(PHIGATE_NO_FUNCTION_CHECK "")
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_definitions(BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-includeutility>)
  if(PHIGATE_SANITIZERS MATCHES "undefined")
    set(PHIGATE_NO_FUNCTION_CHECK -fno-sanitize=function)
  endif()
endif()

# phigate_cc_library(NAME phigate_x SRCS a.cc b.cc DEPS phigate_core ...)
function(phigate_cc_library)
  cmake_parse_arguments(P "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${P_NAME} STATIC ${P_SRCS})
  # Installed, a library's users see include/ only (its headers include no
  # src/ header); in the build tree src/ too, for the tests.
  target_include_directories(${P_NAME} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${P_NAME} PUBLIC ${P_DEPS} PRIVATE ${P_PRIVATE_DEPS})
  target_compile_options(${P_NAME} PRIVATE ${PHIGATE_WARNINGS})
  # Exported as phigate::<module> (phigate::detect, ...; docs/install.md).
  string(REGEX REPLACE "^phigate_" "" _phigate_export_name ${P_NAME})
  set_target_properties(${P_NAME} PROPERTIES EXPORT_NAME ${_phigate_export_name})
  set_property(GLOBAL APPEND PROPERTY PHIGATE_LIBRARIES ${P_NAME})
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
