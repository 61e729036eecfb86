// The build-time generators' one way to write their output: through a
// temporary file and a rename, so an interrupted build never leaves a
// truncated file behind.
#ifndef PHIGATE_SRC_DETECT_GEN_WRITE_FILE_H_
#define PHIGATE_SRC_DETECT_GEN_WRITE_FILE_H_

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

namespace phigate::detect::gen {

// Writes `bytes` to `path`; false, with a message naming `tool` on stderr,
// when it cannot.
inline bool WriteFileAtomically(const char* tool, const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f.good()) {
      std::fprintf(stderr, "%s: cannot write %s\n", tool, tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "%s: cannot rename %s\n", tool, tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace phigate::detect::gen

#endif  // PHIGATE_SRC_DETECT_GEN_WRITE_FILE_H_
