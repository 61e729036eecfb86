#include "phigate/crypto/secret.h"

#include <openssl/crypto.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace phigate::crypto {

void SecureWipe(void* p, size_t n) { OPENSSL_cleanse(p, n); }

Result<SecretBytes> ReadSecretFile(const std::string& path, std::string_view what) {
  const std::string name(what);
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    return absl::NotFoundError(absl::StrCat(name, " cannot be opened"));
  }
  if (!std::filesystem::is_regular_file(st)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not a regular file"));
  }
  using std::filesystem::perms;
  if ((st.permissions() & (perms::group_all | perms::others_all)) != perms::none) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is accessible to other users: chmod 600 it"));
  }
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is too large for a key"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(name, " cannot be opened"));
  return SecretBytes(
      std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

}  // namespace phigate::crypto
