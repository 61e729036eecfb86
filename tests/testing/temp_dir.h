// A fresh, empty folder under the system's temporary directory, removed with
// everything in it when the object goes out of scope. Unique per process and
// object, so tests running side by side (ctest -j) do not share one.
#ifndef PHIGATE_TESTS_TESTING_TEMP_DIR_H_
#define PHIGATE_TESTS_TESTING_TEMP_DIR_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace phigate::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view stem = "phigate_test") {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            (std::string(stem) + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // `name` inside the folder.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace phigate::testing

#endif  // PHIGATE_TESTS_TESTING_TEMP_DIR_H_
