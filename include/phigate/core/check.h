// PHIGATE_CHECK: an always-on assertion for our own invariants (Envoy's
// RELEASE_ASSERT). Never use it for anything untrusted input can cause; return
// a Status instead. The message must not hold PHI.
#ifndef PHIGATE_CORE_CHECK_H_
#define PHIGATE_CORE_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define PHIGATE_CHECK(cond, msg)                                                               \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: PHIGATE_CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, \
                   msg);                                                                       \
      std::abort();                                                                            \
    }                                                                                          \
  } while (false)

#endif  // PHIGATE_CORE_CHECK_H_
